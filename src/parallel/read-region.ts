/**
 * Read a box of an array with the chunks decoded in parallel on the worker pool, into one output
 * buffer (a SharedArrayBuffer when workers are used, so each worker writes its chunks in place).
 *
 * @module
 */

import { GeoZarrError } from "../errors.js";
import { type AnyTypedArray, dataTypeInfo, viewAs } from "../zarr/dtype.js";
import { getNode, type Hierarchy } from "../zarr/hierarchy.js";
import { numericArray, product, shardingOf } from "../zarr/metadata/model.js";
import { type Box, chunkBox, chunksOverlapping, intersect } from "../zarr/ndarray.js";
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
  // One task per chunk overlapping the box: the pool balances them over the workers. On a remote
  // store a sharded array is read a shard per task instead: the task asks for the shard's inner
  // chunks together (read-task.ts read-ahead), so their byte ranges coalesce into a few requests
  // and the shard index is read once.
  const remote = (h.store.readAhead ?? 1) > 1 && shardingOf(meta) !== undefined;
  const groups: Iterable<number[][]> = remote
    ? (function* () {
        for (const s of chunksOverlapping(region, meta.chunkShape)) {
          const part = intersect(chunkBox(s, meta.chunkShape, meta.shape), region);
          if (part) yield [...chunksOverlapping(part, grid)];
        }
      })()
    : (function* () {
        for (const c of chunksOverlapping(region, grid)) yield [c];
      })();
  for (const chunks of groups) {
    if (jobs.failed) break;
    await runner.slot();
    jobs.add(
      runner.run("read-chunks", {
        store,
        storeName: h.name,
        path: node.path,
        meta,
        chunks,
        outs: [{ buffer, dataType: meta.dataType, box: region }],
      }),
    );
  }
  await jobs.all();
  return { data: out, shape: region.shape };
}
