#!/usr/bin/python3
"""GeoTIFF peer: rioxarray + dask `to_zarr`, as a careful user runs it on 2 cores: open the COG with
dask chunks aligned to the output chunks (band 1, 4096 x 4096), threaded scheduler, zstd level 1,
Zarr v2 (Debian's zarr 2.13 writes v2 only). rioxarray writes spatial_ref with the CRS and the
1-D x/y coordinates. Usage: peer_rioxarray_geotiff.py IN.tif OUT.zarr"""
import sys
import time

import dask
import numcodecs
import rioxarray

dask.config.set(scheduler="threads", num_workers=2)
t0 = time.time()
da = rioxarray.open_rasterio(sys.argv[1], chunks={"band": 1, "y": 4096, "x": 4096}, lock=False, mask_and_scale=False)
ds = da.to_dataset(name="band_data")
enc = {"band_data": {"chunks": (1, 4096, 4096), "compressor": numcodecs.Zstd(level=1)}}
ds.to_zarr(sys.argv[2], mode="w", consolidated=True, encoding=enc)
print(f"peer_rioxarray_geotiff: {time.time() - t0:.1f}s")
