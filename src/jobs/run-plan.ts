/**
 * A run as data: the plan of a conversion split into tasks, written into its staging area
 * (`.OUT.partial-<id>/.geozarr-run/plan.json`, convert/staging.ts) so that any process that sees
 * the same files (this one, a `geozarr worker` on another machine, a Kubernetes Indexed Job) can run
 * one of its tasks, and one process can finalize it.
 *
 * The three steps and what each guarantees:
 * - **task K** (`runPlanTask`): checks its sources are the files that were planned (size and
 *   modification time), skips itself if its record is intact, else writes its chunks and then its
 *   record. A task's bytes depend only on the plan and its sources, so running it twice, even at
 *   once on two machines, writes the same files (at-least-once delivery is safe).
 * - **finish** (`finishRun`): re-checks every task's record against the chunks on disk, refuses if
 *   one is missing, then writes what no task writes, every document and consolidated metadata last,
 *   the series record and the multiscale levels. Still in the staging area (in object storage,
 *   with levels, published by their ordered upload: upload-levels.ts).
 * - **commit** (`finalizeStaged`, or the local run's own commit): under the output's lock, the
 *   destination checked to be what it was when the run was planned, the staging area is moved into
 *   place.
 * @module
 */

import { readFile, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import {
  DEFAULT_MEMORY_BUDGET,
  type ExecuteOptions,
  type ExecuteSummary,
  finalizePlan,
  halvedPaths,
  type NodePlan,
  type ProgressInfo,
  runTask,
  type TaskPlan,
} from "../convert/execute.js";
import type { SourceLevel } from "../convert/multiscale.js";
import {
  type EntryIdentity,
  entryIdentity,
  type PendingOutput,
  prepareOutput,
  STAGING_META,
} from "../convert/output.js";
import { BufferStock, planCopy } from "../convert/pipeline.js";
import { contentId, planFromJson, planToJson } from "../convert/plan-json.js";
import type { PendingStoreOutput } from "../convert/s3-output.js";
import type { ScannedInput } from "../convert/series/scan-task.js";
import { checkStamp, type RunStaging, type SourceStamp, Staging } from "../convert/staging.js";
import { fsError, GeoZarrError } from "../errors.js";
import { addLevels, type PyramidOptions, type PyramidSummary } from "../pyramid/build.js";
import { dataTypeInfo } from "../zarr/dtype.js";
import { isStoreUrl } from "../zarr/store/location.js";
import type { MutableStore } from "../zarr/store/types.js";
import { writeSeriesRecord } from "./series-record.js";
import { publishWithLevels } from "./upload-levels.js";
import type { StoreDigest } from "./upload-run.js";

/** One task: the units it writes (regions) and the sources it reads (indices into `sources`). */
export interface RunTask extends TaskPlan {
  sources: number[];
}

export interface RunPlan {
  version: 1;
  /** The plan's content hash (everything but the time it was made): equal plans, equal ids. */
  id: string;
  /** The destination (absolute path), whether it may be replaced, and what it was when planned. */
  output: string;
  overwrite: boolean;
  existing: EntryIdentity | null;
  zarrFormat: 2 | 3;
  nodes: NodePlan[];
  tasks: RunTask[];
  sources: SourceStamp[];
  /** A time series: the dimension and the first granule, for the store's series record. */
  series?: { concat: string; first: ScannedInput } | undefined;
  /** Multiscale levels to add after the data (the levels the tasks computed are adopted). */
  multiscales?: Omit<PyramidOptions, "signal" | "onProgress" | "computed" | "sourced"> | undefined;
  /** Levels the source has of its own (a COG's overviews). */
  sourced?: SourceLevel[] | undefined;
}

/** A run planned, before its output is checked (what it finds there is recorded by `stageRun`). */
export type DraftPlan = Omit<RunPlan, "existing">;

/** A run planned and its staging area open, the output locked (until `pending` commits or aborts). */
export interface PreparedRun {
  plan: RunPlan;
  staging: Staging;
  pending: PendingOutput;
  inputs: string[];
}

/**
 * Check and lock the output of a planned run, open its staging area (continuing the one an
 * interrupted run of the same plan left, with `resume`) and write the plan into it.
 */
export async function stageRun(
  draft: DraftPlan,
  inputs: string[],
  resume: boolean | undefined,
): Promise<PreparedRun> {
  const pending = await prepareOutput(draft.output, draft.overwrite, inputs, { id: draft.id, resume });
  try {
    const staging = new Staging(pending.tmp, draft.id);
    const plan: RunPlan = { ...draft, existing: pending.existing };
    await writeRunPlan(staging, plan);
    return { plan, staging, pending, inputs };
  } catch (err) {
    await pending.abort();
    throw err;
  }
}

/**
 * Open the run of `draft` in an upload to object storage (its output checked and locked by
 * `prepareS3Output`): continue the interrupted upload of the same plan or start anew, and keep the
 * plan under the prefix (convert/s3-staging.ts).
 */
export async function stageUpload(
  pending: PendingStoreOutput,
  draft: DraftPlan,
): Promise<{ plan: RunPlan; staging: RunStaging }> {
  const staging = await pending.begin(draft.id);
  const plan: RunPlan = { ...draft, existing: null };
  await writeRunPlan(staging, plan);
  return { plan, staging };
}

/**
 * A plan's stable identity: its settings, nodes, tasks and sources, but not the time it was made
 * (the root's history line), so the same conversion planned again has the same id (resume, queues).
 */
export function planId(plan: Pick<RunPlan, "nodes" | "tasks" | "sources">, settings: object): string {
  const nodes = plan.nodes.map((n) =>
    n.kind === "group" && n.path === "/" ? { ...n, attributes: { ...n.attributes, history: null } } : n,
  );
  return contentId({ ...settings, tasks: plan.tasks, sources: plan.sources, nodes: withoutReading(nodes) });
}

/**
 * The nodes without what says how this run reads a file in object storage rather than what it
 * reads (readers/byte-source.ts RemoteFile): its reading id (`run`), its shared counter of fetched
 * bytes (`fetched`) and its store's requests in flight (`concurrency`). A run resumed with another
 * concurrency writes the same bytes, so it is the same plan; the URL, size and version stay.
 */
function withoutReading(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutReading);
  if (v instanceof SharedArrayBuffer) return undefined;
  if (v === null || typeof v !== "object" || ArrayBuffer.isView(v)) return v;
  const remoteFile = "url" in v && "version" in v && "store" in v;
  return Object.fromEntries(
    Object.entries(v).flatMap(([k, x]): [string, unknown][] => {
      if (remoteFile && (k === "run" || k === "fetched")) return [];
      if (remoteFile && k === "store" && x !== null && typeof x === "object") {
        const { concurrency: _, ...store } = x as { concurrency?: unknown };
        return [[k, store]];
      }
      return [[k, withoutReading(x)]];
    }),
  );
}

