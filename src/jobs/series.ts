/**
 * `convertSeries(inputs, output, options)`: many granules into one time-series store, as a plan
 * run task by task (convert/series/plan.ts): every granule scanned on the worker pool and checked
 * against the first before anything is written; then each task writes its whole chunks into the
 * staging area and leaves a record; then finalize writes the arrays no task writes, the time
 * coordinate as one chunk, every document with its final shape, and consolidated metadata last;
 * the multiscale levels, when asked, come after; the store is moved into place at the very end.
 *
 * Interrupted (Ctrl-C, kill -9, power loss), a run leaves its staging area and records; the same
 * command with `resume` re-runs only the tasks without an intact record, and finishes.
 * @module
 */

import { basename, resolve } from "node:path";
import type { ArraySummary, ExecuteSummary, NodePlan } from "../convert/execute.js";
import { expandInputs } from "../convert/inputs.js";
import { withHalving } from "../convert/multiscale.js";
import { type InputPlanOptions, normalizeOptions, planInput } from "../convert/plan-input.js";
import { planSeries, type SeriesPlan } from "../convert/series/plan.js";
import type { ScannedInput } from "../convert/series/scan-task.js";
import type { Staging } from "../convert/staging.js";
import { GeoZarrError } from "../errors.js";
import { methodFor } from "../kernels/resample.js";
import { WorkerPool } from "../parallel/pool.js";
import { type PyramidSummary, validatePyramidOptions } from "../pyramid/build.js";
import { DEFAULT_TILE_SIZE } from "../pyramid/levels.js";
import { formatCodecChoice } from "../zarr/codecs/choice.js";
import { type ZstdBackend, zstdBackend } from "../zarr/codecs/zstd.js";
import type { JsonObject } from "../zarr/json.js";
import { requireLocal } from "../zarr/store/location.js";
import { type ConvertOptions, historyLine } from "./convert.js";
import {
  type DraftPlan,
  finishRun,
  planId,
  type RunPlan,
  runPlanTask,
  stageRun,
  type TaskSet,
} from "./run-plan.js";

export interface SeriesOptions extends ConvertOptions {
  /** The dimension to concatenate along ("time"). */
  concat: string;
  /** A file listing inputs, one per line. */
  inputsFrom?: string | undefined;
  /** GeoTIFF scenes: a regular expression for the date in their names (else their TIFFTAG_DATETIME). */
  timeFrom?: string | undefined;
  /** Continue an interrupted run of the same conversion. */
  resume?: boolean | undefined;
  /** Append: granules whose times the store has rewrite those steps in place (else they are refused). */
  replaceTimes?: boolean | undefined;
  /** Called as tasks finish: done (incl. skipped as already done) of total, and their sources' bytes. */
  onTasks?: ((done: number, total: number, bytesDone: number, bytesTotal: number) => void) | undefined;
}

export interface SeriesSummary {
  inputs: number;
  output: string;
  zarrFormat: 2 | 3;
  codec: string;
  zstd: ZstdBackend;
  workers: number;
  concat: string;
  /** Steps along the concatenation dimension, the first and last time. */
  steps: number;
  first: string;
  last: string;
  /** Steps a regular series lacks (ISO times). */
  missing: string[];
  /** The plan: its id and task counts (done now, skipped as done before, failed). */
  plan: { id: string; tasks: number; done: number; skipped: number; failed: number };
  arrays: ArraySummary[];
  dropped: { name: string; reason: string }[];
  notes: string[];
  rawBytes: number;
  storedBytes: number;
  seconds: number;
  memory: ExecuteSummary["memory"];
  multiscales?: PyramidSummary | undefined;
}

const LEVELS_PREFIX = "/.geozarr-levels";

