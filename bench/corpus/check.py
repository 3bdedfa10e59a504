#!/usr/bin/python3
"""Compare a geozarr conversion with the reference readers (bench/corpus/run.mjs).

Usage: check.py SOURCE.nc OUTPUT.zarr
Prints one JSON line: for every variable of the output that the source has, whether xarray's
decoding of both is equal (NaN-aware, float32 tolerance); and GDAL's geotransform of the source's
first raster next to the GeoTransform our grid mapping carries.
"""
import json
import sys
import warnings

import numpy as np
import xarray as xr

warnings.simplefilter("ignore")
src_path, out_path = sys.argv[1], sys.argv[2]
res = {"vars": 0, "equal": 0, "differ": [], "reference": None, "georef": "n/a"}


def equal(a, b):
    if a.shape != b.shape:
        return False
    if a.dtype.kind in "fiub" and b.dtype.kind in "fiub":
        a = a.astype("f8")
        b = b.astype("f8")
        return bool(np.allclose(a, b, rtol=1e-6, atol=0, equal_nan=True))
    if a.dtype.kind == "M" or b.dtype.kind == "M":
        return bool(np.array_equal(a.astype("M8[ns]"), b.astype("M8[ns]"), equal_nan=True))
    return bool(np.array_equal(a, b))


try:
    src = xr.open_dataset(src_path)
except Exception as e:  # the reference itself cannot read the file
    res["reference"] = f"xarray: {type(e).__name__}: {str(e).splitlines()[0][:120] if str(e) else ''}"
    print(json.dumps(res))
    sys.exit(0)
try:
    ours = xr.open_zarr(out_path)
except Exception as e:
    res["differ"].append(f"open_zarr: {type(e).__name__}: {str(e)[:120]}")
    print(json.dumps(res))
    sys.exit(0)
for name in ours.variables:
    if name not in src.variables or name == "spatial_ref":
        continue
    res["vars"] += 1
    try:
        ok = equal(src[name].values, ours[name].values)
    except Exception as e:
        ok = False
        name = f"{name} ({type(e).__name__})"
    if ok:
        res["equal"] += 1
    else:
        res["differ"].append(name)

# Georeferencing: GDAL on the source against the GeoTransform we wrote (GDAL's order).
try:
    from osgeo import gdal

    gdal.UseExceptions()
    d = gdal.Open(src_path)
    subs = d.GetSubDatasets()
    if subs:
        d = gdal.Open(subs[0][0])
    gt = d.GetGeoTransform(can_return_null=True)
    ours_gt = None
    for v in ours.variables.values():
        if "GeoTransform" in v.attrs:
            ours_gt = [float(x) for x in str(v.attrs["GeoTransform"]).split()]
            break
    if gt and ours_gt and list(gt) != [0, 1, 0, 0, 0, 1]:
        # GDAL presents south-up NetCDF flipped: compare the extent and the absolute steps
        def extent(t, ny):
            y0, y1 = t[3], t[3] + ny * t[5]
            return [round(t[0], 3), round(abs(t[1]), 6), round(min(y0, y1), 3), round(abs(t[5]), 6)]

        ny = d.RasterYSize
        res["georef"] = "equal" if extent(gt, ny) == extent(ours_gt, ny) else f"differs: gdal {list(gt)} ours {ours_gt}"
except Exception:
    pass
print(json.dumps(res))
