/**
 * `convert(input, output, options)`: a whole conversion as one call, as steps of their own: plan
 * the input (convert/plan-input.ts), write the plan into a hidden sibling of `output`
 * (convert/output.ts: ownership checks, the one-writer lock), add the multiscale levels when asked
 * (pyramid/build.ts, adopting the levels the conversion computed from its own units or the
 * source's own overviews), and move the output into place only when everything is written.
 *
 * This layer sits above both the conversion and the pyramid, so neither knows the other's hooks.
 * @module
 */

import { basename, resolve } from "node:path";
import {
  type ArraySummary,
  type ExecuteSummary,
  emptySummary,
  executePlan,
  type ProgressInfo,
} from "../convert/execute.js";
import { prepareOutput } from "../convert/output.js";
import {
  type InputFormat,
  type InputPlanOptions,
  normalizeOptions,
  planInput,
} from "../convert/plan-input.js";
import {
  type Download,
  detectRemoteInput,
  downloadInput,
  fetchedBytes,
  type RemoteInput,
  readsInPlace,
  remoteInPlace,
} from "../convert/remote-input.js";
import { type PendingStoreOutput, prepareS3Output } from "../convert/s3-output.js";
import { objectStamp, type SourceStamp, stampOf } from "../convert/staging.js";
import { splitTasks } from "../convert/tasks.js";
import { GeoZarrError } from "../errors.js";
import { methodFor } from "../kernels/resample.js";
import { prestartWorkers, WorkerPool } from "../parallel/pool.js";
import {
  addLevels,
  type PyramidOptions,
  type PyramidSummary,
  validatePyramidOptions,
} from "../pyramid/build.js";
import { DEFAULT_TILE_SIZE } from "../pyramid/levels.js";
import type { RemoteFile } from "../readers/byte-source.js";
import { packageVersion } from "../version.js";
import { formatCodecChoice } from "../zarr/codecs/choice.js";
import { type ZstdBackend, zstdBackend } from "../zarr/codecs/zstd.js";
import { FileSystemStore } from "../zarr/store/fs.js";
import { isStoreUrl, parseLocation, s3Descriptor } from "../zarr/store/location.js";
import { type DraftPlan, finishRun, merge, planId, runStagedTasks, stageUpload } from "./run-plan.js";

export interface ConvertOptions extends InputPlanOptions {
  /** Replace an existing output (a Zarr store, an empty directory or a partial output of ours). */
  overwrite?: boolean;
  /**
   * Bytes of data buffered at once per array (unit buffers and the source-chunk cache,
   * convert/pipeline.ts); default 256 MiB. Worker threads add their own working buffers.
   */
  memoryBudget?: number;
  onProgress?: (p: ProgressInfo) => void;
  /** Aborting stops the conversion; the partial output is removed. */
  signal?: AbortSignal | undefined;
  /** The command line recorded in the `history` attribute (default: a description of the call). */
  command?: string | undefined;
  /** Also write multiscale levels (as `geozarr pyramid` does): the data in group 0, levels 1, 2, ... */
  multiscales?: PyramidOptions | undefined;
  /** A file input named by URL is downloaded first: bytes done and total, as they arrive. */
  onDownload?: ((done: number, total: number) => void) | undefined;
  /**
   * Continue an interrupted run of the same conversion (time series; one input to s3://): only
   * the tasks without an intact record run again.
   */
  resume?: boolean | undefined;
  /** One input run as tasks (to s3://, or planned for other processes): bytes of values per task. */
  taskBytes?: number | undefined;
}

