/**
 * Task "overview-chunk": decode one chunk's part of a 2-D plane of an array and add it into the
 * partial averages of the overview cells it covers (kernels/resample.ts `accumulateAverage`).
 * Raw values are averaged; CF unpacking is linear, so the caller applies scale/offset to the
 * averages (mean(a*v+b) = a*mean(v)+b).
 * @module
 */

import { accumulateAverage, type CellWindow } from "../kernels/resample.js";
import { dataTypeInfo, viewAs } from "../zarr/dtype.js";
import type { ArrayMeta } from "../zarr/metadata/model.js";
import { product } from "../zarr/metadata/model.js";
import { type Box, chunkBox, intersect } from "../zarr/ndarray.js";
import { run as readChunks, readGridChunkShape } from "../zarr/read/read-task.js";
import type { StoreRef } from "../zarr/store/ref.js";

export interface PlaneSpec {
  /** The plane: index of every non-spatial dimension (ignored at yAxis/xAxis). */
  index: number[];
  yAxis: number;
  xAxis: number;
  /** Rows are flipped to north-up (the source's Y grows northwards). */
  flip: boolean;
  factor: number;
  /** Raw values that mean missing besides NaN (at most two). */
  missing: number[];
}

export interface OverviewChunkInput {
  store: StoreRef;
  storeName: string;
  path: string;
  meta: ArrayMeta;
  chunk: number[];
  plane: PlaneSpec;
}

export interface OverviewChunkOutput {
  win: CellWindow;
  sum: Float64Array;
  count: Uint32Array;
}

let scratch = new ArrayBuffer(0);

/** The part of a chunk inside the plane, or null when the chunk does not cross it. */
export function planeBox(meta: ArrayMeta, coords: number[], plane: PlaneSpec): Box | null {
  const grid = readGridChunkShape(meta);
  const cb = chunkBox(coords, grid, meta.shape);
  const sel: Box = {
    start: meta.shape.map((_, d) => (d === plane.yAxis || d === plane.xAxis ? 0 : plane.index[d]!)),
    shape: meta.shape.map((n, d) => (d === plane.yAxis || d === plane.xAxis ? n : 1)),
  };
  return intersect(cb, sel);
}

export async function run(
  input: OverviewChunkInput,
): Promise<{ output: OverviewChunkOutput; transfer: ArrayBuffer[] }> {
  const { meta, plane } = input;
  const box = planeBox(meta, input.chunk, plane)!;
  const size = dataTypeInfo(meta.dataType).size;
  const bytes = product(box.shape) * size;
  if (scratch.byteLength < bytes) scratch = new ArrayBuffer(bytes);
  await readChunks({
    store: input.store,
    storeName: input.storeName,
    path: input.path,
    meta,
    chunks: [input.chunk],
    outs: [{ buffer: scratch, dataType: meta.dataType, box }],
  });
  const raw = viewAs(meta.dataType, new Uint8Array(scratch, 0, bytes));
  // 64-bit integers come as BigInt; averages are floating point anyway.
  const values =
    raw instanceof BigInt64Array || raw instanceof BigUint64Array ? Float64Array.from(raw, Number) : raw;

  const rows = box.shape[plane.yAxis]!;
  const cols = box.shape[plane.xAxis]!;
  const y0 = box.start[plane.yAxis]!;
  const x0 = box.start[plane.xAxis]!;
  const totalRows = meta.shape[plane.yAxis]!;
  const f = plane.factor;
  // North-up output rows covered by this block.
  const top = plane.flip ? totalRows - 1 - (y0 + rows - 1) : y0;
  const bottom = top + rows - 1;
  const win: CellWindow = {
    cellRow0: Math.floor(top / f),
    cellCol0: Math.floor(x0 / f),
    cellRows: Math.floor(bottom / f) - Math.floor(top / f) + 1,
    cellCols: Math.floor((x0 + cols - 1) / f) - Math.floor(x0 / f) + 1,
  };
  const sum = new Float64Array(win.cellRows * win.cellCols);
  const count = new Uint32Array(win.cellRows * win.cellCols);
  accumulateAverage(
    { values: values as ArrayLike<number> as Float64Array, rows, cols },
    { row0: plane.flip ? totalRows - 1 - y0 : y0, rowStep: plane.flip ? -1 : 1, col0: x0 },
    f,
    win,
    sum,
    count,
    plane.missing,
  );
  return { output: { win, sum, count }, transfer: [sum.buffer, count.buffer] };
}
