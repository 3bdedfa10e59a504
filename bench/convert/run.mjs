#!/usr/bin/env node
// Conversion benchmark: the notebook pipeline (xarray + rioxarray + zarr-python, Zarr v2 float64,
// bench/peers/peer_xarray_v2.py) against `geozarr convert` writing the same store
// (--zarr-format 2 --unpack float64, the same two variables), side by side on the same input,
// plus geozarr's default (packed) v2 and v3 outputs and v3 unpacked.
// Each configuration: one warm-up run, then RUNS timed runs under GNU time; medians reported.
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
    peer: true,
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
    extra: true,
    cmd: (i, o) => [process.execPath, [geozarr, "convert", i, o, "--zarr-format", "2", "--variables", vars]],
  },
  {
    name: "geozarr v3 packed (default)",
    extra: true,
    cmd: (i, o) => [process.execPath, [geozarr, "convert", i, o, "--variables", vars]],
  },
  {
    name: "geozarr v3 float64",
    extra: true,
    cmd: (i, o) => [process.execPath, [geozarr, "convert", i, o, "--unpack", "float64", "--variables", vars]],
  },
];

const results = [];
for (const size of sizes) {
  const input = join(DATA, size === "full" ? "mur_full.nc" : "mur_med.nc");
  for (const c of configs) {
    const out = join(OUT, `${size}-${c.name.replace(/\W+/g, "_")}.zarr`);
    const n = c.extra ? 1 : runs;
    const rows = [];
    for (let i = 0; i <= n; i++) {
      rmSync(out, { recursive: true, force: true });
      const [cmd, args] = c.cmd(input, out);
      const t = timed(cmd, args);
      if (i > 0) rows.push(t); // run 0 warms the page cache and the machine's memory
      console.error(
        `${size} ${c.name} run ${i}${i ? "" : " (warm-up)"}: ${t.wall}s ${t.rssMB.toFixed(0)} MB`,
      );
    }
    const size_ = du(out);
    results.push({
      size,
      config: c.name,
      runs: rows,
      wall: median(rows.map((r) => r.wall)),
      cpu: median(rows.map((r) => r.user + r.sys)),
      rssMB: median(rows.map((r) => r.rssMB)),
      outBytes: size_.bytes,
      outFiles: size_.files,
    });
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
    join(OUT, `${size}-${configs[0].name.replace(/\W+/g, "_")}.zarr`),
    join(OUT, `${size}-${configs[1].name.replace(/\W+/g, "_")}.zarr`),
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
}
save("convert", { runs, results });
