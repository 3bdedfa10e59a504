/**
 * `planRun` and `prepareRun(inputs, output, options)`: plan a conversion as tasks and leave it in its staging
 * area for other processes to run (a queue of `geozarr worker`s, or a Kubernetes Indexed Job
 * running `geozarr task`), without running any of it here. A time series (`concat`) is planned as
 * `convertSeries` plans it; a single input is planned as `convert` plans it and cut into tasks of
 * whole unit rows (convert/tasks.ts). The output's lock is held only while planning: the tasks
 * write into the staging area (which is ours) and `finalizeStaged` takes the lock again to move the
 * finished store into place.
 *
 * The output is a directory on a file system every worker mounts at the same path (the staging
 * area is a hidden sibling, moved into place by finalize) or an s3:// prefix (the prefix is the
 * staging area: upload-run.ts); the inputs are local files every worker reads at the same path.
 *
 * Preparing the same conversion again finds its staging area and continues it: tasks already done
 * stay done.
 * @module
 */

import { resolve } from "node:path";
import { expandInputs } from "../convert/inputs.js";
import { type EntryIdentity, entryIdentity } from "../convert/output.js";
import { normalizeOptions } from "../convert/plan-input.js";
import type { RunStaging } from "../convert/staging.js";
import { TASK_BYTES } from "../convert/tasks.js";
import { GeoZarrError } from "../errors.js";
import { WorkerPool } from "../parallel/pool.js";
import { isStoreUrl, parseLocation, type RemoteOptions, requireLocal } from "../zarr/store/location.js";
import { type ConvertOptions, planSingleRun } from "./convert.js";
import { type DraftPlan, planFile, type RunPlan, stageRun, unfinishedTasks } from "./run-plan.js";
import { planSeriesRun, type SeriesOptions } from "./series.js";
import { type StoreDigest, stageUploadRun, uploadIdentity } from "./upload-run.js";

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
  /** How the submitting process reaches an s3:// output (workers use their own environment). */
  remote?: RemoteOptions | undefined;
}

/** A planned run staged for other processes, its output locked until `release`. */
export interface StagedRun {
  plan: RunPlan;
  staging: RunStaging;
  /** What the jobs name: the plan's path, or its s3:// URL. */
  planFile: string;
  /** The staging directory's identity (what finalize moves into place); null in object storage. */
  identity: EntryIdentity | null;
  notes: string[];
  /** Release the output's lock; the staging area (or the marked prefix) stays for the tasks. */
  release(): Promise<void>;
}

/** Stage `planned` in its output's staging area, or under its s3:// prefix, continuing the same plan's. */
export async function stagePlanned(planned: PlannedRun): Promise<StagedRun> {
  const { draft, inputs } = planned;
  const notes = (n: string[]) => n.filter((x) => !x.startsWith("nothing to resume"));
  if (isStoreUrl(draft.output)) {
    const up = await stageUploadRun(draft, inputs, planned.remote);
    const { plan, staging, pending, planFile: file } = up;
    return {
      plan,
      staging,
      planFile: file,
      identity: null,
      notes: notes(pending.notes),
      release: () => pending.abort(),
    };
  }
  const { plan, staging, pending } = await stageRun(draft, inputs, true);
  return {
    plan,
    staging,
    planFile: planFile(staging.dir),
    identity: await entryIdentity(staging.dir),
    notes: notes(pending.notes),
    release: () => pending.abort(),
  };
}

/** What a finished run's output is (a directory's identity, a store's consolidated digest), or null. */
export async function outputIdentity(
  output: string,
  remote?: RemoteOptions,
): Promise<EntryIdentity | StoreDigest | null> {
  return isStoreUrl(output) ? uploadIdentity(output, remote) : entryIdentity(output);
}

/** Whether two output identities are the same output. */
export function sameOutput(a: EntryIdentity | StoreDigest | null, b: EntryIdentity | StoreDigest | null) {
  if (a === null || b === null) return false;
  if ("digest" in a || "digest" in b) return "digest" in a && "digest" in b && a.digest === b.digest;
  return a.dev === b.dev && a.ino === b.ino && a.birthtimeMs === b.birthtimeMs;
}

/**
 * Plan `inputs` into `output` as tasks for other processes to run: a time series with `concat`,
 * else one input cut into tasks of whole unit rows. Nothing is written; `stageRun` comes next.
 */
export async function planRun(given: string[], output: string, options: PrepareOptions): Promise<PlannedRun> {
  if (parseLocation(output).kind === "http")
    throw new GeoZarrError("Usage", `${output}: HTTP stores are read-only; write to a directory or s3://`);
  // Every worker opens the inputs itself, by the plan's paths (a file by URL would be downloaded
  // by each task anew, and its stamp means nothing on another machine).
  for (const g of given)
    requireLocal(g, "the inputs of runs planned as tasks are files every worker reads at the same path");
  // Absolute paths: the plan is read by processes in other working directories, on other machines.
  const inputs = (await expandInputs(given, { inputsFrom: options.inputsFrom })).map((f) => resolve(f));
  if (options.concat) {
    const pool = new WorkerPool(normalizeOptions(options).workers);
    const detach = pool.stopOn(options.signal);
    try {
      const series = { ...options, inputsFrom: undefined } as SeriesOptions;
      return { ...(await planSeriesRun(inputs, output, series, pool)), remote: options.remote };
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
  return { draft, inputs, remote: options.remote };
}

/** Plan and stage a run for other processes (the output's lock released, the staging area kept). */
export async function prepareRun(given: string[], output: string, options: PrepareOptions) {
  const planned = await planRun(given, output, options);
  const { draft } = planned;
  const staged = await stagePlanned(planned);
  let done: number;
  try {
    done = staged.plan.tasks.length - (await unfinishedTasks(staged.plan, staged.staging)).length;
  } finally {
    await staged.release();
  }
  return {
    id: draft.id,
    plan: staged.planFile,
    output: draft.output,
    tasks: draft.tasks.length,
    done,
    notes: staged.notes,
  };
}
