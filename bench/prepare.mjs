#!/usr/bin/env node
// Make the benchmark inputs (deterministic; skipped when present):
//   bench/data/mur_med.nc   8999 x 18000 MUR-like NetCDF-4 (about 30 s)
//   bench/data/mur_full.nc  17999 x 36000 (about 2.5 min, 340 MB) -- only with --full
//   bench/data/med_v2_f64.zarr  the notebook pipeline's store of mur_med.nc (xarray, float64, zstd-1, 4096^2)
import { join } from "node:path";
import { DATA, ensure, PY, ROOT } from "./lib.mjs";

const gen = join(ROOT, "scripts", "fixtures", "make_mur_like.py");
const med = ensure(join(DATA, "mur_med.nc"), PY, [
  gen,
  join(DATA, "mur_med.nc"),
  "--step",
  "0.02",
  "--quiet",
]);
ensure(join(DATA, "med_v2_f64.zarr"), PY, [
  join(ROOT, "bench", "peers", "peer_xarray_v2.py"),
  med,
  join(DATA, "med_v2_f64.zarr"),
]);
if (process.argv.includes("--full")) {
  ensure(join(DATA, "mur_full.nc"), PY, [gen, join(DATA, "mur_full.nc"), "--step", "0.01", "--quiet"]);
}