/** Where a run's plan lives in its staging area. */
export function planFile(staging: string): string {
  return join(staging, STAGING_META, "plan.json");
}

/** The staging area a plan file lies in. */
export function stagingOf(plan: string): string {
  return dirname(dirname(plan));
}

/** Write `plan` into its staging area (atomically, beside the task records). */
export async function writeRunPlan(staging: RunStaging, plan: RunPlan): Promise<void> {
  // Keys in their order: the attributes' order is the output's.
  await staging.writePlan(planToJson(plan, false));
}

let cached: { key: string; plan: RunPlan } | null = null;

/** The plan in `file` (the last one read is kept: a worker reads a plan once for all its tasks). */
export async function readRunPlan(file: string): Promise<RunPlan> {
  let text: string;
  let key: string;
  try {
    const st = await stat(file);
    key = `${file}#${st.ino}#${st.size}#${st.mtimeMs}`;
    if (cached?.key === key) return cached.plan;
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT")
      throw new GeoZarrError(
        "NotFound",
        `${file}: no such plan (the run was finalized already, or its staging area was removed)`,
        { where: file },
      );
    throw fsError(err, file, "read");
  }
  const plan = planFromJson<RunPlan>(text, file);
  if (plan?.version !== 1 || typeof plan.id !== "string" || !Array.isArray(plan.tasks))
    throw new GeoZarrError("InvalidMetadata", `${file}: not a geozarr run plan`, { where: file });
  cached = { key, plan };
  return plan;
}

/** What running a task needs of its plan. */
export type TaskSet = Pick<RunPlan, "nodes" | "tasks" | "sources" | "zarrFormat">;

const sourcesOf = (plan: TaskSet, task: RunTask) => task.sources.map((i) => plan.sources[i]!);