/** Scan every input on the pool (one task each, in parallel), in the order given. */
export async function scanInputs(
  files: string[],
  concatDim: string,
  pool: WorkerPool,
  signal?: AbortSignal,
  timeFrom?: string,
) {
  const out: ScannedInput[] = new Array(files.length);
  const jobs: Promise<void>[] = [];
  for (const [i, file] of files.entries()) {
    signal?.throwIfAborted();
    await pool.slot();
    jobs.push(
      pool.run("scan-input", { file, concatDim, timeFrom }).then((s) => {
        out[i] = s;
      }),
    );
  }
  await Promise.all(jobs);
  return out;
}

/**
 * One granule planned as a single-file conversion (convert/plan-input.ts, NetCDF or GeoTIFF). A
 * scene has no `concatDim` of its own, so that dimension's chunks and shards are left to the
 * series plan (scenes.ts `withSceneTime`, plan.ts).
 */
export async function planGranule(
  file: string,
  concatDim: string,
  scanned: readonly ScannedInput[],
  options: InputPlanOptions & { spatialChunk?: number | undefined; history: string },
): Promise<{ nodes: NodePlan[] }> {
  const scene = scanned.find((s) => s.file === file)?.scene !== undefined;
  const drop = (d: InputPlanOptions["chunks"]) => {
    if (!scene || typeof d !== "object") return d;
    const { [concatDim]: _, ...rest } = d;
    return rest;
  };
  const { spatialChunk, history, ...o } = options;
  return planInput(file, { ...o, chunks: drop(o.chunks), shards: drop(o.shards) }, { spatialChunk, history });
}

/** A series planned: what a local and a queued run share. */
export interface PlannedSeries {
  draft: DraftPlan;
  inputs: string[];
  about: Pick<SeriesPlan, "steps" | "first" | "last" | "missing">;
}

/** Scan and plan a series on `pool` (the output is checked and locked later, by `stageRun`). */
export async function planSeriesRun(
  given: string[],
  output: string,
  options: SeriesOptions,
  pool: WorkerPool,
): Promise<PlannedSeries> {
  const o = normalizeOptions(options);
  const ms = options.multiscales;
  if (ms) validatePyramidOptions(ms);
  const tileSize = ms?.tileSize ?? DEFAULT_TILE_SIZE;
  const method = ms?.resampling === "bilinear" ? "average" : (ms?.resampling ?? "average");
  const inputs = await expandInputs(given, { inputsFrom: options.inputsFrom });
  if (inputs.length === 0) throw new GeoZarrError("Usage", "no inputs");
  const scanned = await scanInputs(inputs, options.concat, pool, options.signal, options.timeFrom);
  const stepsPerChunk = typeof options.chunks === "object" ? options.chunks?.[options.concat] : undefined;
  const chunkText = typeof options.chunks === "string" ? options.chunks : undefined;
  const T =
    stepsPerChunk ??
    Number(new RegExp(`(?:^|,)\\s*${options.concat}\\s*=\\s*(\\d+)`).exec(chunkText ?? "")?.[1] ?? 1);
  const command =
    options.command ??
    `geozarr convert ${inputs.length} inputs ${basename(output)} --concat ${options.concat} --zarr-format ${o.zarrFormat}`;
  const history = historyLine(command);
  const plan = await planSeries({
    scanned,
    concatDim: options.concat,
    stepsPerChunk: T,
    stepsPerShard: o.shards?.[options.concat],
    zarrFormat: o.zarrFormat,
    planOne: (file) =>
      planGranule(file, options.concat, scanned, {
        ...o,
        variables: options.variables,
        requireStandardName: options.requireStandardName,
        unpack: options.unpack,
        crs: options.crs,
        bandsAsVariables: options.bandsAsVariables,
        spatialChunk: ms && o.zarrFormat === 2 && !ms.tms ? tileSize : undefined,
        history,
      }),
  });
  // The levels a conversion computes from its own units, per task (convert/multiscale.ts).
  if (ms && !ms.tms) {
    const halving = {
      prefix: LEVELS_PREFIX,
      tileSize,
      maxLevels: ms.levels,
      method: (a: JsonObject) => methodFor(a, method),
    };
    plan.nodes = plan.nodes.map((n) => withHalving(n, halving));
  }
  const multiscales = ms && { ...ms, signal: undefined, onProgress: undefined };
  const id = planId(plan, {
    zarrFormat: o.zarrFormat,
    codec: o.codec,
    concat: options.concat,
    multiscales: multiscales ?? null,
  });
  const draft: DraftPlan = {
    version: 1,
    id,
    output: resolve(output),
    overwrite: options.overwrite ?? false,
    zarrFormat: o.zarrFormat,
    nodes: plan.nodes,
    tasks: plan.tasks,
    sources: plan.sources.map((s) => ({ file: s.file, size: s.size, mtimeMs: s.mtimeMs })),
    series: { concat: options.concat, first: plan.timed[0]!.input },
    multiscales,
  };
  return { draft, inputs, about: plan };
}

