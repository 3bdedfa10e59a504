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
 * Visit the contiguous runs of a box of shape `count` between two C-ordered arrays: `src` of shape
 * `srcShape` with the box at `srcStart`, `dst` of shape `dstShape` with the box at `dstStart`.
 * Trailing dimensions covered whole in both are merged, so runs are as long as possible.
 * `run(srcOffset, dstOffset, length)` gets element offsets.
 */
export function forEachRun(
  srcShape: readonly number[],
  srcStart: readonly number[],
  dstShape: readonly number[],
  dstStart: readonly number[],
  count: readonly number[],
  run: (srcOffset: number, dstOffset: number, length: number) => void,
): void {
  const nd = count.length;
  if (nd === 0) {
    run(0, 0, 1);
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
  const idx = new Array<number>(inner).fill(0);
  for (;;) {
    let so = srcBase;
    let doff = dstBase;
    for (let d = 0; d < inner; d++) {
      so += idx[d]! * ss[d]!;
      doff += idx[d]! * ds[d]!;
    }
    run(so, doff, length);
    let d = inner - 1;
    while (d >= 0) {
      idx[d]!++;
      if (idx[d]! < count[d]!) break;
      idx[d] = 0;
      d--;
    }
    if (d < 0) return;
  }
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