/** Refuse a task whose sources changed since the run was planned (the plan no longer describes them). */
async function checkSources(stamps: SourceStamp[]): Promise<void> {
  for (const s of stamps) await checkStamp(s);
}

/** What running one task did: null when an earlier run had done it (its record intact). */
export type TaskOutcome = (ExecuteSummary & { files: { key: string; size: number }[] }) | null;

/**
 * Run task `index` of `plan` into its staging area, unless its record says it is done; leave its
 * record. `exec` brings the pool and the memory budget.
 */
export async function runPlanTask(
  plan: TaskSet,
  staging: RunStaging,
  index: number,
  exec: Omit<ExecuteOptions, "zarrFormat">,
): Promise<TaskOutcome> {
  const task = plan.tasks[index];
  if (!task)
    throw new GeoZarrError("Usage", `task ${index}: the plan has tasks 0 to ${plan.tasks.length - 1}`);
  const sources = sourcesOf(plan, task);
  if (await staging.done(index, sources)) return null;
  await checkSources(sources);
  const r = await runTask(plan.nodes, task, staging.store(), {
    ...exec,
    zarrFormat: plan.zarrFormat,
  });
  await staging.record({ index, label: task.label, sources, files: r.files });
  return r;
}

/**
 * Run task `index` of the plan in `file` (its staging area beside it), as `geozarr task` and the
 * queue's workers do; `id`, when given, must be the plan's (a job of another plan is refused).
 */
export async function runTaskOf(
  file: string,
  index: number,
  exec: Omit<ExecuteOptions, "zarrFormat">,
  id?: string,
): Promise<TaskOutcome> {
  // A plan in object storage (s3://): its output's prefix is the staging area (upload-run.ts).
  if (isStoreUrl(file)) return (await import("./upload-run.js")).runUploadTask(file, index, exec, id);
  const plan = await readRunPlan(file);
  if (id !== undefined && plan.id !== id)
    throw new GeoZarrError("Usage", `${file}: holds plan ${plan.id}, not ${id}`, { where: file });
  return runPlanTask(plan, new Staging(stagingOf(file), plan.id), index, exec);
}

/** The tasks whose records are missing or no longer intact (a chunk gone, a source changed). */
export async function unfinishedTasks(plan: TaskSet, staging: RunStaging): Promise<number[]> {
  const out: number[] = [];
  for (const [i, t] of plan.tasks.entries()) if (!(await staging.done(i, sourcesOf(plan, t)))) out.push(i);
  return out;
}

export interface FinishResult {
  summary: ExecuteSummary;
  levels?: PyramidSummary | undefined;
}

/**
 * Finish a run whose tasks are done, in its staging area: every task record re-checked first, then
 * the arrays no task writes, every document, consolidated metadata, the series record, the levels.
 */
export async function finishRun(
  plan: RunPlan,
  staging: RunStaging,
  exec: Omit<ExecuteOptions, "zarrFormat">,
): Promise<FinishResult> {
  const dir = staging.dir;
  const left = await unfinishedTasks(plan, staging);
  if (left.length) {
    const t = plan.tasks[left[0]!]!;
    throw new GeoZarrError(
      "IO",
      `${staging.where}: ${left.length} task${left.length > 1 ? "s" : ""} not done (task ${left[0]}, ${t.label}, has no intact record); run ${left.length > 1 ? "them" : "it"} first`,
      { where: staging.where },
    );
  }
  const summary = await finalizePlan(plan.nodes, plan.tasks, staging.store(), {
    ...exec,
    zarrFormat: plan.zarrFormat,
  });
  const series = async (target: string | MutableStore) => {
    if (plan.series) await writeSeriesRecord(target, plan.series.first, plan.series.concat);
  };
  // In object storage the record is PUT now, before the held-back metadata (s3-output.ts).
  if (!plan.multiscales) {
    await series(dir ?? staging.store());
    return { summary };
  }
  const computed = Object.fromEntries(
    plan.nodes.flatMap((n) => {
      const paths = halvedPaths(n);
      return paths.length ? [[n.path, paths] as const] : [];
    }),
  );
  const options = { ...plan.multiscales, signal: exec.signal, computed, sourced: plan.sourced };
  let built: PyramidSummary;
  if (dir !== undefined) {
    await series(dir);
    built = await addLevels(dir, options);
  }
  // In object storage the levels are added in a local copy, and the store published with them
  // (upload-levels.ts): the caller's commit has only the run's keys left to remove.
  else built = await publishWithLevels(staging, options, series);
  return { summary, levels: { ...built, store: plan.output } };
}

