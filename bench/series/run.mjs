#!/usr/bin/env node
// Time-series benchmark: N daily MUR-like granules (default 30, step 0.05: 3599 x 7200 each) into
// one Zarr v2 float64 store (analysed_sst and sea_ice_fraction, 4096 x 4096 chunks, zstd level 1):
//   - xarray: open_mfdataset(parallel=True, chunks aligned to the output) + to_zarr with dask's
//     threads on the same cores (bench/peers/peer_xarray_series.py)
//   - geozarr convert 'granules/*.nc' OUT --concat time --zarr-format 2 --unpack float64
// alternating, a warm-up round and RUNS timed rounds under GNU time, medians and the ratio per round.
// Then the cost per granule: geozarr converting one granule alone (median of RUNS) against the
// series' wall time divided by N. Values checked equal by xarray in the same run.
// Usage: node bench/series/run.mjs [--granules 30] [--step 0.05] [--runs 3]
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DATA, du, granules, median, PY, ROOT, runJson, save, timed } from "../lib.mjs";

const argv = process.argv;
const opt = (n, d) => (argv.includes(n) ? argv[argv.indexOf(n) + 1] : d);
const n = Number(opt("--granules", 30));
const step = opt("--step", "0.05");
const runs = Number(opt("--runs", 3));
const { dir, files } = granules(n, step);
const OUT = join(DATA, "out");
mkdirSync(OUT, { recursive: true });
const geozarr = join(ROOT, "bin", "geozarr.js");
const vars = "analysed_sst,sea_ice_fraction";
// The output both geozarr runs write (the series, and one granule alone): the peer's.
const enc = ["--zarr-format", "2", "--unpack", "float64", "--variables", vars];
const sides = [
  {
    name: "xarray + dask open_mfdataset",
    out: join(OUT, "series-xarray.zarr"),
    cmd: (o) => [PY, [join(ROOT, "bench/peers/peer_xarray_series.py"), o, ...files]],
  },
  {
    name: "geozarr --concat time",
    out: join(OUT, "series-geozarr.zarr"),
    cmd: (o) => [process.execPath, [geozarr, "convert", join(dir, "*.nc"), o, "--concat", "time", ...enc]],
  },
];
// --direct: the series also with GEOZARR_DIRECT_IO=1 (O_DIRECT chunk writes), in the same alternation.
if (argv.includes("--direct"))
  sides.push({
    ...sides[1],
    name: "geozarr --concat time, GEOZARR_DIRECT_IO=1",
    out: join(OUT, "series-geozarr-direct.zarr"),
    env: { GEOZARR_DIRECT_IO: "1" },
  });
const rows = sides.map(() => []);
for (let i = 0; i <= runs; i++) {
  for (const [k, s] of sides.entries()) {
    rmSync(s.out, { recursive: true, force: true });
    const [cmd, args] = s.cmd(s.out);
    const t = timed(cmd, args, { env: s.env ?? {} });
    console.error(`${s.name} run ${i}${i ? "" : " (warm-up)"}: ${t.wall}s ${t.rssMB.toFixed(0)} MB`);
    if (i > 0) rows[k].push(t);
  }
}
// One granule alone, the same options.
const one = [];
const oneOut = join(OUT, "series-one.zarr");
for (let i = 0; i <= runs; i++) {
  rmSync(oneOut, { recursive: true, force: true });
  const t = timed(process.execPath, [geozarr, "convert", files[0], oneOut, ...enc]);
  if (i > 0) one.push(t);
}
const same = runJson(PY, [
  "-c",
  `import json, sys, numpy as np, xarray as xr
a, b = xr.open_zarr(sys.argv[1]), xr.open_zarr(sys.argv[2])
res = {"time": bool(np.array_equal(a.time.values, b.time.values))}
for v in ["analysed_sst", "sea_ice_fraction"]:
    res[v] = all(bool(np.array_equal(a[v][t].values, b[v][t].values, equal_nan=True)) for t in range(a.sizes["time"]))
print(json.dumps(res))`,
  sides[0].out,
  sides[1].out,
]);
const sum = (k) => ({
  wall: median(rows[k].map((r) => r.wall)),
  cpu: median(rows[k].map((r) => r.user + r.sys)),
  user: median(rows[k].map((r) => r.user)),
  sys: median(rows[k].map((r) => r.sys)),
  rssMB: median(rows[k].map((r) => r.rssMB)),
  out: du(sides[k].out),
});
const peer = sum(0);
const ours = sum(1);
const perRound = rows[1].map((t, i) => t.wall / rows[0][i].wall);
const direct = sides[2]
  ? { name: sides[2].name, ...sum(2), perRound: rows[2].map((t, i) => t.wall / rows[0][i].wall) }
  : undefined;
const oneWall = median(one.map((t) => t.wall));
const result = {
  granules: n,
  step,
  runs,
  peer: { name: sides[0].name, ...peer },
  geozarr: { name: sides[1].name, ...ours },
  ratio: ours.wall / peer.wall,
  perRound,
  ...(direct ? { direct: { ...direct, ratio: direct.wall / peer.wall } } : {}),
  oneGranule: { wall: oneWall, rssMB: median(one.map((t) => t.rssMB)) },
  perGranuleRatio: ours.wall / n / oneWall,
  same,
};
console.log(
  `${n} granules (step ${step}): xarray + dask ${peer.wall.toFixed(1)} s ${peer.rssMB.toFixed(0)} MB; geozarr ${ours.wall.toFixed(1)} s ${ours.rssMB.toFixed(0)} MB = ${result.ratio.toFixed(2)}x (per round ${perRound.map((x) => x.toFixed(2)).join(" ")})`,
);
if (direct)
  console.log(
    `with GEOZARR_DIRECT_IO=1: ${direct.wall.toFixed(1)} s, ${direct.cpu.toFixed(1)} CPU s (kernel ${direct.sys.toFixed(1)} s against ${ours.sys.toFixed(1)} s) = ${(direct.wall / peer.wall).toFixed(2)}x (per round ${direct.perRound.map((x) => x.toFixed(2)).join(" ")})`,
  );
console.log(
  `per granule: ${(ours.wall / n).toFixed(2)} s in the series, ${oneWall.toFixed(2)} s alone = ${result.perGranuleRatio.toFixed(2)}x; values equal: ${JSON.stringify(same)}`,
);
save("series", result);
