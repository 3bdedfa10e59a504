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
 * Copy a box of shape `count` from `src` (C-order, shape `srcShape`, box at `srcStart`) into `dst`
 * (C-order, shape `dstShape`, box at `dstStart`). Trailing dimensions that are copied whole in both
 * arrays are merged, so the inner loop is one `TypedArray.set` of the longest contiguous run.
 */
export function copyBox(
  src: AnyTypedArray,
  srcShape: readonly number[],
  srcStart: readonly number[],
  dst: AnyTypedArray,
  dstShape: readonly number[],
  dstStart: readonly number[],
  count: readonly number[],
): void {
  const nd = count.length;
  if (nd === 0) {
    (dst as Float64Array)[0] = (src as Float64Array)[0]!;
    return;
  }
  if (count.some((c) => c === 0)) return;
  const ss = stridesOf(srcShape);
  const ds = stridesOf(dstShape);
  // Merge trailing dims that are contiguous in both: inner run covers dims [inner, nd).
  let inner = nd - 1;
  let run = count[nd - 1]!;
  while (inner > 0 && count[inner] === srcShape[inner] && count[inner] === dstShape[inner]) {
    inner--;
    run *= count[inner]!;
  }
  let srcBase = 0;
  let dstBase = 0;
  for (let d = 0; d < nd; d++) {
    srcBase += srcStart[d]! * ss[d]!;
    dstBase += dstStart[d]! * ds[d]!;
  }
  const outer = count.slice(0, inner);
  const idx = new Array<number>(inner).fill(0);
  const typedDst = dst as Float64Array;
  const typedSrc = src as Float64Array;
  for (;;) {
    let so = srcBase;
    let doff = dstBase;
    for (let d = 0; d < inner; d++) {
      so += idx[d]! * ss[d]!;
      doff += idx[d]! * ds[d]!;
    }
    typedDst.set(typedSrc.subarray(so, so + run), doff);
    // odometer over the outer dims
    let d = inner - 1;
    while (d >= 0) {
      idx[d]!++;
      if (idx[d]! < outer[d]!) break;
      idx[d] = 0;
      d--;
    }
    if (d < 0) break;
  }
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