export async function convertSeries(
  given: string[],
  output: string,
  options: SeriesOptions,
): Promise<SeriesSummary> {
  const t0 = performance.now();
  requireLocal(output, "time series are written to directories only for now; convert to a directory");
  const o = normalizeOptions(options);
  const pool = new WorkerPool(o.workers);
  const detach = pool.stopOn(options.signal);
  try {
    const { draft, inputs, about } = await planSeriesRun(given, output, options, pool);
    const { plan, staging, pending } = await stageRun(draft, inputs, options.resume);
    try {
      const total: ExecuteSummary = {
        arrays: [],
        storedBytes: 0,
        rawBytes: 0,
        workers: pool.size,
        memory: { budget: 0, peakBuffered: 0 },
      };
      const counts = { tasks: plan.tasks.length, done: 0, skipped: 0, failed: 0 };
      const exec = {
        workers: o.workers,
        useWorkers: o.workers > 0,
        memoryBudget: options.memoryBudget,
        signal: options.signal,
        pool,
      };
      await runStagedTasks(plan, staging, exec, counts, total, options);
      const fin = await finishRun(plan, staging, exec);
      merge(total, fin.summary);
      await pending.commit();
      return {
        inputs: inputs.length,
        output,
        zarrFormat: o.zarrFormat,
        codec: formatCodecChoice(o.codec),
        zstd: zstdBackend().backend,
        workers: pool.size,
        concat: options.concat,
        steps: about.steps,
        first: about.first,
        last: about.last,
        missing: about.missing,
        plan: { id: plan.id, ...counts },
        arrays: total.arrays,
        dropped: [],
        notes: [...pending.notes],
        rawBytes: total.rawBytes,
        storedBytes: total.storedBytes,
        seconds: (performance.now() - t0) / 1000,
        memory: total.memory,
        ...(fin.levels ? { multiscales: { ...fin.levels, store: output } } : {}),
      };
    } catch (err) {
      await pending.abort();
      throw err;
    }
  } finally {
    detach();
    await pool.close();
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
 * Run the tasks of a plan into its staging area in this process, skipping those an earlier run
 * finished (an intact record, staging.ts), recording each as it ends.
 */
export async function runStagedTasks(
  plan: TaskSet,
  staging: Staging,
  exec: Parameters<typeof runPlanTask>[3],
  counts: TaskCounts,
  total: ExecuteSummary,
  options: Pick<SeriesOptions, "signal" | "onTasks">,
): Promise<void> {
  const bytesOf = (t: RunPlan["tasks"][number]) => t.sources.reduce((n, i) => n + plan.sources[i]!.size, 0);
  const bytesTotal = plan.tasks.reduce((n, t) => n + bytesOf(t), 0);
  let bytesDone = 0;
  for (const [index, task] of plan.tasks.entries()) {
    options.signal?.throwIfAborted();
    const r = await runPlanTask(plan, staging, index, exec);
    if (r === null) counts.skipped++;
    else {
      merge(total, r);
      counts.done++;
    }
    bytesDone += bytesOf(task);
    options.onTasks?.(counts.done + counts.skipped, counts.tasks, bytesDone, bytesTotal);
  }
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
