#!/usr/bin/env node
// The floor of the seed conversion: what the codecs and the decode loop alone cost on this
// machine, for the same input and output as the convert benchmark's "same output" row
// (MUR-like NetCDF-4 -> Zarr v2 float64, analysed_sst and sea_ice_fraction, 4096 x 4096 chunks,
// zstd level 1). Each component runs on one thread, timed as CPU seconds of this process:
//
//   inflate     node:zlib inflateSync of every stored source chunk, and libdeflate (the project's
//               optional addon, native/inflate) when it is built: both reported, the floor takes
//               the faster
//   unshuffle   undoing HDF5's shuffle filter of every source chunk (into a reused buffer)
//   decode      int -> float64 with scale/offset and fill -> NaN, per output chunk, into a reused buffer
//               (both through kernels/elementwise.ts: C where native/kernels is built, as geozarr runs)
//   zstd        zstd-napi level 1 of every output chunk (padded edge chunks included, as written)
//
// The floor is the sum divided by the cores. bench/convert/run.mjs reads bench/results/limits.json
// and reports geozarr's CPU seconds against it.
// Usage: node bench/limits/run.mjs [--size med|full] [--runs 3]
import { openSync, readSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { DATA, median, ROOT, save } from "../lib.mjs";

const dist = (p) => import(join(ROOT, "dist", p));
const { openInputFile } = await dist("readers/open.js");
const { directVariable } = await dist("readers/hdf5-direct.js");
const { transformRun } = await dist("convert/transform.js");
const { ZstdStream, zstdCompress } = await dist("zarr/codecs/zstd.js");
const { inflateBackend, inflateChunk } = await dist("readers/inflate.js");
const { elementwiseBackend, unshuffleInto } = await dist("kernels/elementwise.js");

const argv = process.argv;
const opt = (n, d) => (argv.includes(n) ? argv[argv.indexOf(n) + 1] : d);
const size = opt("--size", "full");
const runs = Number(opt("--runs", 3));
const input = join(DATA, size === "full" ? "mur_full.nc" : "mur_med.nc");
const CHUNK = 4096;

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
/** CPU seconds of `f`, the median of `runs` runs after a warm-up. */
function time(f) {
  f();
  const xs = [];
  for (let i = 0; i < runs; i++) {
    const t0 = cpu();
    f();
    xs.push(cpu() - t0);
  }
  return median(xs);
}

const ds = await openInputFile(input);
const vars = ["analysed_sst", "sea_ice_fraction"].map((name) =>
  ds.groups[0].variables.find((v) => v.name === name),
);

const fd = openSync(input, "r");
const rows = [];
for (const v of vars) {
  const dv = await directVariable(input, v.path, v.hdf5);
  if (!dv) throw new Error(`${v.name}: not readable directly`);
  const chunks = [...dv.index.chunks.values()];
  const n = dv.index.chunkShape.reduce((a, b) => a * b, 1);
  const chunkBytes = n * dv.itemSize;
  // The stored bytes of every chunk, read once (page cache) so that only decoding is timed.
  const stored = chunks.map((c) => {
    const b = new Uint8Array(c.size);
    readSync(fd, b, 0, c.size, c.offset);
    return b;
  });
  const inflated = stored.map((b) => inflateSync(b, { chunkSize: chunkBytes + 64 }));
  const tInflate = time(() => {
    for (const b of stored) inflateSync(b, { chunkSize: chunkBytes + 64, maxOutputLength: chunkBytes + 64 });
  });
  let tLibdeflate = null;
  if (inflateBackend() === "libdeflate") {
    tLibdeflate = time(() => {
      for (const b of stored) inflateChunk(b, chunkBytes);
    });
  }
  // Unshuffle (byte k of element j is at k * n + j, H5Zshuffle.c) into a reused buffer of the
  // chunk's values: the least work that puts the values together.
  const un = new Uint8Array(chunkBytes);
  // The project's loop (kernels/elementwise.ts: C where native/kernels is built), one call per chunk.
  const tUnshuffle =
    dv.shuffle >= 0 && dv.itemSize > 1
      ? time(() => {
          for (const b of inflated) unshuffleInto(b, n, dv.itemSize, 0, un, 0, n);
        })
      : 0;
  // The whole variable as stored values (the project's direct read), for the decode and zstd steps.
  const [, rowsN, colsN] = v.shape;
  const Ctor = v.dataType === "int16" ? Int16Array : Int8Array;
  const all = new Ctor(rowsN * colsN);
  const { readDirectInto } = await dist("readers/hdf5-direct.js");
  const read = await readDirectInto(dv, { start: [0, 0, 0], shape: v.shape }, [
    { buffer: all.buffer, dataType: v.dataType, box: { start: [0, 0, 0], shape: v.shape } },
  ]);
  if (!read) throw new Error(`${v.name}: a chunk is not in the file`);

  // Per output chunk: decode into a reused float64 chunk (padded with NaN, as written), then
  // compress it.
  const a = v.attributes;
  const t = {
    kind: "unpack",
    scale: a.scale_factor ?? 1,
    offset: a.add_offset ?? 0,
    missing: [a._FillValue].filter((x) => x !== undefined),
  };
  const out = new Float64Array(CHUNK * CHUNK);
  const outChunks = [];
  for (let r0 = 0; r0 < rowsN; r0 += CHUNK)
    for (let c0 = 0; c0 < colsN; c0 += CHUNK) outChunks.push([r0, c0]);
  const decodeChunk = ([r0, c0]) => {
    const h = Math.min(CHUNK, rowsN - r0);
    const w = Math.min(CHUNK, colsN - c0);
    if (h < CHUNK || w < CHUNK) out.fill(Number.NaN);
    for (let r = 0; r < h; r++) transformRun(t, all, (r0 + r) * colsN + c0, out, r * CHUNK, w);
  };
  const tDecode = time(() => {
    for (const c of outChunks) decodeChunk(c);
  });
  // zstd of each decoded chunk (decoding again outside the timed part: one chunk buffer).
  const zs = [];
  let compressed = 0;
  for (let i = 0; i <= runs; i++) {
    let s = 0;
    compressed = 0;
    for (const c of outChunks) {
      decodeChunk(c);
      const bytes = new Uint8Array(out.buffer);
      const t0 = cpu();
      compressed += zstdCompress(bytes, 1).length;
      s += cpu() - t0;
    }
    if (i > 0) zs.push(s);
  }
  const tZstd = median(zs);
  // The same chunks as geozarr writes them: one frame each, fed in 4 MiB slabs (encode-task.ts
  // SLAB_BYTES, so that a worker never holds a whole 128 MiB chunk). Streamed frames are other
  // bytes than one-shot ones, and cost more: this is the floor of geozarr's own output.
  const zss = [];
  const stream = new ZstdStream();
  const SLAB = 4 << 20;
  for (let i = 0; i <= runs; i++) {
    let s = 0;
    for (const c of outChunks) {
      decodeChunk(c);
      const bytes = new Uint8Array(out.buffer);
      const t0 = cpu();
      stream.begin(bytes.length, 1);
      for (let o = 0; o < bytes.length; o += SLAB) stream.write(bytes.subarray(o, o + SLAB));
      stream.end(false);
      s += cpu() - t0;
    }
    if (i > 0) zss.push(s);
  }
  const tZstdStreamed = median(zss);
  rows.push({
    variable: v.name,
    sourceChunks: chunks.length,
    sourceStoredMB: stored.reduce((s, b) => s + b.length, 0) / 1e6,
    outputChunks: outChunks.length,
    outputStoredMB: compressed / 1e6,
    inflate: tInflate,
    libdeflate: tLibdeflate,
    unshuffle: tUnshuffle,
    decode: tDecode,
    zstd: tZstd,
    zstdStreamed: tZstdStreamed,
  });
  console.error(
    `${v.name}: inflate ${tInflate.toFixed(2)} s${tLibdeflate === null ? "" : ` (libdeflate ${tLibdeflate.toFixed(2)} s)`}, unshuffle ${rows.at(-1).unshuffle.toFixed(2)} s, decode ${tDecode.toFixed(2)} s, zstd ${tZstd.toFixed(2)} s`,
  );
}

const sum = (k) => rows.reduce((s, r) => s + (r[k] ?? 0), 0);
const cores = availableParallelism();
// The floor takes the faster inflater of each variable.
const best = rows.reduce((s, r) => s + Math.min(r.inflate, r.libdeflate ?? Number.POSITIVE_INFINITY), 0);
const total = { inflate: best, unshuffle: sum("unshuffle"), decode: sum("decode"), zstd: sum("zstd") };
const cpuFloor = total.inflate + total.unshuffle + total.decode + total.zstd;
// The floor of geozarr's own bytes: zstd streamed per chunk in slabs, as written (see above).
const cpuFloorStreamed = cpuFloor - total.zstd + sum("zstdStreamed");
const result = {
  size,
  input,
  runs,
  cores,
  kernels: elementwiseBackend(),
  rows,
  total: { ...total, zstdStreamed: sum("zstdStreamed") },
  cpuFloor,
  wallFloor: cpuFloor / cores,
  cpuFloorStreamed,
};
console.error(
  `floor (${size}): ${cpuFloor.toFixed(1)} CPU s = ${(cpuFloor / cores).toFixed(1)} s on ${cores} cores (inflate ${total.inflate.toFixed(1)}, unshuffle ${total.unshuffle.toFixed(1)}, decode ${total.decode.toFixed(1)}, zstd ${total.zstd.toFixed(1)}); streamed as geozarr writes: ${cpuFloorStreamed.toFixed(1)} CPU s (zstd ${sum("zstdStreamed").toFixed(1)})`,
);
save(`limits-${size}`, result);
