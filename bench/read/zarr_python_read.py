#!/usr/bin/python3
"""Peer side of the read benchmark: zarr-python reads one chunk or a whole array, in process.

Usage: zarr_python_read.py STORE ARRAY chunk|array RUNS reuse|fresh
  reuse: read into one preallocated array (get_basic_selection(out=...)), as a loop over reads would;
  fresh: a new array per read.
Prints one JSON line: {"times": [seconds...], "bytes": n, "checksum": float}. Two untimed reads
first warm the page cache, the allocator and the codec.
"""
import json
import sys
import time

import numpy as np
import zarr

store, path, mode, runs, alloc = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
z0 = zarr.open_consolidated(store, mode="r")[path]
c = z0.chunks
# an interior chunk, (0, 1, 1) in chunk coordinates, or everything
sel = (0, slice(c[1], 2 * c[1]), slice(c[2], 2 * c[2])) if mode == "chunk" else (slice(None),) * z0.ndim
shape = (c[1], c[2]) if mode == "chunk" else z0.shape
out = np.empty(shape, dtype=z0.dtype) if alloc == "reuse" else None


def read():
    z = zarr.open_consolidated(store, mode="r")[path]
    return z.get_basic_selection(sel, out=out)


for _ in range(2):
    a = read()
times = []
for _ in range(runs):
    a = None
    t = time.perf_counter()
    a = read()
    times.append(time.perf_counter() - t)
a = out if a is None else a
print(json.dumps({"times": times, "bytes": int(a.nbytes), "checksum": float(np.nansum(a))}))
