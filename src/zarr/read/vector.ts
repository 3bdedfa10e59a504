/**
 * All values of a small 1-D array (a coordinate variable) as float64, chunk by chunk on the
 * calling thread. For coordinates, bounds and labels; big arrays go through the worker pool.
 * @module
 */

import type { ArrayMeta } from "../metadata/model.js";
import { chunkBox, chunksOverlapping, copyBox } from "../ndarray.js";
import type { ReadableStore } from "../store/types.js";
import { openArray, readChunk } from "./array.js";
import { readGridChunkShape } from "./read-task.js";

export async function readVector(
  store: ReadableStore,
  path: string,
  meta: ArrayMeta,
  storeName = "store",
): Promise<Float64Array> {
  if (meta.shape.length !== 1) throw new RangeError(`readVector: ${path} is ${meta.shape.length}-D`);
  const a = openArray(store, path, meta, storeName);
  const grid = readGridChunkShape(meta);
  const out = new Float64Array(meta.shape[0]!);
  for (const coords of chunksOverlapping({ start: [0], shape: meta.shape }, grid)) {
    const chunk = await readChunk(a, coords);
    const cbox = chunkBox(coords, grid, meta.shape);
    const part = Float64Array.from(chunk.data as ArrayLike<number>, Number);
    copyBox(part, grid, [0], out, meta.shape, cbox.start, cbox.shape);
  }
  return out;
}
