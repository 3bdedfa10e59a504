#!/usr/bin/python3
"""Write other tools' Zarr outputs of NetCDF files, for bench/corpus/validate.mjs.

Usage: peers.py MANIFEST.json
MANIFEST lists {"source": file, "xarray": out, "rioxarray": out, "crs": CRS or null}. For each
file xarray (Debian's, 2023.01) opens, writes `xr.open_dataset(source).to_zarr(xarray, mode="w")`
(Zarr v2, consolidated), and rioxarray's way: `xr.open_dataset(source, decode_coords="all")` (the
grid mapping in encoding, as rioxarray wants it), the spatial dimensions set when they are
lat/lon, then `rio.write_crs` (the CRS rioxarray finds, else `crs`, the one geozarr found; none
when neither knows one) and `to_zarr`. Prints one JSON line: per source, what happened to each
output ("written", or why not).
"""
import json
import sys
import warnings

import xarray as xr

warnings.simplefilter("ignore")
try:
    import rioxarray  # noqa: F401  (registers the .rio accessor)
except ImportError:
    rioxarray = None


def why(e):
    text = str(e).splitlines()[0][:140] if str(e) else ""
    return f"{type(e).__name__}: {text}"


out = {}
for case in json.load(open(sys.argv[1])):
    res = {}
    out[case["source"]] = res
    try:
        ds = xr.open_dataset(case["source"])
    except Exception as e:
        res["xarray"] = res["rioxarray"] = f"xarray cannot open the source ({why(e)})"
        continue
    try:
        ds.to_zarr(case["xarray"], mode="w", consolidated=True)
        res["xarray"] = "written"
    except Exception as e:
        res["xarray"] = f"to_zarr failed ({why(e)})"
    if rioxarray is None:
        res["rioxarray"] = "rioxarray not installed"
        continue
    try:
        rds = xr.open_dataset(case["source"], decode_coords="all")
        try:
            rds.rio.x_dim
        except Exception:
            for y, x in [("lat", "lon"), ("latitude", "longitude"), ("Latitude", "Longitude")]:
                if y in rds.dims and x in rds.dims:
                    rds = rds.rio.set_spatial_dims(x_dim=x, y_dim=y)
                    break
        try:
            crs = rds.rio.crs
        except Exception:
            crs = None
        crs = crs or case.get("crs")
        if crs:
            rds = rds.rio.write_crs(crs)
        rds.to_zarr(case["rioxarray"], mode="w", consolidated=True)
        res["rioxarray"] = "written" if crs else "written (no CRS known)"
        res["rioxarray_crs"] = str(crs)[:80] if crs else None
    except Exception as e:
        res["rioxarray"] = f"write_crs/to_zarr failed ({why(e)})"
print(json.dumps(out))
