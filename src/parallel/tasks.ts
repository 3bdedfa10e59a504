/**
 * The work that can run on worker threads, by name. Each entry lazily imports a module exporting
 * `run(input)`, which returns `{ output, transfer }`. The same function runs inline when the pool
 * has no workers (in-memory stores, the browser, `--workers 0`).
 *
 * @module
 */

import { faultPoint } from "../faults.js";

export interface TaskResult<O> {
  output: O;
  /** Buffers to move (not copy) back to the caller. */
  transfer?: ArrayBuffer[];
}

export const TASK_MODULES = {
  "encode-chunk": () => import("../convert/encode-task.js"),
  "read-band": () => import("../convert/band-task.js"),
  "read-chunks": () => import("../zarr/read/read-task.js"),
  "chunk-stats": () => import("../inspect/stats-task.js"),
  "overview-chunk": () => import("../pyramid/overview-task.js"),
  "downsample-band": () => import("../pyramid/level-task.js"),
  "halve-band": () => import("../convert/halve-task.js"),
  "scan-input": () => import("../convert/series/scan-task.js"),
} as const;

export type TaskKind = keyof typeof TASK_MODULES;
type ModuleOf<K extends TaskKind> = Awaited<ReturnType<(typeof TASK_MODULES)[K]>>;
export type TaskInput<K extends TaskKind> = Parameters<ModuleOf<K>["run"]>[0];
export type TaskOutput<K extends TaskKind> = Awaited<ReturnType<ModuleOf<K>["run"]>>["output"];

export async function runTask<K extends TaskKind>(
  kind: K,
  input: TaskInput<K>,
): Promise<TaskResult<TaskOutput<K>>> {
  await faultPoint(`task:${kind}`);
  const mod = (await TASK_MODULES[kind]()) as unknown as {
    run(i: TaskInput<K>): Promise<TaskResult<TaskOutput<K>>>;
  };
  return mod.run(input);
}
