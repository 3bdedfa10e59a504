#!/usr/bin/env node
// The floor of the GeoTIFF conversion (issue 17): what reading, decoding and re-encoding alone cost
// on this machine, for the same input and output as bench/geotiff/run.mjs (a uint16 COG, DEFLATE +
// predictor 2, 512 x 512 tiles -> Zarr v3, 4096 x 4096 chunks, zstd level 1). The GeoTIFF sibling
// of bench/limits/run.mjs (NetCDF). Each component runs on one thread, timed as CPU seconds of
// this process (user + system), the median of RUNS runs after a warm-up:
//
//   read        pread(2) of every tile's stored bytes (page cache), into one reused buffer; "fresh"
//               also reports a new buffer per tile, as a source that hands tiles over must
//   inflate     libdeflate (the project's readers/inflate.ts, when native/inflate is built) and
//               node:zlib inflateSync of every tile: both reported, the floor takes the faster
//   predictor   undoing the horizontal predictor of every tile (TIFF 6.0 section 14) with the
//               project's decoder (readers/tiff-decode.ts, given the bytes already inflated)
//   copy        assembling the tiles into each output chunk (4096 x 4096, edge chunks padded with
//               the fill value as written): one copy of every value
//   zstd        zstd-napi level 1 of every output chunk, one frame each fed in 4 MiB slabs, as
//               geozarr writes it (zarr/codecs/zstd.js ZstdStream, convert/encode-task.ts)
//   write       (beside the floor, not in it) each compressed chunk written to a new file on the
//               output's file system: the page cache's work, system time, noisy on a busy machine
//
// The floor is the sum (without write) divided by the cores. bench/geotiff/run.mjs reads
// bench/results/limits-geotiff.json and reports geozarr's CPU seconds against it.
// Memory: the stored tiles and the decoded image are held (at 20000 x 20000: about 1.5 GB).
// Usage: node bench/limits/geotiff.mjs [COG] [--runs 3] [--chunk 4096] [--save NAME]
//   COG defaults to bench/data/cog_20000_deflate.tif (bench/geotiff/make_cog.py); NAME to
//   limits-geotiff for a 20000-wide image (the benchmark's), limits-geotiff-<width> otherwise.
import { closeSync, mkdirSync, openSync, readSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, join } from "node:path";
import { inflateSync } from "node:zlib";
import { fromFile } from "geotiff";
import { DATA, median, ROOT, save } from "../lib.mjs";

const dist = (p) => import(join(ROOT, "dist", p));
const { ZstdStream } = await dist("zarr/codecs/zstd.js");
const { inflateBackend, inflateChunk } = await dist("readers/inflate.js");
const { blockDecoder } = await dist("readers/tiff-decode.js");

const argv = process.argv.slice(2);
const opt = (n, d) => (argv.includes(n) ? argv[argv.indexOf(n) + 1] : d);
const valued = new Set(["--runs", "--chunk", "--save"]);
const positional = argv.filter((a, i) => !a.startsWith("--") && !valued.has(argv[i - 1]));
const input = positional[0] ?? join(DATA, "cog_20000_deflate.tif");
const runs = Number(opt("--runs", 3));
const CHUNK = Number(opt("--chunk", 4096));
const SLAB = 4 << 20; // encode-task.ts SLAB_BYTES

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
/** CPU seconds of `f` (sync or async), the median of `runs` runs after a warm-up. */
async function time(f) {
  await f();
  const xs = [];
  for (let i = 0; i < runs; i++) {
    const t0 = cpu();
    await f();
    xs.push(cpu() - t0);
  }
  return median(xs);
}

// The full-resolution image's layout, through geotiff.js (as readers/geotiff.ts opens it).
const tiff = await fromFile(input);
const im = await tiff.getImage(0);
const fd = im.getFileDirectory();
const width = im.getWidth();
const height = im.getHeight();
const tw = im.getTileWidth();
const th = im.getTileHeight();
const bits = Number(fd.getValue("BitsPerSample")?.[0] ?? fd.getValue("BitsPerSample"));
const compression = Number(fd.getValue("Compression"));
const predictor = Number((await fd.loadValue("Predictor")) ?? 1);
if (!im.isTiled || bits !== 16 || im.getSamplesPerPixel() !== 1 || ![8, 32946].includes(compression))
  throw new Error(`${input}: expected one band of 16-bit samples in deflate tiles (make_cog.py)`);
