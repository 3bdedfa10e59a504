#!/usr/bin/python3
"""A SIZE x SIZE uint16 COG made with GDAL (python3-gdal) for the GeoTIFF benchmark: a smooth field
plus noise (so deflate and zstd have real work), EPSG:32633, 30 m cells, nodata 0 in one corner,
written in row swaths (bounded memory), then `gdal_translate -of COG` (DEFLATE + predictor 2,
512-pixel blocks, overviews by GDAL's default). Deterministic for the same arguments.
Usage: make_cog.py OUT.tif [--size 20000] [--compress DEFLATE]"""
import argparse
import os

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()
p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--size", type=int, default=20000)
p.add_argument("--compress", default="DEFLATE")
a = p.parse_args()
n = a.size
tmp = a.out + ".tmp.tif"
ds = gdal.GetDriverByName("GTiff").Create(tmp, n, n, 1, gdal.GDT_UInt16, ["TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512", "BIGTIFF=YES"])
ds.SetGeoTransform([300000.0, 30.0, 0.0, 5800000.0, 0.0, -30.0])
s = osr.SpatialReference()
s.ImportFromEPSG(32633)
ds.SetProjection(s.ExportToWkt())
band = ds.GetRasterBand(1)
band.SetNoDataValue(0)
x = np.arange(n)
step = 512
for r0 in range(0, n, step):
    rows = min(step, n - r0)
    y = np.arange(r0, r0 + rows)[:, None]
    rng = np.random.default_rng(r0)
    f = 20000 + 8000 * np.sin(x / 900.0)[None, :] * np.cos(y / 700.0) + 3000 * np.sin((x[None, :] + y) / 97.0)
    v = (f + rng.normal(0, 40, (rows, n))).clip(1, 65535).astype(np.uint16)
    if r0 < n // 10:
        v[:, : n // 10] = 0
    band.WriteArray(v, 0, r0)
ds = None
gdal.Translate(a.out, tmp, format="COG", creationOptions=[f"COMPRESS={a.compress}", "PREDICTOR=2", "BLOCKSIZE=512", "BIGTIFF=IF_SAFER", "NUM_THREADS=ALL_CPUS"])
os.remove(tmp)
print(a.out)