export interface ConvertSummary {
  input: string;
  output: string;
  inputFormat: InputFormat;
  zarrFormat: 2 | 3;
  codec: string;
  /** The zstd backend the conversion ran with (codecs/zstd.ts): native (zstd-napi) or wasm. */
  zstd: ZstdBackend;
  workers: number;
  arrays: ArraySummary[];
  /** Overviews of the source (a COG's) that became multiscale levels 1..n (GeoTIFF). */
  sourceLevels?: number | undefined;
  /** Variables not converted, and why (NetCDF). */
  dropped: { name: string; reason: string }[];
  /** How each group was georeferenced. */
  georef: { group: string; crs: string; from: string; regular: boolean }[];
  /** Things to know about the output. */
  notes: string[];
  rawBytes: number;
  storedBytes: number;
  seconds: number;
  /** The data buffer budget and the most any array buffered at once, in bytes. */
  memory: ExecuteSummary["memory"];
  /** The multiscale levels written (with `multiscales`). */
  multiscales?: PyramidSummary | undefined;
  /**
   * A file named by URL: read in place by ranged GETs of its chunks, or downloaded first; the
   * file's size and the bytes fetched from it (by every thread).
   */
  remoteRead?: { read: "ranged" | "download"; size: number; fetchedBytes: number } | undefined;
}

/** Where the conversion leaves the levels it computes for the pyramid step to adopt. */
export const LEVELS_PREFIX = "/.geozarr-levels";

/**
 * The `history` line of a conversion: its time (SOURCE_DATE_EPOCH when set, the reproducible-builds
 * convention, so that a run can be repeated byte for byte), what ran and geozarr's version.
 */
export function historyLine(command: string): string {
  const text = process.env.SOURCE_DATE_EPOCH;
  const epoch = Number(text);
  const when = text && Number.isFinite(epoch) ? new Date(epoch * 1000) : new Date();
  return `${when.toISOString().replace(/\.\d+Z$/, "Z")} ${command} (geozarr ${packageVersion()})`;
}

/**
 * Plan one input as `convert` does (the levels' halving and chunking when multiscales are asked).
 * `readFrom` is where the input's bytes are (a downloaded copy of a file named by URL); `input`
 * names it in the history.
 */
export async function planConversion(
  input: string,
  output: string,
  options: ConvertOptions,
  readFrom: string = input,
  remote?: RemoteInput,
) {
  const ms = options.multiscales;
  if (ms) validatePyramidOptions(ms);
  const tileSize = ms?.tileSize ?? DEFAULT_TILE_SIZE;
  const method = ms?.resampling === "bilinear" ? "average" : (ms?.resampling ?? "average");
  return planInput(readFrom, options, {
    history: historyLine(
      options.command ??
        `geozarr convert ${basename(input)} ${basename(output)} --zarr-format ${options.zarrFormat ?? 3}`,
    ),
    // GeoZarr v0.4 wants tiles to match chunks at every level, full resolution included.
    spatialChunk: ms && (options.zarrFormat ?? 3) === 2 && !ms.tms ? tileSize : undefined,
    // WebMercatorQuad levels are reprojected, not halvings of the conversion's units.
    halving:
      ms && !ms.tms
        ? { prefix: LEVELS_PREFIX, tileSize, maxLevels: ms.levels, method: (a) => methodFor(a, method) }
        : undefined,
    remote,
  });
}

/**
 * Plan a file named by URL: a GeoTIFF, or a NetCDF-4 file whose large variables our chunk index
 * lists, is read in place (ranged GETs); any other file is downloaded first (`download`, removed by
 * the caller).
 */
async function planRemoteFile(input: string, output: string, options: ConvertOptions) {
  const remote = options.remote ?? {};
  const inPlace = await remoteInPlace(input, remote);
  if (inPlace) {
    const plan = await planConversion(input, output, options, input, inPlace);
    if (await readsInPlace(plan.nodes)) return { plan, file: inPlace.file, download: undefined };
  }
  const download = await downloadInput(input, remote, options.onDownload, options.signal);
  try {
    return { plan: await planConversion(input, output, options, download.path), file: undefined, download };
  } catch (err) {
    await download.remove();
    throw err;
  }
}

/** What a conversion reports: its plan's facts, what executing it did, `notes` before the plan's. */
function summaryOf(
  input: string,
  output: string,
  plan: Awaited<ReturnType<typeof planConversion>>,
  done: ExecuteSummary,
  notes: string[],
  t0: number,
): ConvertSummary {
  return {
    input,
    output,
    inputFormat: plan.inputFormat,
    zarrFormat: plan.zarrFormat,
    codec: formatCodecChoice(plan.codec),
    zstd: zstdBackend().backend,
    workers: done.workers,
    arrays: done.arrays,
    dropped: plan.dropped,
    georef: plan.georef,
    notes: [...notes, ...plan.notes],
    rawBytes: done.rawBytes,
    storedBytes: done.storedBytes,
    seconds: (performance.now() - t0) / 1000,
    memory: done.memory,
  };
}

