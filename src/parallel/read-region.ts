/**
 * Read a box of an array with the chunks decoded in parallel on the worker pool, into one output
 * buffer (a SharedArrayBuffer when workers are used, so each worker writes its chunks in place).
 *
 * @module
 */

import { GeoZarrError } from "../errors.js";
import { type AnyTypedArray, dataTypeInfo, viewAs } from "../zarr/dtype.js";
import { getNode, type Hierarchy } from "../zarr/hierarchy.js";
import { numericArray, product } from "../zarr/metadata/model.js";
import { type Box, chunksOverlapping } from "../zarr/ndarray.js";
import { readGridChunkShape } from "../zarr/read/read-task.js";
import { canUseWorkers, refFor } from "../zarr/store/ref.js";
import { poolFor, type WorkerPool } from "./pool.js";
import { TaskGroup } from "./task-group.js";

export interface RegionData {
  data: AnyTypedArray;
  shape: number[];
}

export interface ReadOptions {
  /**
   * Where to put the values (C order, the array's data type, exactly the box's size), to reuse one
   * buffer across reads. Backed by a SharedArrayBuffer, chunks are decoded on the worker pool;
   * backed by an ArrayBuffer, on the calling thread. Without it, a new buffer is allocated.
   */
  out?: AnyTypedArray;
}

export async function readRegion(
  h: Hierarchy,
  path: string,
  pool: WorkerPool,
  box?: Box,
  options: ReadOptions = {},
): Promise<RegionData> {
  const node = getNode(h, path);
  if (node.meta.kind === "group")
    throw new GeoZarrError("Usage", `${h.name}${node.path} is a group, not an array`);
  const meta = numericArray(node.meta, `${h.name}${node.path}`);
  const region = box ?? { start: meta.shape.map(() => 0), shape: meta.shape.slice() };
  const grid = readGridChunkShape(meta);
  const size = dataTypeInfo(meta.dataType).size;
  const bytes = product(region.shape) * size;
  const given = options.out;
  if (
    given &&
    (given.byteLength !== bytes || given.BYTES_PER_ELEMENT !== size || given.buffer.byteLength !== bytes)
  ) {
    throw new GeoZarrError(
      "Usage",
      `readRegion: out must be a whole buffer of ${product(region.shape)} ${meta.dataType} values`,
    );
  }
  const shareable = given === undefined || given.buffer instanceof SharedArrayBuffer;
  const runner = poolFor(pool, canUseWorkers(h.store) && shareable);
  const workers = runner.size > 0;
  const buffer = given?.buffer ?? (workers ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  const out = given ?? viewAs(meta.dataType, new Uint8Array(buffer));
  // No pre-fill: every chunk overlapping the box writes its part, missing chunks as fill_value
  // (zarrita fills them), so the output is touched once, by the workers, in parallel.

  const store = refFor(h.store, workers);
  const jobs = new TaskGroup<unknown>();
  // One task per chunk overlapping the box: the pool balances them over the workers.
  for (const coords of chunksOverlapping(region, grid)) {
    if (jobs.failed) break;
    await runner.slot();
    jobs.add(
      runner.run("read-chunks", {
        store,
        storeName: h.name,
        path: node.path,
        meta,
        chunks: [coords],
        outs: [{ buffer, dataType: meta.dataType, box: region }],
      }),
    );
  }
  await jobs.all();
  return { data: out, shape: region.shape };
}
