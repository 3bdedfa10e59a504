/**
 * The element loops a conversion runs over each value: un-shuffling HDF5 chunks (the shuffle
 * filter, H5Zshuffle.c: byte k of element j is stored at k * n + j), decoding CF packed 8- and
 * 16-bit values through a table (convert/transform.ts builds the table; CF §8.1) and undoing
 * TIFF's horizontal predictor (TIFF 6.0 section 14; readers/tiff-decode.ts).
 *
 * All run in C when the optional addon (native/kernels, plain C without libraries, built by
 * node-gyp at install) loads, and in JavaScript otherwise, with the same results bit for bit: the
 * addon only moves bytes, adds integers modulo their width and rounds a double to float as a
 * Float32Array store does. V8 runs these loops well below memory speed on the conversion's
 * buffers (the JIT cannot vectorise the byte-plane interleave or the table gather); in C a medium
 * MUR conversion takes 16 % less CPU and 17 % less wall time (docs/benchmarks.md, "Native element
 * loops"). Why our own addon: no npm package does these loops into the caller's buffers
 * (docs/design.md, "The conversion pipeline").
 *
 * GEOZARR_KERNELS=js forces the JavaScript loops (a diagnostic switch, and how the tests compare
 * the two paths).
 *
 * @module
 */

import { addonLoader } from "../zarr/addons.js";

/** 8- and 16-bit integer sources a table covers whole (256 or 65536 entries from the type's minimum). */
export type TableSource = Int8Array | Uint8Array | Int16Array | Uint16Array;

/**
 * A block of `rows` rows of `len` elements of a shuffled chunk of `n` elements of `itemSize` bytes
 * (`src`, the byte planes one after the other), row r from element `so + r * srcStride`, into
 * elements `doff + r * dstStride ..` of `dst` (plain bytes, the platform's order is not involved:
 * bytes are moved, never reinterpreted). A block per call, not a row: the rows of HDF5 chunks are
 * short (409 values in MUR), and a call per row cost more than its bytes.
 */
type Unshuffle = (
  src: Uint8Array,
  n: number,
  itemSize: number,
  so: number,
  srcStride: number,
  dst: Uint8Array,
  doff: number,
  dstStride: number,
  len: number,
  rows: number,
) => void;

/** The same block of plain bytes: offsets, strides and `len` in bytes. */
type CopyRows = (
  src: Uint8Array,
  so: number,
  srcStride: number,
  dst: Uint8Array,
  doff: number,
  dstStride: number,
  len: number,
  rows: number,
) => void;

/**
 * `dst[doff + i] = table[src[so + i] - min]` for `len` values, `min` being the source type's
 * minimum (-128, 0, -32768 or 0) and `table` one entry per value of the type.
 */
type Lookup<S = TableSource> = (
  src: S,
  so: number,
  dst: Float64Array | Float32Array,
  doff: number,
  len: number,
  table: Float64Array,
) => void;

/**
 * TIFF's horizontal predictor undone in place (TIFF 6.0 section 14): in each of `rows` rows of `n`
 * samples of `size` bytes (1, 2, 4 or 8; host order, as the TIFF decoder leaves them), sample i
 * becomes the sum of itself and sample i - stride, modulo 2^(8 size). `block` is aligned to its
 * samples.
 */
type Accumulate = (block: Uint8Array, rows: number, n: number, stride: number, size: number) => void;

interface Addon {
  unshuffle: Unshuffle;
  copyRows: CopyRows;
  lookup: Lookup;
  accumulate: Accumulate;
}

// GEOZARR_KERNELS=js: the JavaScript loops whatever is built.
const loadAddon = addonLoader<Addon>("kernels", () => process.env.GEOZARR_KERNELS !== "js");

/** Which loops this thread runs. */
export function elementwiseBackend(): "native" | "js" {
  return loadAddon() ? "native" : "js";
}

/** {@link Unshuffle}: in C where the addon is built. */
export const unshuffleInto: Unshuffle = (src, n, itemSize, so, ss, dst, doff, ds, len, rows) => {
  const a = loadAddon();
  if (a) a.unshuffle(src, n, itemSize, so, ss, dst, doff, ds, len, rows);
  else unshuffleJs(src, n, itemSize, so, ss, dst, doff, ds, len, rows);
};

/** {@link CopyRows}: in C where the addon is built. */
export const copyRowsInto: CopyRows = (src, so, ss, dst, doff, ds, len, rows) => {
  const a = loadAddon();
  if (a) a.copyRows(src, so, ss, dst, doff, ds, len, rows);
  else copyRowsJs(src, so, ss, dst, doff, ds, len, rows);
};