/** Bytes of values per task for one input written to s3:// (each task's record is what resume keeps). */
export const S3_TASK_BYTES = 128 * 2 ** 20;

/**
 * One input planned as a run of tasks (convert/tasks.ts `splitTasks`: whole rows of units), as a
 * queue of workers runs it and as an upload to s3:// runs it to be resumable. Its id covers the
 * settings, the nodes, the tasks and the source's stamp (size and time; an object's size and
 * version), not the history's time. `planned` is a file named by URL planned already
 * (`planRemoteFile`): read in place, or from `readFrom`, a temporary copy.
 */
export async function planSingleRun(
  input: string,
  output: string,
  options: ConvertOptions,
  how: {
    taskBytes: number;
    planned?: { plan: Planned; stamp: SourceStamp; readFrom?: string | undefined } | undefined;
  },
) {
  const o = normalizeOptions(options);
  const ms = options.multiscales;
  const plan = how.planned?.plan ?? (await planConversion(input, output, options));
  // A Zarr store is a directory: its size and time say nothing of its chunks, so it is not stamped.
  const sources = plan.inputFormat === "zarr" ? [] : [how.planned ? how.planned.stamp : await stampOf(input)];
  const tasks = splitTasks(plan.nodes, input, how.taskBytes).map((t) => ({
    ...t,
    sources: sources.map((_, i) => i),
  }));
  const multiscales = ms && { ...ms, signal: undefined, onProgress: undefined };
  const id = planId(
    { nodes: stableNodes(plan.nodes, how.planned?.readFrom, input) as typeof plan.nodes, tasks, sources },
    { zarrFormat: o.zarrFormat, codec: o.codec, multiscales: multiscales ?? null },
  );
  const draft: DraftPlan = {
    version: 1,
    id,
    output: isStoreUrl(output) ? output : resolve(output),
    overwrite: options.overwrite ?? false,
    zarrFormat: plan.zarrFormat,
    nodes: plan.nodes,
    tasks,
    sources,
    multiscales,
    sourced: ms && plan.sourceLevels.length ? plan.sourceLevels : undefined,
  };
  return { plan, draft };
}

type Planned = Awaited<ReturnType<typeof planConversion>>;

/**
 * The nodes as a plan's id sees them: a temporary copy's path named by the URL it was downloaded
 * from, so that a resumed run plans the interrupted one's id (how a file read in place is read,
 * its reading id and concurrency, planId leaves out itself: run-plan.ts).
 */
function stableNodes(nodes: unknown, copy: string | undefined, url: string): unknown {
  if (!copy) return nodes;
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return v.includes(copy) ? v.replaceAll(copy, url) : v;
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== "object" || ArrayBuffer.isView(v) || v instanceof SharedArrayBuffer)
      return v;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
  };
  return walk(nodes);
}

/**
 * Progress over a run's steps (each task, then finalize), each of which counts from zero: the
 * units of every step added up, against the whole run's units.
 */
