#!/usr/bin/env node
// GeoTIFF benchmark (issue 17): a SIZE x SIZE uint16 COG made with GDAL (bench/geotiff/make_cog.py,
// 20000 by default) to Zarr, side by side on the same input and the same 2 cores:
//   geozarr convert (Zarr v3, zstd:1, 4096 x 4096 chunks: the default),
//   gdal_translate -of Zarr (GDAL 3.6, Zarr v2, zstd:1, 4096 x 4096; bench/peers/peer_gdal_geotiff.sh),
//   rioxarray + dask to_zarr (Zarr v2, zstd:1, 4096 x 4096; bench/peers/peer_rioxarray_geotiff.py).
// The three alternate round by round: a warm-up round, then RUNS timed rounds under GNU time;
// medians reported. The goal: geozarr at most 0.5x the faster peer's wall time, peak RSS under 1 GB.
// A window of geozarr's output is checked against GDAL's reading of the COG. The floor
// (bench/limits/geotiff.mjs: what reading, inflating, un-predicting, assembling and zstd alone
// cost) is read from bench/results/limits-geotiff.json (limits-geotiff-<size>.json for other
// sizes) when present, and geozarr's CPU seconds reported against it.
// Usage: node bench/geotiff/run.mjs [--size 20000] [--runs 3] [--compress DEFLATE]
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DATA, du, ensure, median, PY, ROOT, runJson, save, timed } from "../lib.mjs";

const argv = process.argv;
const opt = (n, d) => (argv.includes(n) ? argv[argv.indexOf(n) + 1] : d);
const runs = Number(opt("--runs", 3));
const size = Number(opt("--size", 20000));
const compress = opt("--compress", "DEFLATE");
const OUT = join(DATA, "out");
mkdirSync(OUT, { recursive: true });
const geozarr = join(ROOT, "bin", "geozarr.js");
const input = ensure(join(DATA, `cog_${size}_${compress.toLowerCase()}.tif`), PY, [
  join(ROOT, "bench/geotiff/make_cog.py"),
  join(DATA, `cog_${size}_${compress.toLowerCase()}.tif`),
  "--size",
  String(size),
  "--compress",
  compress,
]);

const configs = [
  {
    name: "geozarr v3 zstd:1",
    cmd: (i, o) => [process.execPath, [geozarr, "convert", i, o, "--codec", "zstd:1"]],
  },
  {
    name: "gdal_translate -of Zarr (v2)",
    cmd: (i, o) => ["bash", [join(ROOT, "bench/peers/peer_gdal_geotiff.sh"), i, o]],
  },
  {
    name: "rioxarray + dask to_zarr (v2)",
    cmd: (i, o) => [PY, [join(ROOT, "bench/peers/peer_rioxarray_geotiff.py"), i, o]],
  },
];
const outOf = (c) => join(OUT, `geotiff-${size}-${c.name.replace(/\W+/g, "_")}.zarr`);

const rows = configs.map(() => []);
for (let i = 0; i <= runs; i++) {
  for (const [k, c] of configs.entries()) {
    const out = outOf(c);
    rmSync(out, { recursive: true, force: true });
    const [cmd, args] = c.cmd(input, out);
    const t = timed(cmd, args);
    console.error(`${size} ${c.name} run ${i}${i ? "" : " (warm-up)"}: ${t.wall}s ${t.rssMB.toFixed(0)} MB`);
    // Round 0 warms the page cache and the machine's memory.
    if (i > 0) rows[k].push(t);
  }
}

const results = configs.map((c, k) => {
  const out = du(outOf(c));
  return {
    config: c.name,
    runs: rows[k],
    wall: median(rows[k].map((r) => r.wall)),
    cpu: median(rows[k].map((r) => r.user + r.sys)),
    // User and kernel time apart: the floor's codecs run in user space; the kernel's share is
    // mostly the page cache (reads, writes) and first touches, and moves from run to run.
    user: median(rows[k].map((r) => r.user)),
    sys: median(rows[k].map((r) => r.sys)),
    rssMB: median(rows[k].map((r) => r.rssMB)),
    outBytes: out.bytes,
    outFiles: out.files,
  };
});