const offsets = Array.from(await fd.loadValue("TileOffsets"), Number);
const counts = Array.from(await fd.loadValue("TileByteCounts"), Number);
const across = Math.ceil(width / tw);
const down = Math.ceil(height / th);
const tileBytes = tw * th * 2;
const nodata = Number(String(fd.getValue("GDAL_NODATA") ?? "0").replace(/\0+$/, ""));
console.error(
  `${basename(input)}: ${width} x ${height} uint16, ${across * down} tiles of ${tw} x ${th}, predictor ${predictor}, ${inflateBackend()}`,
);

// read: the stored bytes of every tile, kept for the decoding steps (the first pass warms the
// page cache), then timed into one reused buffer and into fresh ones.
const fdRead = openSync(input, "r");
const preadAll = (into) => {
  let bytes = 0;
  for (let i = 0; i < offsets.length; i++) {
    const b = into(i);
    let done = 0;
    while (done < counts[i]) {
      const n = readSync(fdRead, b, done, counts[i] - done, offsets[i] + done);
      if (n === 0) throw new Error(`${input}: truncated at tile ${i}`);
      done += n;
    }
    bytes += done;
  }
  return bytes;
};
const stored = counts.map((c) => new Uint8Array(c));
const storedBytes = preadAll((i) => stored[i]);
const reused = new Uint8Array(Math.max(...counts));
const tRead = await time(() => preadAll(() => reused));
const tReadFresh = await time(() => preadAll((i) => new Uint8Array(counts[i])));
closeSync(fdRead);

// inflate: every tile, libdeflate into its kept buffer and node:zlib into one of the tile's size.
let tLibdeflate = null;
if (inflateBackend() === "libdeflate")
  tLibdeflate = await time(() => {
    for (const b of stored) inflateChunk(b, tileBytes);
  });
const tZlib = await time(() => {
  for (const b of stored) inflateSync(b, { chunkSize: tileBytes + 64, maxOutputLength: tileBytes + 64 });
});

// predictor: the project's decoder on bytes already inflated ("none"), so only the predictor runs.
// Timed in place over the whole image (the cost does not depend on the values), then the image is
// rebuilt: inflated and un-predicted once more, tile after tile.
const layout = {
  compression: 1,
  predictor,
  littleEndian: tiff.littleEndian,
  bitsPerSample: 16,
  samplesInBlock: 1,
  samplesPerPixel: 1,
  planar: 1,
  blockWidth: tw,
  blockHeight: th,
};
const unpredict = await blockDecoder(layout, { loadValue: async () => undefined }, input);
// Each tile in a buffer of its own, as the decoder hands tiles over.
const tiles = stored.map((b) => inflateChunk(b, tileBytes).slice());
const noop = () => {};
const tPredictor = await time(async () => {
  for (const t of tiles) await unpredict(t, th, "tile", noop);
});
for (const [i, b] of stored.entries()) {
  tiles[i].set(inflateChunk(b, tileBytes));
  await unpredict(tiles[i], th, "tile", noop);
}
const tiles16 = tiles.map((t) => new Uint16Array(t.buffer));

// copy: each output chunk assembled from the tiles it overlaps, into one reused chunk buffer
// (padded with the fill value past the image's edge, as geozarr writes edge chunks).
const out = new Uint16Array(CHUNK * CHUNK);
const outChunks = [];
for (let r0 = 0; r0 < height; r0 += CHUNK) for (let c0 = 0; c0 < width; c0 += CHUNK) outChunks.push([r0, c0]);
const assemble = ([r0, c0]) => {
  const h = Math.min(CHUNK, height - r0);
  const w = Math.min(CHUNK, width - c0);
  if (h < CHUNK || w < CHUNK) out.fill(nodata);
  for (let ty = Math.floor(r0 / th); ty * th < r0 + h; ty++)
    for (let tx = Math.floor(c0 / tw); tx * tw < c0 + w; tx++) {
      const src = tiles16[ty * across + tx];
      const ya = Math.max(ty * th, r0);
      const yb = Math.min((ty + 1) * th, r0 + h);
      const xa = Math.max(tx * tw, c0);
      const xb = Math.min((tx + 1) * tw, c0 + w);
      for (let y = ya; y < yb; y++) {
        const s = (y - ty * th) * tw + (xa - tx * tw);
        out.set(src.subarray(s, s + xb - xa), (y - r0) * CHUNK + (xa - c0));
      }
    }
};
const tCopy = await time(() => {
  for (const c of outChunks) assemble(c);
});

