/**
 * Task "downsample-band": one segment of a pyramid level, computed from the level before it.
 *
 * The conversion pipeline (convert/pipeline.ts) asks for a segment of the new level, in the new
 * level's coordinates; this task reads the matching region of the previous level (twice the size
 * along Y and X, every other dimension as is), reduces each 2-D plane by 2 with the level's
 * resampling method (kernels/resample.ts: NaN and the fill value never enter a statistic), and
 * copies the result into the band buffers the segment overlaps. Values stay in the stored data
 * type: packed integers are averaged as raw numbers, which is averaging in decoded space since CF
 * unpacking is linear (mean(a*v+b) = a*mean(v)+b), and rounded to the nearest integer to re-pack.
 *
 * @module
 */

import type { BandRef } from "../convert/encode-task.js";
import { copyIntoTargets } from "../convert/source.js";
import { downsample, halveAverage, type Resampling, reducedSize } from "../kernels/resample.js";
import { type DataType, dataTypeInfo, integerRange, isBigInt, viewAs } from "../zarr/dtype.js";
import type { FillValue } from "../zarr/fill-value.js";
import { type ArrayMeta, product } from "../zarr/metadata/model.js";
import { type Box, chunksOverlapping, gridIndices, stridesOf } from "../zarr/ndarray.js";
import { run as readChunks, readGridChunkShape } from "../zarr/read/read-task.js";
import type { StoreRef } from "../zarr/store/ref.js";
import { sampleMercator, type TmsSampling } from "./webmercator.js";

export interface LevelSource {
  store: StoreRef;
  storeName: string;
  /** The previous level's array. */
  path: string;
  meta: ArrayMeta;
  yAxis: number;
  xAxis: number;
  method: Resampling;
  /** Instead of halving `path`, sample it (EPSG:4326) onto this WebMercatorQuad zoom. */
  mercator?: { affine: number[]; zoom: number; tile: number; method: TmsSampling } | undefined;
}

export interface DownsampleBandInput {
  source: LevelSource;
  /** The segment, in the new level's coordinates. */
  segment: Box;
  bands: BandRef[];
}

let scratch = new ArrayBuffer(0);
let outScratch = new ArrayBuffer(0);

/** Y and X are the two last dimensions (the usual layout): planes are contiguous, read in place. */
function contains(outer: Box, inner: Box): boolean {
  return inner.start.every(
    (s, d) => s >= outer.start[d]! && s + inner.shape[d]! <= outer.start[d]! + outer.shape[d]!,
  );
}

/** Where plane `outBase` of `segment` starts in `band`, and its row stride there. */
function bandTarget(band: BandRef, segment: Box, outBase: number) {
  const bs = stridesOf(band.box.shape);
  const ss = stridesOf(segment.shape);
  const nd = segment.shape.length;
  // outBase is in segment strides: decompose it into the plane's index, then re-place it.
  let rest = outBase;
  let offset = 0;
  for (let d = 0; d < nd; d++) {
    const i = Math.floor(rest / ss[d]!);
    rest -= i * ss[d]!;
    offset += (i + segment.start[d]! - band.box.start[d]!) * bs[d]!;
  }
  const view = viewAs(band.dataType, new Uint8Array(band.buffer)) as Float64Array;
  return { view, offset, stride: bs[nd - 2]! };
}

function contiguousYX(ndim: number, src: LevelSource): boolean {
  return src.yAxis === ndim - 2 && src.xAxis === ndim - 1;
}

/** The previous level's region that a box of the new level is computed from. */
export function parentBox(box: Box, src: LevelSource): Box {
  const start = box.start.map((s, d) => (d === src.yAxis || d === src.xAxis ? 2 * s : s));
  const shape = box.shape.map((n, d) =>
    d === src.yAxis || d === src.xAxis ? Math.min(2 * n, src.meta.shape[d]! - start[d]!) : n,
  );
  return { start, shape };
}

function isMissing(fill: FillValue): number | undefined {
  return typeof fill === "number" && !Number.isNaN(fill) ? fill : undefined;
}

