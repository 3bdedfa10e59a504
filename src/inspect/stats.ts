/**
 * Summary statistics of an array, computed chunk by chunk on the worker pool: bounded memory
 * (one chunk per task) whatever the array size.
 *
 * Missing values are NaN, the Zarr fill value, and the CF `_FillValue` / `missing_value` attributes
 * (CF §2.5.1). For CF-packed variables (`scale_factor`/`add_offset`, CF §8.1) the decoded
 * statistics are reported too, computed from the stored ones (the map is linear).
 *
 * @module
 */

import { missingValues, packingOf } from "../cf/packing.js";
import { GeoZarrError } from "../errors.js";
import { poolFor, type WorkerPool } from "../parallel/pool.js";
import { TaskGroup } from "../parallel/task-group.js";
import { getNode, type Hierarchy } from "../zarr/hierarchy.js";
import { chunkGridShape, product } from "../zarr/metadata/model.js";
import { gridIndices } from "../zarr/ndarray.js";
import { readGridChunkShape } from "../zarr/read/read-task.js";
import { canUseWorkers, refFor } from "../zarr/store/ref.js";
import { emptyStats, mergeStats, type PartialStats } from "./stats-task.js";

export interface ValueStats {
  min: number | null;
  max: number | null;
  mean: number | null;
}

export interface ArrayStats extends ValueStats {
  path: string;
  shape: number[];
  dataType: string;
  elements: number;
  valid: number;
  missing: number;
  /** Values counted as missing besides NaN. */
  missingValues: number[];
  /** Statistics of the CF-decoded values (raw * scale_factor + add_offset), when packed. */
  decoded?: ValueStats & { scaleFactor: number; addOffset: number };
}

export async function computeStats(h: Hierarchy, path: string, pool: WorkerPool): Promise<ArrayStats> {
  const node = getNode(h, path);
  if (node.meta.kind !== "array") {
    throw new GeoZarrError("Usage", `${h.name}${node.path} is a group; stats needs an array`, {
      where: node.path,
    });
  }
  const meta = node.meta;
  const missing = missingValues(meta);

  const grid = readGridChunkShape(meta);
  const runner = poolFor(pool, canUseWorkers(h.store));
  const store = refFor(h.store, runner.size > 0);
  const jobs = new TaskGroup<PartialStats>();
  for (const coords of gridIndices(chunkGridShape(meta.shape, grid))) {
    if (jobs.failed) break;
    await runner.slot();
    jobs.add(
      runner.run("chunk-stats", {
        store,
        storeName: h.name,
        path: node.path,
        meta,
        chunks: [coords],
        missing,
      }),
    );
  }
  const total = (await jobs.all()).reduce(mergeStats, emptyStats());
  const elements = product(meta.shape);
  const valid = total.count;
  const mean = valid > 0 ? (total.sum + total.comp) / valid : null;
  const result: ArrayStats = {
    path: node.path,
    shape: meta.shape,
    dataType: meta.dataType,
    elements,
    valid,
    missing: elements - valid,
    missingValues: missing,
    min: valid > 0 ? total.min : null,
    max: valid > 0 ? total.max : null,
    mean,
  };
  const packing = packingOf(meta);
  if (packing) {
    const { scale: s, offset: o } = packing;
    const f = (x: number | null) => (x === null ? null : x * s + o);
    const [lo, hi] = s >= 0 ? [f(result.min), f(result.max)] : [f(result.max), f(result.min)];
    result.decoded = { min: lo, max: hi, mean: f(mean), scaleFactor: s, addOffset: o };
  }
  return result;
}