/** What finalizing a staged run did. */
export interface FinalizeResult extends Partial<FinishResult> {
  output: string;
  /** The run had been finalized before (an earlier attempt moved the store into place). */
  already: boolean;
  notes: string[];
}

/**
 * Finalize the staged run of `file` (its plan) and move it into place, under the output's lock,
 * with the destination checked to be what it was when the run was planned. `committed` is the
 * staging area's own identity when known (the queue records it): if the plan is gone and the
 * destination is that very directory, an earlier attempt finished and this one does nothing. A
 * plan in object storage (an s3:// URL) is finalized in its prefix (upload-run.ts).
 */
export async function finalizeStaged(
  file: string,
  exec: Omit<ExecuteOptions, "zarrFormat">,
  committed?: EntryIdentity | StoreDigest | undefined,
): Promise<FinalizeResult> {
  if (isStoreUrl(file))
    return (await import("./upload-run.js")).finalizeUpload(
      file,
      exec,
      committed && "digest" in committed ? committed : undefined,
    );
  const moved = committed && "ino" in committed ? committed : undefined;
  const dir = stagingOf(file);
  const name = /^\.(.+)\.partial-[0-9a-f]+$/.exec(basename(dir))?.[1];
  if (moved && name) {
    const target = join(dirname(dir), name);
    const now = await entryIdentity(target);
    const planGone = (await entryIdentity(file)) === null;
    if (planGone && now && now.dev === moved.dev && now.ino === moved.ino)
      return { output: target, already: true, notes: [] };
  }
  const plan = await readRunPlan(file);
  const pending = await prepareOutput(plan.output, plan.overwrite, [], {
    id: plan.id,
    resume: true,
    expect: plan.existing,
  });
  try {
    if (pending.tmp !== dir)
      throw new GeoZarrError("Usage", `${file}: the plan is not in the staging area of ${plan.output}`, {
        where: file,
      });
    const done = await finishRun(plan, new Staging(dir, plan.id), exec);
    await pending.commit();
    return { ...done, output: plan.output, already: false, notes: pending.notes };
  } catch (err) {
    await pending.abort();
    throw err;
  }
}

/** A run's task counts: in all, done now, skipped (done before), failed. */
export interface TaskCounts {
  tasks: number;
  done: number;
  skipped: number;
  failed: number;
}

/**
 * Tasks a process runs at once: two, so that while one task's pipeline drains (its last units
 * encoded while nothing is left to read, execute.ts) the next one's reads keep the other workers
 * busy; more would only split the memory budget further.
 */
export const TASKS_IN_FLIGHT = 2;

/**
 * Run the tasks of a plan into its staging area in this process, skipping those an earlier run
 * finished (an intact record, staging.ts), recording each as it ends.
 *
 * Up to {@link TASKS_IN_FLIGHT} tasks run at once (on worker threads; without them, one at a
 * time), started in plan order, on the ONE pool of `exec` and within its ONE memory budget: each
 * task in flight gets its share of the budget, and all take their buffers from one stock. A task's chunks and their bytes do not depend on what runs beside
 * it, and each task's record is still written after its own chunks (runPlanTask), so a run killed
 * at any point leaves only records of complete tasks. The first failure (or the signal) stops the
 * tasks in flight; this returns only once they have all ended, and throws that first failure.
 */
