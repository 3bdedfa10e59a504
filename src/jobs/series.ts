/**
 * `convertSeries(inputs, output, options)`: many granules into one time-series store, as a plan
 * run task by task (convert/series/plan.ts): every granule scanned on the worker pool and checked
 * against the first before anything is written; then each task writes its whole chunks into the
 * staging area and leaves a record; then finalize writes the arrays no task writes, the time
 * coordinate as one chunk, every document with its final shape, and consolidated metadata last;
 * the multiscale levels, when asked, come after; the store is moved into place at the very end
 * (to s3://: the levels are added in a local copy, and published by an ordered upload).
 *
 * Interrupted (Ctrl-C, kill -9, power loss), a run leaves its staging area and records; the same
 * command with `resume` re-runs only the tasks without an intact record, and finishes.
 * @module
 */

import { basename, resolve } from "node:path";
import { type ArraySummary, type ExecuteSummary, emptySummary, type NodePlan } from "../convert/execute.js";
import { expandInputs } from "../convert/inputs.js";
import { withHalving } from "../convert/multiscale.js";
import { detectInput, type InputPlanOptions, normalizeOptions, planInput } from "../convert/plan-input.js";
import { type PendingStoreOutput, prepareS3Output } from "../convert/s3-output.js";
import { planSeries, type SeriesPlan } from "../convert/series/plan.js";
import type { ScannedInput } from "../convert/series/scan-task.js";
import type { RunStaging } from "../convert/staging.js";
import { GeoZarrError } from "../errors.js";
import { methodFor } from "../kernels/resample.js";
import { WorkerPool } from "../parallel/pool.js";
import { type PyramidSummary, validatePyramidOptions } from "../pyramid/build.js";
import { DEFAULT_TILE_SIZE } from "../pyramid/levels.js";
import { formatCodecChoice } from "../zarr/codecs/choice.js";
import { type ZstdBackend, zstdBackend } from "../zarr/codecs/zstd.js";
import type { JsonObject } from "../zarr/json.js";
import { isStoreUrl, parseLocation, s3Descriptor } from "../zarr/store/location.js";
import { type ConvertOptions, historyLine, LEVELS_PREFIX } from "./convert.js";
import {
  type DraftPlan,
  finishRun,
  merge,
  planId,
  type RunPlan,
  runStagedTasks,
  stageRun,
  stageUpload,
} from "./run-plan.js";

export interface SeriesOptions extends ConvertOptions {
  /** The dimension to concatenate along ("time"). */
  concat: string;
  /** A file listing inputs, one per line. */
  inputsFrom?: string | undefined;
  /** GeoTIFF scenes: a regular expression for the date in their names (else their TIFFTAG_DATETIME). */
  timeFrom?: string | undefined;
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
  scene: boolean,
  options: InputPlanOptions & { spatialChunk?: number | undefined; history: string },
): Promise<{ nodes: NodePlan[] }> {
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
  const command =
    options.command ??
    `geozarr convert ${inputs.length} inputs ${basename(output)} --concat ${options.concat} --zarr-format ${o.zarrFormat}`;
  const history = historyLine(command);
  const granuleOptions = {
    ...o,
    variables: options.variables,
    requireStandardName: options.requireStandardName,
    unpack: options.unpack,
    crs: options.crs,
    bandsAsVariables: options.bandsAsVariables,
    spatialChunk: ms && o.zarrFormat === 2 && !ms.tms ? tileSize : undefined,
    history,
  };
  // The series is planned from its first granule in time, known once every granule is scanned.
  // The first one listed usually is that granule (names carry the date): it is planned on this
  // thread while the workers scan (h5wasm's start, the reader's modules and the file's metadata,
  // about 0.2 s that both workers otherwise wait for), and used only if it is that granule. A
  // scene is a GeoTIFF, as the scan decides (detectInput). Without worker threads the scans run
  // on this thread, which has no time to spare, and close the files they opened (the handles the
  // planner would share): nothing is planned ahead then.
  const listedFirst = pool.size > 0 ? inputs[0] : undefined;
  const early =
    listedFirst === undefined
      ? undefined
      : detectInput(listedFirst).then((f) =>
          planGranule(listedFirst, options.concat, f === "geotiff", granuleOptions),
        );
  early?.catch(() => {}); // awaited only when used; its failure is then reported as the plan's
  const scanned = await scanInputs(inputs, options.concat, pool, options.signal, options.timeFrom);
  const stepsPerChunk = typeof options.chunks === "object" ? options.chunks?.[options.concat] : undefined;
  const chunkText = typeof options.chunks === "string" ? options.chunks : undefined;
  const T =
    stepsPerChunk ??
    Number(new RegExp(`(?:^|,)\\s*${options.concat}\\s*=\\s*(\\d+)`).exec(chunkText ?? "")?.[1] ?? 1);
  const plan = await planSeries({
    scanned,
    concatDim: options.concat,
    stepsPerChunk: T,
    stepsPerShard: o.shards?.[options.concat],
    zarrFormat: o.zarrFormat,
    planOne: (file) =>
      early && file === listedFirst
        ? early
        : planGranule(
            file,
            options.concat,
            scanned.find((i) => i.file === file)?.scene !== undefined,
            granuleOptions,
          ),
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
    output: isStoreUrl(output) ? output : resolve(output),
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
  const loc = parseLocation(output);
  if (loc.kind === "http")
    throw new GeoZarrError("Usage", `${output}: HTTP stores are read-only; write to a directory or s3://`);
  const o = normalizeOptions(options);
  // To s3://, the output is checked and locked before the scan, as a single input's is (convert.ts).
  const upload =
    loc.kind === "s3"
      ? await prepareS3Output(
          output,
          s3Descriptor(loc, options.remote ?? {}),
          options.overwrite ?? false,
          [],
          {
            resume: options.resume,
          },
        )
      : undefined;
  const pool = new WorkerPool(o.workers);
  const detach = pool.stopOn(options.signal);
  // The one who commits or aborts: the upload from the start, a directory's once it is staged.
  let pending: Pick<PendingStoreOutput, "commit" | "abort" | "notes"> | undefined = upload;
  try {
    const { draft, inputs, about } = await planSeriesRun(given, output, options, pool);
    let staged: { plan: RunPlan; staging: RunStaging };
    if (upload) staged = await stageUpload(upload, draft);
    else {
      const local = await stageRun(draft, inputs, options.resume);
      pending = local.pending;
      staged = local;
    }
    const { plan, staging } = staged;
    const total = emptySummary(pool.size);
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
    await pending!.commit();
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
      notes: [...pending!.notes],
      rawBytes: total.rawBytes,
      storedBytes: total.storedBytes,
      seconds: (performance.now() - t0) / 1000,
      memory: total.memory,
      ...(fin.levels ? { multiscales: { ...fin.levels, store: output } } : {}),
    };
  } catch (err) {
    // Staged, the run keeps what it finished for resume (both kinds of output); else only the lock goes.
    await pending?.abort();
    throw err;
  } finally {
    detach();
    await pool.close();
  }
}

// Where a run's tasks are run and summed (run-plan.ts); append.ts takes them from here too.
export { merge, runStagedTasks, type TaskCounts } from "./run-plan.js";
