#!/usr/bin/python3
"""The careful xarray user's time series: xr.open_mfdataset with dask chunks aligned to the output
(1, 4096, 4096), dask's threads on the machine's cores, the notebook's encoding (float64 decode,
zstd level 1, 4096 x 4096 chunks, Zarr v2), the two variables. open_mfdataset(parallel=True) opens
the files concurrently and fails with Debian's netCDF4/HDF5, which is not built thread-safe
("NetCDF: Unknown file format" on a file that opens alone), so the files are opened one after the
other (parallel=False, what a user falls back to) and the computation runs on dask's threads.
Usage: peer_xarray_series.py OUT.zarr GRANULE.nc... [--parallel]"""
import sys, time
import numcodecs, numpy as np, rioxarray, xarray as xr  # noqa: F401
import xarray.coding.variables as xcv
xcv._choose_float_dtype = lambda dtype, has_offset: np.float64
import dask
dask.config.set(scheduler="threads")
t0 = time.time()
out, files = sys.argv[1], [f for f in sys.argv[2:] if f != "--parallel"]
parallel = "--parallel" in sys.argv
ds = xr.open_mfdataset(files, combine="by_coords", parallel=parallel, chunks={"time": 1, "lat": 4096, "lon": 4096})
ds = ds[["analysed_sst", "sea_ice_fraction"]].rio.write_crs("epsg:4326")
for v in ds.data_vars:
    ds[v].attrs["grid_mapping"] = "spatial_ref"; ds[v].attrs.pop("coordinates", None)
enc = {v: {"chunks": (1, 4096, 4096), "compressor": numcodecs.Zstd(level=1)} for v in ["analysed_sst", "sea_ice_fraction"]}
ds.to_zarr(out, mode="w", consolidated=True, encoding=enc)
print(f"peer_xarray_series: {len(files)} granules in {time.time()-t0:.1f}s")