function runProgress(
  draft: DraftPlan,
  onProgress: ConvertOptions["onProgress"],
): ConvertOptions["onProgress"] {
  if (!onProgress) return undefined;
  const byTasks = new Set(draft.tasks.flatMap((t) => Object.keys(t.regions)));
  let unitsTotal = draft.tasks.reduce(
    (n, t) => n + Object.values(t.regions).reduce((m, b) => m + b.shape.reduce((a, x) => a * x, 1), 0),
    0,
  );
  for (const node of draft.nodes)
    if (node.kind === "array" && node.copy && !byTasks.has(node.path)) {
      const unit = node.spec.shardShape ?? node.spec.chunkShape;
      unitsTotal += node.spec.shape.reduce((a, x, d) => a * Math.ceil(x / unit[d]!), 1);
    }
  const base = { unitsDone: 0, rawBytesDone: 0, rawBytesTotal: 0, storedBytes: 0 };
  let last = { ...base };
  return (p) => {
    // Each step counts from zero (execute.ts; the tasks, run at once, as one sum: run-plan.ts):
    // a count going back means a new step, and what the last one did is added.
    if (
      p.unitsDone < last.unitsDone ||
      p.rawBytesDone < last.rawBytesDone ||
      p.storedBytes < last.storedBytes
    ) {
      base.unitsDone += last.unitsDone;
      base.rawBytesDone += last.rawBytesDone;
      base.rawBytesTotal += last.rawBytesTotal;
      base.storedBytes += last.storedBytes;
    }
    last = {
      unitsDone: p.unitsDone,
      rawBytesDone: p.rawBytesDone,
      rawBytesTotal: p.rawBytesTotal,
      storedBytes: p.storedBytes,
    };
    onProgress({
      unitsDone: base.unitsDone + p.unitsDone,
      unitsTotal: Math.max(unitsTotal, base.unitsDone + p.unitsTotal),
      rawBytesDone: base.rawBytesDone + p.rawBytesDone,
      rawBytesTotal: base.rawBytesTotal + p.rawBytesTotal,
      storedBytes: base.storedBytes + p.storedBytes,
    });
  };
}

/**
 * One input to s3://, run as tasks so that it can be resumed: the plan and each task's record are
 * kept under the prefix (convert/s3-staging.ts), chunks go to their final keys, and the commit
 * writes the metadata, the consolidated document last (docs/design.md "Object storage").
 */
async function convertToS3(
  input: string,
  output: string,
  pending: PendingStoreOutput,
  options: ConvertOptions,
  remoteInput: "zarr" | "file" | undefined,
  t0: number,
): Promise<ConvertSummary> {
  let download: Download | undefined;
  let file: RemoteFile | undefined;
  let pool: WorkerPool | undefined;
  let detach = () => {};
  try {
    // A file named by URL: read in place where our chunk index allows, else from a temporary copy;
    // either way the plan stamps the object (its URL, size and version), so a resume plans the
    // same id as long as the object is the same (docs/design.md "Object storage").
    let planned: NonNullable<Parameters<typeof planSingleRun>[3]["planned"]> | undefined;
    if (remoteInput === "file") {
      let plan: Planned;
      ({ plan, file, download } = await planRemoteFile(input, output, options));
      planned = { plan, stamp: file ? objectStamp(file) : download!.stamp, readFrom: download?.path };
    }
    const { plan, draft } = await planSingleRun(input, output, options, {
      taskBytes: options.taskBytes ?? S3_TASK_BYTES,
      planned,
    });
    const { plan: run, staging } = await stageUpload(pending, draft);
    pool = new WorkerPool(plan.workers);
    detach = pool.stopOn(options.signal);
    const exec = {
      workers: plan.workers,
      useWorkers: plan.workers > 0,
      memoryBudget: options.memoryBudget,
      onProgress: runProgress(draft, options.onProgress),
      signal: options.signal,
      pool,
    };
    const total = emptySummary(pool.size);
    const counts = { tasks: run.tasks.length, done: 0, skipped: 0, failed: 0 };
    await runStagedTasks(run, staging, exec, counts, total, { signal: options.signal });
    // With multiscale levels, finish adds them and publishes the store (jobs/upload-levels.ts).
    const fin = await finishRun(run, staging, exec);
    merge(total, fin.summary);
    await pending.commit();
    const resumed = pending.resumed
      ? [`resumed: ${counts.skipped} of ${counts.tasks} tasks were done before, their chunks kept`]
      : [];
    return {
      ...summaryOf(input, output, plan, total, [...pending.notes, ...resumed], t0),
      ...(plan.sourceLevels.length && options.multiscales ? { sourceLevels: plan.sourceLevels.length } : {}),
      ...(fin.levels ? { multiscales: fin.levels } : {}),
      ...(remoteInput === "file" ? { remoteRead: remoteReadOf(file, download) } : {}),
    };
  } catch (err) {
    await pending.abort();
    throw err;
  } finally {
    detach();
    await pool?.close();
    await download?.remove();
  }
}

