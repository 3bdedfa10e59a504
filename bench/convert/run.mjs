#!/usr/bin/env node
// Conversion benchmark: the seed job, MUR-like NetCDF-4 -> Zarr v2 float64 (analysed_sst and
// sea_ice_fraction, 4096 x 4096 chunks, zstd level 1), by three sides on the same input:
//   - the notebook pipeline (xarray + rioxarray + zarr-python, one core): bench/peers/peer_xarray_v2.py
//   - the careful user's pipeline (the same with dask chunks aligned to the output and dask's
//     threads on both cores): bench/peers/peer_xarray_dask_v2.py, the peer to beat
//   - `geozarr convert --zarr-format 2 --unpack float64` writing the same store
// The three alternate round by round (a warm-up round, then RUNS timed rounds, under GNU time):
// medians reported, and geozarr's ratio to each peer per round. geozarr's other outputs (default
// packed v2 and v3, v3 float64, --multiscales, zarr-to-zarr) run once after a warm-up. The floor
// (bench/limits/run.mjs, what the codecs and the decode loop alone cost) is read from
// bench/results/limits-<size>.json when present and geozarr's CPU seconds reported against it.
// Usage: node bench/convert/run.mjs [--size med|full|both] [--runs 3] [--quick] [--direct]
//   --quick   only xarray + dask against geozarr's same output
//   --direct  geozarr's same output also with GEOZARR_DIRECT_IO=1, in the same alternation
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DATA, du, median, PY, ROOT, runJson, save, timed } from "../lib.mjs";

const argv = process.argv;
const opt = (n, d) => (argv.includes(n) ? argv[argv.indexOf(n) + 1] : d);
const runs = Number(opt("--runs", 3));
const sizes = opt("--size", "both") === "both" ? ["med", "full"] : [opt("--size", "med")];
// --quick: only xarray + dask against geozarr's same output (no notebook, no other configurations).
const quick = argv.includes("--quick");
// --direct: geozarr's same output also with GEOZARR_DIRECT_IO=1 (O_DIRECT chunk writes), alternating too.
const direct = argv.includes("--direct");
const OUT = join(DATA, "out");
const geozarr = join(ROOT, "bin", "geozarr.js");
const vars = "analysed_sst,sea_ice_fraction";

const configs = [
  {
    name: "xarray notebook v2 float64",
    cmd: (i, o) => [PY, [join(ROOT, "bench/peers/peer_xarray_v2.py"), i, o]],
  },
  {
    name: "xarray + dask v2 float64",
    cmd: (i, o) => [PY, [join(ROOT, "bench/peers/peer_xarray_dask_v2.py"), i, o]],
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
  {
    name: "geozarr v3 --multiscales",
    cmd: (i, o) => [process.execPath, [geozarr, "convert", i, o, "--multiscales", "--variables", vars]],
  },
  {
    // Zarr to Zarr: the notebook's own v2 store re-encoded as v3 (its output of the same input).
    name: "geozarr zarr-to-zarr v2 -> v3",
    input: (size) => outOf(size, { name: "xarray notebook v2 float64" }),
    cmd: (i, o) => [process.execPath, [geozarr, "convert", i, o]],
  },
];

const results = [];
const outOf = (size, c) => join(OUT, `${size}-${c.name.replace(/\W+/g, "_")}.zarr`);

/** One timed run of a configuration (its output removed first). */
function runOnce(size, input, c, i) {
  const out = outOf(size, c);
  rmSync(out, { recursive: true, force: true });
  const [cmd, args] = c.cmd(input, out);
  const t = timed(cmd, args, { env: c.env ?? {} });
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
    // User and kernel time apart: the codecs run in user space; the kernel's share is mostly
    // writing the output into the page cache and first touches of memory (outside the floor).
    user: median(rows.map((r) => r.user)),
    sys: median(rows.map((r) => r.sys)),
    rssMB: median(rows.map((r) => r.rssMB)),
    outBytes: out.bytes,
    outFiles: out.files,
  };
}