export async function runStagedTasks(
  plan: TaskSet,
  staging: RunStaging,
  exec: Parameters<typeof runPlanTask>[3],
  counts: TaskCounts,
  total: ExecuteSummary,
  options: {
    signal?: AbortSignal | undefined;
    /** Called as tasks finish: done (incl. skipped as already done) of total, and their sources' bytes. */
    onTasks?: ((done: number, total: number, bytesDone: number, bytesTotal: number) => void) | undefined;
  },
): Promise<void> {
  const bytesOf = (t: RunPlan["tasks"][number]) => t.sources.reduce((n, i) => n + plan.sources[i]!.size, 0);
  const bytesTotal = plan.tasks.reduce((n, t) => n + bytesOf(t), 0);
  let bytesDone = 0;
  const budget = exec.memoryBudget ?? DEFAULT_MEMORY_BUDGET;
  // On the calling thread alone (no worker threads) tasks could only take turns: one at a time.
  const threads = exec.useWorkers && exec.pool !== undefined && exec.pool.size > 0;
  const inFlight =
    threads && plan.tasks.length > 1 && sameCopies(plan, budget, TASKS_IN_FLIGHT) ? TASKS_IN_FLIGHT : 1;
  // One failure stops the other tasks in flight (their copies stop scheduling, pipeline.ts).
  const stop = new AbortController();
  const outer = [options.signal, exec.signal].filter((s): s is AbortSignal => s !== undefined);
  const signal = AbortSignal.any([...outer, stop.signal]);
  const shared = {
    ...exec,
    signal,
    memoryBudget: Math.floor(budget / inFlight),
    buffers: exec.buffers ?? new BufferStock(),
  };
  const progress = exec.onProgress && sumProgress(exec.onProgress);
  let failure: { error: unknown } | null = null;
  let next = 0;
  const runner = async () => {
    while (!failure) {
      const index = next++;
      const task = plan.tasks[index];
      if (!task) return;
      try {
        for (const s of outer) s.throwIfAborted();
        const r = await runPlanTask(plan, staging, index, { ...shared, onProgress: progress?.of(index) });
        progress?.end(index);
        if (r === null) counts.skipped++;
        else {
          merge(total, r);
          counts.done++;
        }
      } catch (error) {
        failure ??= { error };
        stop.abort(error);
        return;
      }
      bytesDone += bytesOf(task);
      options.onTasks?.(counts.done + counts.skipped, counts.tasks, bytesDone, bytesTotal);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, runner));
  if (failure) throw (failure as { error: unknown }).error;
  // Each task reported its share: the run's budget is the whole.
  if (counts.done > 0) total.memory.budget = budget;
}

/**
 * Whether every array the tasks write is copied the same way with a `share` of the budget as with
 * all of it: its segments still aligned to whole source chunks (pipeline.ts planCopy), so running
 * tasks at once never costs a second decode of the chunks that straddle units (a full-size MUR
 * granule's row of segments, 74 MB, needs more than a quarter of the default budget).
 */
function sameCopies(plan: TaskSet, budget: number, share: number): boolean {
  const written = new Set(plan.tasks.flatMap((t) => Object.keys(t.regions)));
  return plan.nodes.every((n) => {
    if (n.kind !== "array" || !n.copy || !written.has(n.path)) return true;
    const unit = n.spec.shardShape ?? n.spec.chunkShape;
    const item = dataTypeInfo(n.copy.sourceType).size;
    const whole = planCopy(n.spec.shape, unit, n.copy.sourceChunks, item, budget);
    const part = planCopy(n.spec.shape, unit, n.copy.sourceChunks, item, Math.floor(budget / share));
    return part.aligned === whole.aligned;
  });
}

/**
 * One progress over tasks run at once, each of which counts from zero (execute.ts): every task's
 * latest report added up (by differences, so a long run costs nothing per finished task); the sum
 * only grows, as each task's counts do.
 */
function sumProgress(onProgress: (p: ProgressInfo) => void) {
  const sum: ProgressInfo = {
    unitsDone: 0,
    unitsTotal: 0,
    rawBytesDone: 0,
    rawBytesTotal: 0,
    storedBytes: 0,
  };
  const keys = Object.keys(sum) as (keyof ProgressInfo)[];
  const latest = new Map<number, ProgressInfo>();
  return {
    of: (task: number) => (p: ProgressInfo) => {
      const before = latest.get(task);
      for (const k of keys) sum[k] += p[k] - (before?.[k] ?? 0);
      latest.set(task, { ...p });
      onProgress({ ...sum });
    },
    end: (task: number) => void latest.delete(task),
  };
}

/** Add one step's summary into the run's, array by array. */
export function merge(total: ExecuteSummary, s: ExecuteSummary): void {
  total.storedBytes += s.storedBytes;
  total.rawBytes += s.rawBytes;
  total.memory = {
    budget: s.memory.budget,
    peakBuffered: Math.max(total.memory.peakBuffered, s.memory.peakBuffered),
  };
  for (const a of s.arrays) {
    const t = total.arrays.find((x) => x.path === a.path);
    if (!t) total.arrays.push({ ...a });
    else {
      t.chunksWritten += a.chunksWritten;
      t.chunksSkipped += a.chunksSkipped;
      t.storedBytes += a.storedBytes;
    }
  }
}