/** {@link Lookup}: in C where the addon is built. */
export const lookupInto: Lookup = (src, so, dst, doff, len, table) => {
  const a = loadAddon();
  if (a) a.lookup(src, so, dst, doff, len, table);
  else lookupJs(src, so, dst, doff, len, table);
};

/** {@link Accumulate}: in C where the addon is built. */
export const accumulateRows: Accumulate = (block, rows, n, stride, size) => {
  const a = loadAddon();
  if (a) a.accumulate(block, rows, n, stride, size);
  else accumulateJs(block, rows, n, stride, size);
};

/** What the addon checks: the block lies inside both arrays (`srcEnd`, `dstEnd` in elements). */
function checkBlock(
  what: string,
  so: number,
  ss: number,
  doff: number,
  ds: number,
  len: number,
  rows: number,
  srcEnd: number,
  dstEnd: number,
): void {
  const args = [so, ss, doff, ds, len, rows];
  if (!args.every((x) => Number.isSafeInteger(x) && x >= 0))
    throw new RangeError(`${what}: offsets, strides and lengths are non-negative integers`);
  if (rows === 0 || len === 0) return;
  if (so + (rows - 1) * ss + len > srcEnd || doff + (rows - 1) * ds + len > dstEnd)
    throw new RangeError(`${what}: outside the source or the target`);
}

const copyRowsJs: CopyRows = (src, so, ss, dst, doff, ds, len, rows) => {
  checkBlock("copyRows", so, ss, doff, ds, len, rows, src.length, dst.length);
  for (let r = 0; r < rows && len > 0; r++)
    dst.set(src.subarray(so + r * ss, so + r * ss + len), doff + r * ds);
};

const unshuffleJs: Unshuffle = (src, n, itemSize, so, ss, dst, doff, ds, len, rows) => {
  if (!(Number.isSafeInteger(itemSize) && itemSize >= 1 && n * itemSize <= src.length))
    throw new RangeError("unshuffle: outside the chunk or the target");
  checkBlock("unshuffle", so, ss, doff, ds, len, rows, n, Math.floor(dst.length / itemSize));
  for (let r = 0; r < rows; r++) unshuffleRow(src, n, itemSize, so + r * ss, dst, doff + r * ds, len);
};

