#!/usr/bin/env node
// Conversion benchmark: the notebook pipeline (xarray + rioxarray + zarr-python, Zarr v2 float64,
// bench/peers/peer_xarray_v2.py) against `geozarr convert` writing the same store
// (--zarr-format 2 --unpack float64, the same two variables), side by side on the same input,
// plus geozarr's default (packed) v2 and v3 outputs and v3 unpacked.
// The peer and geozarr's same output alternate: a warm-up round, then RUNS timed rounds under GNU
// time; medians reported, and the ratio per round. The other configurations: a warm-up and one run.
// Usage: node bench/convert/run.mjs [--size med|full|both] [--runs 3]
import { rmSync } from "node:fs";
import { join } from "node:path";
import { DATA, du, median, PY, ROOT, runJson, save, timed } from "../lib.mjs";

const argv = process.argv;
const opt = (n, d) => (argv.includes(n) ? argv[argv.indexOf(n) + 1] : d);
const runs = Number(opt("--runs", 3));
const sizes = opt("--size", "both") === "both" ? ["med", "full"] : [opt("--size", "med")];
const OUT = join(DATA, "out");
const geozarr = join(ROOT, "bin", "geozarr.js");
const vars = "analysed_sst,sea_ice_fraction";

const configs = [
  {
    name: "xarray notebook v2 float64",
    cmd: (i, o) => [PY, [join(ROOT, "bench/peers/peer_xarray_v2.py"), i, o]],
  },
  {
    name: "geozarr v2 float64 (same output)",
    cmd: (i, o) => [
      process.execPath,
      [geozarr, "convert", i, o, "--zarr-format", "2", "--unpack", "float64", "--variables", vars],
    ],
  },
  {
    name: "geozarr v2 packed (default)",
    cmd: (i, o) => [process.execPath, [geozarr, "convert", i, o, "--zarr-format", "2", "--variables", vars]],
  },
  {
    name: "geozarr v3 packed (default)",
    cmd: (i, o) => [process.execPath, [geozarr, "convert", i, o, "--variables", vars]],
  },
  {
    name: "geozarr v3 float64",
    cmd: (i, o) => [process.execPath, [geozarr, "convert", i, o, "--unpack", "float64", "--variables", vars]],
  },
];

const results = [];
const outOf = (size, c) => join(OUT, `${size}-${c.name.replace(/\W+/g, "_")}.zarr`);

/** One timed run of a configuration (its output removed first). */
function runOnce(size, input, c, i) {
  const out = outOf(size, c);
  rmSync(out, { recursive: true, force: true });
  const [cmd, args] = c.cmd(input, out);
  const t = timed(cmd, args);
  console.error(`${size} ${c.name} run ${i}${i ? "" : " (warm-up)"}: ${t.wall}s ${t.rssMB.toFixed(0)} MB`);
  return t;
}

function summary(size, c, rows) {
  const out = du(outOf(size, c));
  return {
    size,
    config: c.name,
    runs: rows,
    wall: median(rows.map((r) => r.wall)),
    cpu: median(rows.map((r) => r.user + r.sys)),
    rssMB: median(rows.map((r) => r.rssMB)),
    outBytes: out.bytes,
    outFiles: out.files,
  };
}

for (const size of sizes) {
  const input = join(DATA, size === "full" ? "mur_full.nc" : "mur_med.nc");
  // The peer and geozarr's same output alternate, round by round (a warm-up round first), so a
  // slow or fast spell of the shared host falls on both; the ratio is also taken per round.
  const [peerConfig, sameConfig] = configs;
  const pair = [[], []];
  for (let i = 0; i <= runs; i++) {
    const times = [peerConfig, sameConfig].map((c) => runOnce(size, input, c, i));
    // Round 0 warms the page cache and the machine's memory.
    if (i > 0) for (const [k, t] of times.entries()) pair[k].push(t);
  }
  results.push(summary(size, peerConfig, pair[0]), {
    ...summary(size, sameConfig, pair[1]),
    roundRatios: pair[1].map((t, i) => t.wall / pair[0][i].wall),
  });
  for (const c of configs.slice(2)) {
    const rows = [0, 1].map((i) => runOnce(size, input, c, i)).slice(1);
    results.push(summary(size, c, rows));
  }
  // Same values: geozarr's float64 v2 store against the notebook's, compared by zarr-python.
  const same = runJson(PY, [
    "-c",
    `import json, sys, zarr, numpy as np
a, b = zarr.open(sys.argv[1], mode="r"), zarr.open(sys.argv[2], mode="r")
res = {}
for v in ["analysed_sst", "sea_ice_fraction"]:
    x, y = a[v], b[v]
    ok = x.shape == y.shape and x.dtype == y.dtype and x.chunks == y.chunks
    for r in range(0, x.shape[1], 4096):   # row bands, to keep memory bounded
        ok = ok and bool(np.array_equal(x[0, r:r + 4096], y[0, r:r + 4096], equal_nan=True))
    res[v] = ok
print(json.dumps(res))`,
    outOf(size, configs[0]),
    outOf(size, configs[1]),
  ]);
  results.push({ size, config: "values equal (zarr-python)", same });
}

const peer = (size) => results.find((r) => r.size === size && r.config.startsWith("xarray"));
for (const r of results) {
  if (!r.wall) {
    console.log(`${r.size}  ${r.config}: ${JSON.stringify(r.same)}`);
    continue;
  }
  const ratio = r.wall / peer(r.size).wall;
  console.log(
    `${r.size.padEnd(4)} ${r.config.padEnd(34)} wall ${r.wall.toFixed(1).padStart(6)} s  cpu ${r.cpu.toFixed(1).padStart(6)} s  RSS ${r.rssMB.toFixed(0).padStart(6)} MB  out ${(r.outBytes / 1e6).toFixed(0).padStart(5)} MB  ${ratio.toFixed(2)}x xarray`,
  );
  if (r.roundRatios)
    console.log(
      `${"".padEnd(5)}  round by round: ${r.roundRatios.map((x) => x.toFixed(2)).join(" ")} (median ${median(r.roundRatios).toFixed(2)}x)`,
    );
}
save("convert", { runs, results });
