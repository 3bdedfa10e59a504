/**
 * A single input's plan as tasks, for runs that spread one conversion over many processes (a
 * queue of workers, jobs/run-plan.ts): each large array's unit grid cut into runs of whole rows
 * along its outermost axis that has more than one unit, about `bytes` of values per task. Small
 * arrays (coordinates, grid mappings) are left to finalize. Tasks never share a unit, and the
 * reduced copies a unit computes (its fused multiscale levels, convert/multiscale.ts) lie inside
 * it, so tasks write disjoint sets of chunks.
 * @module
 */

import { basename } from "node:path";
import { dataTypeInfo } from "../zarr/dtype.js";
import { chunkGridShape, product } from "../zarr/metadata/model.js";
import type { NodePlan, TaskPlan } from "./execute.js";

/** About this many bytes of values per task: large enough that a task's overhead is noise. */
export const TASK_BYTES = 512 * 2 ** 20;

/** Arrays smaller than this (or than one task's bytes) are written by finalize, whole. */
const SMALL_ARRAY = 16 * 2 ** 20;

export function splitTasks(nodes: NodePlan[], input: string, bytes = TASK_BYTES): TaskPlan[] {
  const tasks: TaskPlan[] = [];
  for (const n of nodes) {
    if (n.kind !== "array" || !n.copy) continue;
    const size = dataTypeInfo(n.spec.dataType).size;
    if (product(n.spec.shape) * size < Math.min(SMALL_ARRAY, bytes)) continue;
    const unit = n.spec.shardShape ?? n.spec.chunkShape;
    const grid = chunkGridShape(n.spec.shape, unit);
    if (grid.some((g) => g === 0)) continue;
    // Units a sparse copy writes (convert/pipeline.ts `units`) are not split: one task does them all.
    const axis = n.copy.units ? -1 : grid.findIndex((g) => g > 1);
    if (axis < 0) {
      tasks.push({
        label: `${basename(input)} ${n.path}`,
        regions: { [n.path]: { start: grid.map(() => 0), shape: grid } },
      });
      continue;
    }
    const rowBytes = product(grid.slice(axis + 1)) * product(unit) * size;
    const rows = Math.max(1, Math.floor(bytes / rowBytes));
    for (let lo = 0; lo < grid[axis]!; lo += rows) {
      const hi = Math.min(grid[axis]!, lo + rows);
      tasks.push({
        label: `${basename(input)} ${n.path} ${lo === hi - 1 ? `row ${lo}` : `rows ${lo}-${hi - 1}`} of ${grid[axis]}`,
        regions: {
          [n.path]: {
            start: grid.map((_, d) => (d === axis ? lo : 0)),
            shape: grid.map((g, d) => (d === axis ? hi - lo : g)),
          },
        },
      });
    }
  }
  return tasks;
}
