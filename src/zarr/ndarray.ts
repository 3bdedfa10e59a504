/**
 * Boxes of C-ordered n-dimensional arrays: the copy that moves data between source bands, chunks
 * and outputs, and the chunk-grid arithmetic around it.
 *
 * @module
 */

import type { AnyTypedArray } from "./dtype.js";

export interface Box {
  start: number[];
  shape: number[];
}

/** C-order strides (in elements) of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/**
 * Visit a box of shape `count` between two C-ordered arrays as blocks of rows: `src` of shape
 * `srcShape` with the box at `srcStart`, `dst` of shape `dstShape` with the box at `dstStart`.
 * Trailing dimensions covered whole in both are merged into one row, so rows are as long as
 * possible; the dimension before them gives the rows of a block. `block(srcOffset, dstOffset,
 * length, rows, srcStride, dstStride)` gets element offsets: row r of the block starts at
 * `srcOffset + r * srcStride` and `dstOffset + r * dstStride`. Native kernels take a block per
 * call (kernels/elementwise.ts); a call per row costs more than a short row's bytes.
 */
export function forEachBlock(
  srcShape: readonly number[],
  srcStart: readonly number[],
  dstShape: readonly number[],
  dstStart: readonly number[],
  count: readonly number[],
  block: (
    srcOffset: number,
    dstOffset: number,
    length: number,
    rows: number,
    srcStride: number,
    dstStride: number,
  ) => void,
): void {
  const nd = count.length;
  if (nd === 0) {
    block(0, 0, 1, 1, 0, 0);
    return;
  }
  if (count.some((c) => c === 0)) return;
  const ss = stridesOf(srcShape);
  const ds = stridesOf(dstShape);
  let inner = nd - 1;
  let length = count[nd - 1]!;
  while (inner > 0 && count[inner] === srcShape[inner] && count[inner] === dstShape[inner]) {
    inner--;
    length *= count[inner]!;
  }
  let srcBase = 0;
  let dstBase = 0;
  for (let d = 0; d < nd; d++) {
    srcBase += srcStart[d]! * ss[d]!;
    dstBase += dstStart[d]! * ds[d]!;
  }
  // Dimension `inner - 1` holds the rows of a block; the dimensions before it are iterated.
  const rowDim = inner - 1;
  const rows = rowDim >= 0 ? count[rowDim]! : 1;
  const srcStride = rowDim >= 0 ? ss[rowDim]! : 0;
  const dstStride = rowDim >= 0 ? ds[rowDim]! : 0;
  const outer = Math.max(0, rowDim);
  const idx = new Array<number>(outer).fill(0);
  for (;;) {
    let so = srcBase;
    let doff = dstBase;
    for (let d = 0; d < outer; d++) {
      so += idx[d]! * ss[d]!;
      doff += idx[d]! * ds[d]!;
    }
    block(so, doff, length, rows, srcStride, dstStride);
    let d = outer - 1;
    while (d >= 0) {
      idx[d]!++;
      if (idx[d]! < count[d]!) break;
      idx[d] = 0;
      d--;
    }
    if (d < 0) return;
  }
}

/**
 * Visit the contiguous runs of a box (see {@link forEachBlock}): `run(srcOffset, dstOffset,
 * length)` once per row, in C order.
 */
export function forEachRun(
  srcShape: readonly number[],
  srcStart: readonly number[],
  dstShape: readonly number[],
  dstStart: readonly number[],
  count: readonly number[],
  run: (srcOffset: number, dstOffset: number, length: number) => void,
): void {
  forEachBlock(srcShape, srcStart, dstShape, dstStart, count, (so, doff, len, rows, sst, dst) => {
    for (let r = 0; r < rows; r++) run(so + r * sst, doff + r * dst, len);
  });
}

/** Copy a box (see {@link forEachRun}): one `TypedArray.set` per contiguous run. */
export function copyBox(
  src: AnyTypedArray,
  srcShape: readonly number[],
  srcStart: readonly number[],
  dst: AnyTypedArray,
  dstShape: readonly number[],
  dstStart: readonly number[],
  count: readonly number[],
): void {
  const s = src as Float64Array;
  const d = dst as Float64Array;
  forEachRun(srcShape, srcStart, dstShape, dstStart, count, (so, doff, n) => {
    if (n === 1) d[doff] = s[so]!;
    else d.set(s.subarray(so, so + n), doff);
  });
}

/** The intersection of two boxes, or null when they do not overlap. */
export function intersect(a: Box, b: Box): Box | null {
  const start: number[] = [];
  const shape: number[] = [];
  for (let d = 0; d < a.start.length; d++) {
    const lo = Math.max(a.start[d]!, b.start[d]!);
    const hi = Math.min(a.start[d]! + a.shape[d]!, b.start[d]! + b.shape[d]!);
    if (hi <= lo) return null;
    start.push(lo);
    shape.push(hi - lo);
  }
  return { start, shape };
}

/** All index tuples of a grid shape, in C order. */
export function* gridIndices(gridShape: readonly number[]): Generator<number[]> {
  if (gridShape.some((n) => n === 0)) return;
  const idx = new Array<number>(gridShape.length).fill(0);
  for (;;) {
    yield idx.slice();
    let d = gridShape.length - 1;
    while (d >= 0) {
      idx[d]!++;
      if (idx[d]! < gridShape[d]!) break;
      idx[d] = 0;
      d--;
    }
    if (d < 0) return;
  }
}

/** The box of chunk `coords` in a grid of `chunkShape`, clipped to the array `shape`. */
export function chunkBox(
  coords: readonly number[],
  chunkShape: readonly number[],
  shape: readonly number[],
): Box {
  const start = coords.map((c, d) => c * chunkShape[d]!);
  return { start, shape: start.map((s, d) => Math.min(chunkShape[d]!, shape[d]! - s)) };
}

/** Coordinates of the chunks of a `chunkShape` grid that overlap `box`, in C order. */
export function chunksOverlapping(box: Box, chunkShape: readonly number[]): number[][] {
  const first = box.start.map((s, d) => Math.floor(s / chunkShape[d]!));
  const span = box.start.map((s, d) => Math.ceil((s + box.shape[d]!) / chunkShape[d]!) - first[d]!);
  if (box.shape.some((s) => s === 0)) return [];
  return [...gridIndices(span)].map((rel) => rel.map((c, d) => c + first[d]!));
}
