#!/bin/bash
# GeoTIFF peer: GDAL 3.6.2 (Debian 12 gdal-bin) GeoTIFF/COG -> Zarr v2, the classic 2-D path:
# one array per band, zstd level 1, chunks of 4096 x 4096 (what `geozarr convert` writes by
# default, v3 there; GDAL 3.6's "ZARR_V3" is the obsolete draft layout, so V2 is the comparable
# output). GDAL writes its CRS as a `_CRS` attribute and the geotransform as 1-D X/Y arrays.
# Usage: peer_gdal_geotiff.sh INPUT.tif OUTPUT.zarr
set -euo pipefail
in=$1; out=$2
rm -rf "$out"
# Whole-width swaths of 4096 rows (GDAL_SWATH_SIZE in bytes) so each output chunk is written once
# (OSGeo/gdal#11016, fixed in 3.10: compressed chunks not tiled by the source blocks are read back).
export GDAL_SWATH_SIZE=${GDAL_SWATH_SIZE:-1300000000}
export GDAL_CACHEMAX=${GDAL_CACHEMAX:-3000}
export GDAL_NUM_THREADS=${GDAL_NUM_THREADS:-ALL_CPUS}
gdal_translate -q -of Zarr -co FORMAT=ZARR_V2 -co COMPRESS=ZSTD -co ZSTD_LEVEL=1 \
  -co BLOCKSIZE=4096,4096 "$in" "$out"