for (const size of sizes) {
  const input = join(DATA, size === "full" ? "mur_full.nc" : "mur_med.nc");
  // The two peers and geozarr's same output alternate, round by round (a warm-up round first), so
  // a slow or fast spell of the shared host falls on all three; the ratios are also taken per round.
  const directSide = {
    ...configs[2],
    name: "geozarr same output, GEOZARR_DIRECT_IO=1",
    env: { GEOZARR_DIRECT_IO: "1" },
  };
  const sides = [...(quick ? configs.slice(1, 3) : configs.slice(0, 3)), ...(direct ? [directSide] : [])];
  const rows = sides.map(() => []);
  for (let i = 0; i <= runs; i++) {
    const times = sides.map((c) => runOnce(size, input, c, i));
    // Round 0 warms the page cache and the machine's memory.
    if (i > 0) for (const [k, t] of times.entries()) rows[k].push(t);
  }
  const [notebook, dask, ours, oursDirect] = quick ? [null, ...rows] : rows;
  if (notebook) results.push(summary(size, sides[0], notebook));
  results.push(summary(size, configs[1], dask), {
    ...summary(size, configs[2], ours),
    roundRatios: notebook ? ours.map((t, i) => t.wall / notebook[i].wall) : null,
    daskRoundRatios: ours.map((t, i) => t.wall / dask[i].wall),
  });
  if (oursDirect)
    results.push({
      ...summary(size, directSide, oursDirect),
      roundRatios: notebook ? oursDirect.map((t, i) => t.wall / notebook[i].wall) : null,
      daskRoundRatios: oursDirect.map((t, i) => t.wall / dask[i].wall),
    });
  for (const c of quick ? [] : configs.slice(3)) {
    const src = c.input ? c.input(size) : input;
    const r = [0, 1].map((i) => runOnce(size, src, c, i)).slice(1);
    results.push(summary(size, c, r));
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
    outOf(size, configs[quick ? 1 : 0]),
    outOf(size, configs[2]),
  ]);
  results.push({ size, config: "values equal (zarr-python)", same });
}

const floorOf = (size) => {
  const f = join(ROOT, "bench", "results", `limits-${size}.json`);
  return existsSync(f) ? JSON.parse(readFileSync(f, "utf8")) : null;
};
const peer = (size, prefix) => results.find((r) => r.size === size && r.config.startsWith(prefix));
for (const r of results) {
  if (!r.wall) {
    console.log(`${r.size}  ${r.config}: ${JSON.stringify(r.same)}`);
    continue;
  }
  const nb = peer(r.size, "xarray notebook");
  const x = nb ? `  ${(r.wall / nb.wall).toFixed(2)}x notebook` : "";
  const d = r.wall / peer(r.size, "xarray + dask").wall;
  console.log(
    `${r.size.padEnd(4)} ${r.config.padEnd(34)} wall ${r.wall.toFixed(1).padStart(6)} s  cpu ${r.cpu.toFixed(1).padStart(6)} s  RSS ${r.rssMB.toFixed(0).padStart(6)} MB  out ${(r.outBytes / 1e6).toFixed(0).padStart(5)} MB${x}  ${d.toFixed(2)}x dask`,
  );
  if (r.daskRoundRatios) {
    const rr = (xs) => `${xs.map((v) => v.toFixed(2)).join(" ")} (median ${median(xs).toFixed(2)}x)`;
    console.log(
      `${"".padEnd(5)}  per round${r.roundRatios ? ` vs notebook: ${rr(r.roundRatios)};` : ""} vs dask: ${rr(r.daskRoundRatios)}`,
    );
    const floor = floorOf(r.size);
    if (floor) {
      r.floor = {
        measured: floor.date,
        cpu: floor.cpuFloor,
        wall: floor.wallFloor,
        cpuRatio: r.cpu / floor.cpuFloor,
        userRatio: r.user / floor.cpuFloor,
        // Against the floor of the bytes geozarr writes (zstd streamed per chunk in slabs).
        cpuStreamed: floor.cpuFloorStreamed ?? null,
        cpuRatioStreamed: floor.cpuFloorStreamed ? r.cpu / floor.cpuFloorStreamed : null,
      };
      console.log(
        `${"".padEnd(5)}  floor ${floor.cpuFloor.toFixed(1)} CPU s (${floor.wallFloor.toFixed(1)} s on ${floor.cores} cores, measured ${floor.date}): geozarr's CPU ${r.floor.cpuRatio.toFixed(2)}x the floor (user ${r.user.toFixed(1)} s = ${r.floor.userRatio.toFixed(2)}x, kernel ${r.sys.toFixed(1)} s)${r.floor.cpuRatioStreamed ? ` (${r.floor.cpuRatioStreamed.toFixed(2)}x the streamed floor, ${r.floor.cpuStreamed.toFixed(1)} CPU s)` : ""}, wall ${(r.wall / floor.wallFloor).toFixed(2)}x`,
      );
    }
  }
}
// A --quick run is saved per size (convert-quick-med / -full): one size's does not overwrite the other's.
const saved = quick ? `convert-quick${sizes.length === 1 ? `-${sizes[0]}` : ""}` : "convert";
save(saved, { runs, quick, results });