// The decoded values are the file's: a window across tile edges against geotiff.js's own reading.
{
  const n = Math.min(700, width, height, CHUNK);
  assemble([0, 0]);
  const [ref] = await im.readRasters({ window: [0, 0, n, n] });
  for (let y = 0; y < n; y++)
    for (let x = 0; x < n; x++)
      if (out[y * CHUNK + x] !== ref[y * n + x])
        throw new Error(`decoded value at (${y}, ${x}) differs from geotiff.js's`);
}

// zstd: each assembled chunk (assembled outside the timed part), one frame fed in slabs. And
// write: each frame written to a new file of its own (as a worker writes its chunk), on the
// output's file system (bench/data/out), removed after each pass outside the timed part.
const stream = new ZstdStream();
const zs = [];
const ws = [];
let compressed = 0;
const outDir = join(DATA, "out", "limits-geotiff-write");
for (let i = 0; i <= runs; i++) {
  let s = 0;
  let w = 0;
  compressed = 0;
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  for (const [k, c] of outChunks.entries()) {
    assemble(c);
    const bytes = new Uint8Array(out.buffer);
    const t0 = cpu();
    stream.begin(bytes.length, 1);
    for (let o = 0; o < bytes.length; o += SLAB) stream.write(bytes.subarray(o, o + SLAB));
    const frame = stream.end(false);
    const t1 = cpu();
    writeFileSync(join(outDir, String(k)), frame);
    w += cpu() - t1;
    s += t1 - t0;
    compressed += frame.length;
  }
  if (i > 0) {
    zs.push(s);
    ws.push(w);
  }
}
rmSync(outDir, { recursive: true, force: true });
const tWrite = median(ws);
const tZstd = median(zs);

const inflate = Math.min(tZlib, tLibdeflate ?? Number.POSITIVE_INFINITY);
const total = { read: tRead, inflate, predictor: tPredictor, copy: tCopy, zstd: tZstd };
const cpuFloor = Object.values(total).reduce((a, b) => a + b, 0);
// Writing the output is work too, but the file system's (system time, which a busy machine's
// page cache and writeback make noisy): reported beside the floor, not in it.
const cpuFloorWithWrite = cpuFloor + tWrite;
const cores = availableParallelism();
const result = {
  input,
  width,
  height,
  tile: [th, tw],
  chunk: CHUNK,
  runs,
  cores,
  tiles: stored.length,
  storedMB: storedBytes / 1e6,
  decodedMB: (width * height * 2) / 1e6,
  outputChunks: outChunks.length,
  outputStoredMB: compressed / 1e6,
  components: {
    read: tRead,
    readFresh: tReadFresh,
    libdeflate: tLibdeflate,
    zlib: tZlib,
    predictor: tPredictor,
    copy: tCopy,
    zstd: tZstd,
    write: tWrite,
  },
  total,
  cpuFloor,
  wallFloor: cpuFloor / cores,
  cpuFloorWithWrite,
};
const f = (x) => (x === null ? "-" : x.toFixed(2));
console.error(
  `read ${f(tRead)} s (fresh buffers ${f(tReadFresh)}), inflate libdeflate ${f(tLibdeflate)} s / zlib ${f(tZlib)} s, predictor ${f(tPredictor)} s, copy ${f(tCopy)} s, zstd ${f(tZstd)} s; write ${f(tWrite)} s`,
);
console.error(
  `floor: ${cpuFloor.toFixed(2)} CPU s = ${(cpuFloor / cores).toFixed(2)} s on ${cores} cores (${(storedBytes / 1e6).toFixed(0)} MB stored, ${result.decodedMB.toFixed(0)} MB decoded, ${result.outputStoredMB.toFixed(0)} MB out); with the writes ${cpuFloorWithWrite.toFixed(2)} CPU s`,
);
const name = opt("--save", width === 20000 ? "limits-geotiff" : `limits-geotiff-${width}`);
save(name, result);