export async function convert(
  input: string,
  output: string,
  options: ConvertOptions = {},
): Promise<ConvertSummary> {
  const t0 = performance.now();
  const ms = options.multiscales;
  if (ms) validatePyramidOptions(ms);
  const remote = options.remote ?? {};
  const remoteInput = isStoreUrl(input) ? await detectRemoteInput(input, remote) : undefined;
  // The output is checked and locked before any work: a refused or concurrent run stops at once.
  // The one dispatch on the output's kind: a directory (renamed into place) or S3 (ordered writes).
  const outLoc = parseLocation(output);
  if (outLoc.kind === "http")
    throw new GeoZarrError("Usage", `${output}: HTTP stores are read-only; write to a directory or s3://`);
  if (outLoc.kind === "s3") {
    const resume = { resume: options.resume };
    const desc = s3Descriptor(outLoc, remote);
    const pending = await prepareS3Output(output, desc, options.overwrite ?? false, [input], resume);
    return convertToS3(input, output, pending, options, remoteInput, t0);
  }
  if (options.resume)
    throw new GeoZarrError(
      "Usage",
      `${output}: resume applies to time series and to uploads to s3://; a conversion into a directory starts anew`,
    );
  const pending = await prepareOutput(output, options.overwrite ?? false, remoteInput ? [] : [input]);
  try {
    const done = await convertInto(pending.tmp, input, output, options, remoteInput, t0, pending.notes);
    await pending.commit();
    return done;
  } catch (err) {
    await pending.abort();
    throw err;
  }
}

/** Convert `input` into the directory `dir` (a staging area), its levels too: the summary. */
async function convertInto(
  dir: string,
  input: string,
  output: string,
  options: ConvertOptions,
  remoteInput: "zarr" | "file" | undefined,
  t0: number,
  notes: string[],
): Promise<ConvertSummary> {
  const ms = options.multiscales;
  const target = new FileSystemStore(dir);
  let download: Download | undefined;
  try {
    // The workers start while this thread reads the input's metadata (parallel/pool.ts).
    prestartWorkers(normalizeOptions(options).workers, ["read-band", "encode-chunk"]);
    // A file named by URL: NetCDF-4 read in place where our chunk index allows, else a temporary copy.
    let file: RemoteFile | undefined;
    let plan: Awaited<ReturnType<typeof planConversion>>;
    if (remoteInput === "file") ({ plan, file, download } = await planRemoteFile(input, output, options));
    else plan = await planConversion(input, output, options);
    const summary = await executePlan(plan.nodes, target, {
      zarrFormat: plan.zarrFormat,
      workers: plan.workers,
      useWorkers: plan.workers > 0,
      memoryBudget: options.memoryBudget,
      onProgress: options.onProgress,
      signal: options.signal,
    });
    // The levels: a step of their own, on the complete store before it is moved into place.
    let levels: PyramidSummary | undefined;
    if (ms) {
      const computed = Object.fromEntries(
        summary.arrays.filter((a) => a.halved).map((a) => [a.path, a.halved!] as const),
      );
      const built = await addLevels(dir, {
        ...ms,
        signal: options.signal,
        computed,
        sourced: plan.sourceLevels,
      });
      levels = { ...built, store: output };
    }
    return {
      ...summaryOf(input, output, plan, summary, notes, t0),
      ...(plan.sourceLevels.length && ms ? { sourceLevels: plan.sourceLevels.length } : {}),
      ...(levels ? { multiscales: levels } : {}),
      ...(remoteInput === "file" ? { remoteRead: remoteReadOf(file, download) } : {}),
    };
  } finally {
    await download?.remove();
  }
}

/** How a file named by URL was read (ConvertSummary `remoteRead`). */
function remoteReadOf(
  file: RemoteFile | undefined,
  download: Download | undefined,
): NonNullable<ConvertSummary["remoteRead"]> {
  if (file) return { read: "ranged", size: file.size, fetchedBytes: fetchedBytes(file) };
  const size = download?.size ?? 0;
  return { read: "download", size, fetchedBytes: size };
}