export async function run(input: DownsampleBandInput): Promise<{ output: number }> {
  const { source: src, segment } = input;
  const dt: DataType = src.meta.dataType;
  if (src.mercator) {
    const n = product(segment.shape);
    const size = dataTypeInfo(dt).size;
    if (outScratch.byteLength < n * size) outScratch = new ArrayBuffer(n * size);
    const out = viewAs(dt, new Uint8Array(outScratch, 0, n * size)) as Float64Array;
    await sampleMercator(
      { ...src, ...src.mercator },
      segment,
      out,
      src.meta.fillValue,
      integerRange(dt) !== null,
    );
    copyIntoTargets(out, segment, input.bands);
    return { output: n * size };
  }
  if (isBigInt(dt)) throw new Error(`${src.path}: 64-bit integer data cannot be resampled`);
  const inBox = parentBox(segment, src);
  const size = dataTypeInfo(dt).size;
  const bytes = product(inBox.shape) * size;
  if (scratch.byteLength < bytes) scratch = new ArrayBuffer(bytes);
  await readChunks({
    store: src.store,
    storeName: src.storeName,
    path: src.path,
    meta: src.meta,
    chunks: chunksOverlapping(inBox, readGridChunkShape(src.meta)),
    outs: [{ buffer: scratch, dataType: dt, box: inBox }],
  });
  const input2d = viewAs(dt, new Uint8Array(scratch, 0, bytes)) as Float64Array;

  // Reduce plane by plane into a C-ordered result of the segment's shape.
  const outBytes = product(segment.shape) * size;
  if (outScratch.byteLength < outBytes) outScratch = new ArrayBuffer(outBytes);
  const out = viewAs(dt, new Uint8Array(outScratch, 0, outBytes)) as Float64Array;
  const rows = inBox.shape[src.yAxis]!;
  const cols = inBox.shape[src.xAxis]!;
  const outRows = reducedSize(rows, 2);
  const outCols = reducedSize(cols, 2);
  const fast = contiguousYX(inBox.shape.length, src) && src.method === "average";
  const reduced = fast ? null : new Float64Array(outRows * outCols);
  const missing = isMissing(src.meta.fillValue);
  const fill = typeof src.meta.fillValue === "number" ? src.meta.fillValue : Number.NaN;
  const range = integerRange(dt);
  // Every plane: the index of each non-spatial dimension.
  const others = segment.shape.map((n, d) => (d === src.yAxis || d === src.xAxis ? 1 : n));
  const inStrides = stridesOf(inBox.shape);
  const outStrides = stridesOf(segment.shape);
  const plane = contiguousYX(inBox.shape.length, src) ? null : new Float64Array(rows * cols);
  // The one target, when it holds the whole segment: written in place (no copy at the end). With
  // several targets the segment is reduced once into its own buffer and copied into each.
  const only = input.bands.length === 1 ? input.bands[0]! : null;
  const single = fast && only && contains(only.box, segment) ? only : null;
  for (const idx of gridIndices(others)) {
    let inBase = 0;
    let outBase = 0;
    idx.forEach((i, d) => {
      inBase += i * inStrides[d]!;
      outBase += i * outStrides[d]!;
    });
    if (fast) {
      // The common case, in one pass (kernels/resample.ts halveAverage); straight into the band
      // when the segment lies in one (the pipeline aligns them), else into the segment buffer.
      const direct = single ? bandTarget(single, segment, outBase) : null;
      halveAverage(
        input2d.subarray(inBase, inBase + rows * cols),
        rows,
        cols,
        direct ? direct.view : out,
        direct ? direct.offset : outBase,
        direct ? direct.stride : outCols,
        missing ?? Number.NaN,
        fill,
        range !== null,
      );
      continue;
    }
    let values: Float64Array;
    if (plane) {
      for (let r = 0; r < rows; r++)
        for (let c = 0; c < cols; c++)
          plane[r * cols + c] = input2d[inBase + r * inStrides[src.yAxis]! + c * inStrides[src.xAxis]!]!;
      values = plane;
    } else values = input2d.subarray(inBase, inBase + rows * cols);
    downsample(src.method, { values, rows, cols }, 2, reduced!, { missing, empty: fill });
    const ys = outStrides[src.yAxis]!;
    const xs = outStrides[src.xAxis]!;
    for (let r = 0; r < outRows; r++)
      for (let c = 0; c < outCols; c++) {
        let v = reduced![r * outCols + c]!;
        // Integers (packed data, flags): round to the nearest, within the type.
        if (range && !Number.isNaN(v)) v = Math.min(range[1], Math.max(range[0], Math.round(v)));
        out[outBase + r * ys + c * xs] = v;
      }
  }

  copyIntoTargets(
    out,
    segment,
    input.bands.filter((t) => t !== single),
  );
  return { output: bytes };
}
