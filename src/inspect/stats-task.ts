/**
 * Task "chunk-stats": decode chunks and reduce them to count, missing, min, max and a compensated
 * sum. Only the part of an edge chunk inside the array counts.
 * @module
 */

import { dataTypeInfo, viewAs } from "../zarr/dtype.js";
import type { ArrayMeta } from "../zarr/metadata/model.js";
import { product } from "../zarr/metadata/model.js";
import { chunkBox } from "../zarr/ndarray.js";
import { run as readChunks, readGridChunkShape } from "../zarr/read/read-task.js";
import type { StoreRef } from "../zarr/store/ref.js";

export interface PartialStats {
  count: number;
  missing: number;
  min: number;
  max: number;
  /** Neumaier-compensated sum of the valid values, as (sum, compensation). */
  sum: number;
  comp: number;
}

export interface ChunkStatsInput {
  store: StoreRef;
  storeName: string;
  path: string;
  meta: ArrayMeta;
  chunks: number[][];
  /** Values that mean "missing" besides NaN: the fill value and CF _FillValue / missing_value. */
  missing: number[];
}

let scratch = new ArrayBuffer(0);

export function emptyStats(): PartialStats {
  return {
    count: 0,
    missing: 0,
    min: Number.POSITIVE_INFINITY,
    max: Number.NEGATIVE_INFINITY,
    sum: 0,
    comp: 0,
  };
}

export function mergeStats(a: PartialStats, b: PartialStats): PartialStats {
  const sum = a.sum + b.sum;
  const comp =
    a.comp + b.comp + (Math.abs(a.sum) >= Math.abs(b.sum) ? a.sum - sum + b.sum : b.sum - sum + a.sum);
  return {
    count: a.count + b.count,
    missing: a.missing + b.missing,
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
    sum,
    comp,
  };
}

export async function run(input: ChunkStatsInput): Promise<{ output: PartialStats }> {
  const { meta } = input;
  const grid = readGridChunkShape(meta);
  const size = dataTypeInfo(meta.dataType).size;
  const need = product(grid) * size;
  if (scratch.byteLength < need) scratch = new ArrayBuffer(need);
  let acc = emptyStats();
  for (const coords of input.chunks) {
    const box = chunkBox(coords, grid, meta.shape);
    const bytes = product(box.shape) * size;
    await readChunks({
      store: input.store,
      storeName: input.storeName,
      path: input.path,
      meta,
      chunks: [coords],
      outs: [{ buffer: scratch, dataType: meta.dataType, box }],
    });
    const values = viewAs(meta.dataType, new Uint8Array(scratch, 0, bytes));
    acc = mergeStats(acc, reduce(values as unknown as ArrayLike<number | bigint>, input.missing));
  }
  return { output: acc };
}

function reduce(values: ArrayLike<number | bigint>, missingValues: number[]): PartialStats {
  const s = emptyStats();
  const missing = new Set(missingValues);
  const checkSet = missing.size > 0;
  let sum = 0;
  let comp = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let count = 0;
  let nMissing = 0;
  const n = values.length;
  for (let i = 0; i < n; i++) {
    const v = Number(values[i]);
    if (Number.isNaN(v) || (checkSet && missing.has(v))) {
      nMissing++;
      continue;
    }
    count++;
    if (v < min) min = v;
    if (v > max) max = v;
    const t = sum + v;
    comp += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
    sum = t;
  }
  s.count = count;
  s.missing = nMissing;
  s.min = min;
  s.max = max;
  s.sum = sum;
  s.comp = comp;
  return s;
}