// Same values: a window across chunk edges of geozarr's output against GDAL's reading of the COG.
const { openStore, readRegion, WorkerPool } = await import(join(ROOT, "dist", "node.js"));
const h = await openStore(outOf(configs[0]));
const w = Math.min(1024, size);
const y0 = Math.max(0, Math.min(size - w, 4096 - w / 2));
const { data } = await readRegion(h, "/band_data", new WorkerPool(0), {
  start: [0, y0, y0],
  shape: [1, w, w],
});
const gdal = runJson(PY, [
  "-c",
  `import sys, json, hashlib; from osgeo import gdal
ds = gdal.Open(sys.argv[1])  # kept: a band outlives no dataset
a = ds.GetRasterBand(1).ReadAsArray(int(sys.argv[2]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[3]))
print(json.dumps(hashlib.sha256(a.astype("<u2").tobytes()).hexdigest()))`,
  input,
  String(y0),
  String(w),
]);
const { createHash } = await import("node:crypto");
const ours = createHash("sha256")
  .update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
  .digest("hex");
const sameValues = ours === gdal;

const faster = Math.min(results[1].wall, results[2].wall);
for (const r of results)
  console.log(
    `${String(size).padEnd(6)} ${r.config.padEnd(32)} wall ${r.wall.toFixed(1).padStart(6)} s  cpu ${r.cpu.toFixed(1).padStart(6)} s  RSS ${r.rssMB.toFixed(0).padStart(6)} MB  out ${(r.outBytes / 1e6).toFixed(0).padStart(5)} MB  ${(r.wall / faster).toFixed(2)}x the faster peer`,
  );
const goal = { wallRatio: results[0].wall / faster, rssMB: results[0].rssMB };
console.log(
  `goal (at most 0.5x the faster peer, RSS under 1 GB): ${goal.wallRatio.toFixed(2)}x, ${goal.rssMB.toFixed(0)} MB: ${goal.wallRatio <= 0.5 && goal.rssMB < 1024 ? "met" : "not met"}; window of ${w} x ${w} equal to GDAL's: ${sameValues}`,
);
// Against the floor of the same input and output, when measured.
const floorFile = join(
  ROOT,
  "bench",
  "results",
  size === 20000 ? "limits-geotiff.json" : `limits-geotiff-${size}.json`,
);
const floor = existsSync(floorFile) ? JSON.parse(readFileSync(floorFile, "utf8")) : null;
let vsFloor = null;
if (floor && floor.width === size && floor.height === size) {
  vsFloor = {
    measured: floor.date,
    cpuFloor: floor.cpuFloor,
    wallFloor: floor.wallFloor,
    cpuRatio: results[0].cpu / floor.cpuFloor,
    userRatio: results[0].user / floor.cpuFloor,
  };
  const t = floor.total;
  console.log(
    `floor (${floorFile.split("/").pop()}, ${floor.date}): ${floor.cpuFloor.toFixed(2)} CPU s = ${floor.wallFloor.toFixed(2)} s on ${floor.cores} cores (read ${t.read.toFixed(2)}, inflate ${t.inflate.toFixed(2)}, predictor ${t.predictor.toFixed(2)}, copy ${t.copy.toFixed(2)}, zstd ${t.zstd.toFixed(2)}); geozarr ${results[0].cpu.toFixed(2)} CPU s = ${vsFloor.cpuRatio.toFixed(2)}x the floor (user ${results[0].user.toFixed(2)} s = ${vsFloor.userRatio.toFixed(2)}x, kernel ${results[0].sys.toFixed(2)} s), ${(results[0].cpu - floor.cpuFloor).toFixed(2)} CPU s above it (${(results[0].cpu - (floor.cpuFloorWithWrite ?? floor.cpuFloor)).toFixed(2)} s above it with the writes, ${(floor.components.write ?? 0).toFixed(2)} s)`,
  );
} else console.log(`floor: not measured for this input (node bench/limits/geotiff.mjs ${input})`);
save(size === 20000 ? "geotiff" : `geotiff-${size}`, {
  size,
  compress,
  runs,
  results,
  goal,
  sameValues,
  vsFloor,
});
