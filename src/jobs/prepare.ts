/**
 * `planRun` and `prepareRun(inputs, output, options)`: plan a conversion as tasks and leave it in its staging
 * area for other processes to run (a queue of `geozarr worker`s, or a Kubernetes Indexed Job
 * running `geozarr task`), without running any of it here. A time series (`concat`) is planned as
 * `convertSeries` plans it; a single input is planned as `convert` plans it and cut into tasks of
 * whole unit rows (convert/tasks.ts). The output's lock is held only while planning: the tasks
 * write into the staging area (which is ours) and `finalizeStaged` takes the lock again to move the
 * finished store into place.
 *
 * Preparing the same conversion again finds its staging area and continues it: tasks already done
 * stay done.
 * @module
 */

import { resolve } from "node:path";
import { expandInputs } from "../convert/inputs.js";
import { normalizeOptions } from "../convert/plan-input.js";
import { TASK_BYTES } from "../convert/tasks.js";
import { GeoZarrError } from "../errors.js";
import { WorkerPool } from "../parallel/pool.js";
import { requireLocal } from "../zarr/store/location.js";
import { type ConvertOptions, planSingleRun } from "./convert.js";
import { type DraftPlan, planFile, stageRun, unfinishedTasks } from "./run-plan.js";
import { planSeriesRun, type SeriesOptions } from "./series.js";

export interface PrepareOptions extends ConvertOptions {
  /** A time series along this dimension (else the inputs must be one). */
  concat?: string | undefined;
  inputsFrom?: string | undefined;
  /** GeoTIFF scenes: the date in their names (series.ts). */
  timeFrom?: string | undefined;
}

/** A run planned as tasks, not yet staged (`stageRun` checks and locks the output). */
export interface PlannedRun {
  draft: DraftPlan;
  inputs: string[];
}

/**
 * Plan `inputs` into `output` as tasks for other processes to run: a time series with `concat`,
 * else one input cut into tasks of whole unit rows. Nothing is written; `stageRun` comes next.
 */
export async function planRun(given: string[], output: string, options: PrepareOptions): Promise<PlannedRun> {
  // The staging area and its task records are files every worker shares; object storage has no
  // rename to commit them with (design.md, "Many machines": what is left).
  requireLocal(
    output,
    "runs planned as tasks are written to a shared directory for now; convert to s3:// in one process",
  );
  for (const g of given)
    requireLocal(g, "the inputs of runs planned as tasks are files every worker reads at the same path");
  // Absolute paths: the plan is read by processes in other working directories, on other machines.
  const inputs = (await expandInputs(given, { inputsFrom: options.inputsFrom })).map((f) => resolve(f));
  if (options.concat) {
    const pool = new WorkerPool(normalizeOptions(options).workers);
    const detach = pool.stopOn(options.signal);
    try {
      const series = { ...options, inputsFrom: undefined } as SeriesOptions;
      return await planSeriesRun(inputs, output, series, pool);
    } finally {
      detach();
      await pool.close();
    }
  }
  if (inputs.length !== 1)
    throw new GeoZarrError(
      "Usage",
      `${inputs.length} inputs and no concatenation dimension: name one input, or the dimension to concatenate along (concat)`,
    );
  const { draft } = await planSingleRun(inputs[0]!, output, options, {
    taskBytes: options.taskBytes ?? TASK_BYTES,
  });
  return { draft, inputs };
}

/** Plan and stage a run for other processes (the output's lock released, the staging area kept). */
export async function prepareRun(given: string[], output: string, options: PrepareOptions) {
  const { draft, inputs } = await planRun(given, output, options);
  const prepared = await stageRun(draft, inputs, true);
  const done = prepared.plan.tasks.length - (await unfinishedTasks(prepared.plan, prepared.staging)).length;
  await prepared.pending.abort();
  return {
    id: draft.id,
    plan: planFile(prepared.staging.dir),
    output: draft.output,
    tasks: draft.tasks.length,
    done,
    notes: prepared.pending.notes.filter((n) => !n.startsWith("nothing to resume")),
  };
}