function unshuffleRow(
  src: Uint8Array,
  n: number,
  itemSize: number,
  so: number,
  dst: Uint8Array,
  doff: number,
  len: number,
): void {
  // Whole 2- and 4-byte elements stored through views of the target where the platform is
  // little-endian (the bytes land in the same order), one byte at a time otherwise.
  if (LITTLE_ENDIAN && (itemSize === 2 || itemSize === 4) && dst.byteOffset % itemSize === 0) {
    if (dst !== lastTarget) {
      lastTarget = dst;
      last16 = new Uint16Array(dst.buffer, dst.byteOffset, Math.floor(dst.length / 2));
      last32 = new Uint32Array(dst.buffer, dst.byteOffset, Math.floor(dst.length / 4));
    }
    if (itemSize === 2) unshuffle16(src, n, so, last16!, doff, len);
    else unshuffle32(src, n, so, last32!, doff, len);
    return;
  }
  for (let j = 0; j < len; j++)
    for (let k = 0; k < itemSize; k++) dst[(doff + j) * itemSize + k] = src[k * n + so + j]!;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// The views of the last target: the conversion un-shuffles row after row into one band buffer.
let lastTarget: Uint8Array | undefined;
let last16: Uint16Array | undefined;
let last32: Uint32Array | undefined;

/** Un-shuffle loops over whole elements (b: the chunk's byte planes, n elements each). */
type Planes<T> = (b: Uint8Array, n: number, so: number, out: T, doff: number, len: number) => void;

const unshuffle16: Planes<Uint16Array> = (b, n, so, out, doff, len) => {
  for (let j = 0; j < len; j++) out[doff + j] = b[so + j]! | (b[n + so + j]! << 8);
};

const unshuffle32: Planes<Uint32Array> = (b, n, so, out, doff, len) => {
  const n2 = 2 * n;
  const n3 = 3 * n;
  for (let j = 0; j < len; j++) {
    const i = so + j;
    out[doff + j] = (b[i]! | (b[n + i]! << 8) | (b[n2 + i]! << 16) | (b[n3 + i]! << 24)) >>> 0;
  }
};

const lookupJs: Lookup = (src, so, dst, doff, len, table) => {
  // One loop per source type: a loop fed both MUR's int16 and int8 variables on one thread had
  // polymorphic element loads (measured 2.2 -> 1.95 ns per value split).
  if (src instanceof Int16Array) lookup16(src, so, dst, doff, len, table);
  else if (src instanceof Int8Array) lookup8(src, so, dst, doff, len, table);
  else lookupUnsigned(src, so, dst, doff, len, table);
};

const lookup16: Lookup<Int16Array> = (s, so, d, doff, n, t) => {
  for (let i = 0; i < n; i++) d[doff + i] = t[s[so + i]! + 32768]!;
};

const lookup8: Lookup<Int8Array> = (s, so, d, doff, n, t) => {
  for (let i = 0; i < n; i++) d[doff + i] = t[s[so + i]! + 128]!;
};

const lookupUnsigned: Lookup<Uint8Array | Uint16Array> = (s, so, d, doff, n, t) => {
  for (let i = 0; i < n; i++) d[doff + i] = t[s[so + i]!]!;
};

const accumulateJs: Accumulate = (b, rows, n, stride, size) => {
  const { buffer, byteOffset, byteLength } = b;
  // One loop per element type, so each stays monomorphic (typed arrays wrap on overflow: modular
  // addition, as the predictor's differences are).
  if (size === 1) accumulate8(b, rows, n, stride);
  else if (size === 2) accumulate16(new Uint16Array(buffer, byteOffset, byteLength >> 1), rows, n, stride);
  else if (size === 4) accumulate32(new Uint32Array(buffer, byteOffset, byteLength >> 2), rows, n, stride);
  else {
    const v = new BigUint64Array(buffer, byteOffset, byteLength >> 3);
    for (let r = 0; r < rows; r++)
      for (let i = r * n + stride; i < (r + 1) * n; i++) v[i] = BigInt.asUintN(64, v[i]! + v[i - stride]!);
  }
};

function accumulate8(v: Uint8Array, rows: number, n: number, stride: number): void {
  if (stride === 1) {
    // One band: a running sum in a register (one load and one store per sample).
    for (let r = 0; r < rows; r++) {
      let acc = v[r * n]!;
      for (let i = r * n + 1, end = (r + 1) * n; i < end; i++) v[i] = acc = (acc + v[i]!) & 0xff;
    }
    return;
  }
  for (let r = 0; r < rows; r++)
    for (let i = r * n + stride, end = (r + 1) * n; i < end; i++) v[i] = v[i]! + v[i - stride]!;
}
function accumulate16(v: Uint16Array, rows: number, n: number, stride: number): void {
  if (stride === 1 && LITTLE_ENDIAN && n % 2 === 0 && v.byteOffset % 4 === 0) {
    accumulate16Pairs(new Uint32Array(v.buffer, v.byteOffset, (rows * n) >> 1), rows, n >> 1);
    return;
  }
  if (stride === 1) {
    // One band: a running sum in a register (one load and one store per sample).
    for (let r = 0; r < rows; r++) {
      let acc = v[r * n]!;
      for (let i = r * n + 1, end = (r + 1) * n; i < end; i++) v[i] = acc = (acc + v[i]!) & 0xffff;
    }
    return;
  }
  for (let r = 0; r < rows; r++)
    for (let i = r * n + stride, end = (r + 1) * n; i < end; i++) v[i] = v[i]! + v[i - stride]!;
}

/**
 * One band of 16-bit samples, two at a time: each 32-bit word holds two samples (little-endian:
 * the first in the low half), summed in turn onto the running value. Half the loads, stores and
 * bounds checks of the one-sample loop: 0.04 against 0.07 CPU s per 128 MB of tiles on these
 * machines (bench/limits/geotiff.mjs measures it in place). Rows of an even number of samples.
 */
function accumulate16Pairs(w: Uint32Array, rows: number, half: number): void {
  for (let r = 0; r < rows; r++) {
    let acc = 0;
    for (let i = r * half, end = (r + 1) * half; i < end; i++) {
      const x = w[i]!;
      const lo = (acc + x) & 0xffff;
      acc = (lo + (x >>> 16)) & 0xffff;
      w[i] = lo | (acc << 16);
    }
  }
}
function accumulate32(v: Uint32Array, rows: number, n: number, stride: number): void {
  if (stride === 1) {
    // One band: a running sum in a register (one load and one store per sample).
    for (let r = 0; r < rows; r++) {
      let acc = v[r * n]!;
      for (let i = r * n + 1, end = (r + 1) * n; i < end; i++) v[i] = acc = (acc + v[i]!) >>> 0;
    }
    return;
  }
  for (let r = 0; r < rows; r++)
    for (let i = r * n + stride, end = (r + 1) * n; i < end; i++) v[i] = v[i]! + v[i - stride]!;
}

/** The JavaScript loops whatever the addon: what the tests hold the addon's results against. */
export const jsLoops = {
  unshuffleInto: unshuffleJs,
  copyRowsInto: copyRowsJs,
  lookupInto: lookupJs,
  accumulateRows: accumulateJs,
} as const;
