/**
 * Execute a conversion plan: write every node of the plan into a store, copy the arrays' values
 * through the streaming pipeline, and write consolidated metadata last. Shared by every input
 * format (Zarr, NetCDF): readers only produce plans.
 * @module
 */

import { WorkerPool } from "../parallel/pool.js";
import { dataTypeInfo } from "../zarr/dtype.js";
import type { JsonObject } from "../zarr/json.js";
import { chunkGridShape, product } from "../zarr/metadata/model.js";
import type { Box } from "../zarr/ndarray.js";
import type { MutableStore } from "../zarr/store/types.js";
import { displayStringType } from "../zarr/strings.js";
import type { StringArraySpec } from "../zarr/write/strings.js";
import { type ArraySpec, HierarchyWriter } from "../zarr/write/writer.js";
import { BufferStock, type CopyJob, copyArray, fusedLevels } from "./pipeline.js";

export type CopySource = Pick<
  CopyJob,
  "source" | "derived" | "sourceChunks" | "sourceType" | "sourceFill" | "transform" | "halve" | "units"
>;

export type NodePlan =
  | { kind: "group"; path: string; attributes: JsonObject }
  | {
      kind: "array";
      path: string;
      spec: ArraySpec;
      copy: CopySource | null;
      /** Positions of the Y and X dimensions, for a data variable on a georeferenced grid. */
      grid?: { yAxis: number; xAxis: number } | undefined;
    }
  /**
   * A string array (coordinates, labels): small, so its values are in the plan, read whole by
   * the planner, and written whole (zarr/write/strings.ts), never through the pipeline.
   */
  | { kind: "strings"; path: string; spec: StringArraySpec; values: string[] };

export interface ProgressInfo {
  unitsDone: number;
  unitsTotal: number;
  rawBytesDone: number;
  rawBytesTotal: number;
  storedBytes: number;
}

export interface ExecuteOptions {
  zarrFormat: 2 | 3;
  workers: number;
  /** Whether tasks may run on worker threads (sources and stores that can be re-opened there). */
  useWorkers: boolean;
  memoryBudget?: number | undefined;
  onProgress?: ((p: ProgressInfo) => void) | undefined;
  signal?: AbortSignal | undefined;
  /** Write through this writer (its documents join the consolidated metadata written later). */
  writer?: HierarchyWriter | undefined;
  /** Run on this pool (left open) rather than one started and closed for this call. */
  pool?: WorkerPool | undefined;
  /**
   * Take unit buffers from this stock (kept across calls): the tasks of one run reuse the same
   * buffers rather than each allocating its own and leaving the last task's to the garbage
   * collectors of every thread that saw them (pipeline.ts `BufferStock`).
   */
  buffers?: BufferStock | undefined;
}

export interface ArraySummary {
  path: string;
  shape: number[];
  dataType: string;
  chunks: number[];
  shards?: number[] | undefined;
  chunksWritten: number;
  chunksSkipped: number;
  storedBytes: number;
  /** Where the array's reduced copies went (`CopySource.halve`), level 1 first, those written. */
  halved?: string[] | undefined;
}

export interface ExecuteSummary {
  arrays: ArraySummary[];
  storedBytes: number;
  rawBytes: number;
  workers: number;
  /** The data buffer budget and the most any array buffered at once (bytes). */
  memory: { budget: number; peakBuffered: number };
}

/** A run's summary before any step is added to it (jobs/run-plan.ts `merge`, the pyramid's levels). */
export function emptySummary(workers: number): ExecuteSummary {
  return { arrays: [], storedBytes: 0, rawBytes: 0, workers, memory: { budget: 0, peakBuffered: 0 } };
}

/**
 * Bytes for the data one array copy buffers at a time (unit buffers and the segment cache,
 * pipeline.ts); the worker threads' own working buffers (a few MiB each, plus one compressed
 * chunk) come on top. 256 MiB keeps the full-size MUR conversion under 0.7 GB of RSS.
 */
export const DEFAULT_MEMORY_BUDGET = 256 * 2 ** 20;

/** The bytes a copy processes: the array's, or for a sparse copy its units' (progress only). */
function progressBytes(spec: ArraySpec, copy: CopySource, region?: Box): number {
  const unit = spec.shardShape ?? spec.chunkShape;
  // A region's elements clipped to the array: its edge units hold less than a full unit.
  const all = region
    ? product(
        region.shape.map((n, d) =>
          Math.max(
            0,
            Math.min(spec.shape[d]!, (region.start[d]! + n) * unit[d]!) - region.start[d]! * unit[d]!,
          ),
        ),
      )
    : product(spec.shape);
  const units = copy.units ? copy.units.length * product(unit) : all;
  return Math.min(product(spec.shape), all, units) * dataTypeInfo(spec.dataType).size;
}

function unitsOf(spec: ArraySpec, copy: CopySource, region?: Box): number {
  if (region) return product(region.shape);
  return copy.units?.length ?? product(chunkGridShape(spec.shape, spec.shardShape ?? spec.chunkShape));
}

export type ArrayNode = Extract<NodePlan, { kind: "array" }>;

/** One task of a plan: the part of each array it writes, as a box of the array's unit grid. */
export interface TaskPlan {
  /** What the task is about, for messages ("mur_20020601.nc", "time 28-29"). */
  label: string;
  /** Array path -> its units this task writes; arrays not named in any task are written by finalize. */
  regions: Record<string, Box>;
}

/** A chunk (or shard) a run wrote: its key and size, what a task record lists. */
export interface WrittenUnit {
  key: string;
  size: number;
}

/** What one array copy (or one task's part of it) needs: shared by every array of a run. */
interface RunContext {
  pool: WorkerPool;
  writer: HierarchyWriter;
  budget: number;
  buffers: BufferStock;
  signal?: AbortSignal | undefined;
  progress: ProgressInfo;
  onProgress?: ((p: ProgressInfo) => void) | undefined;
  summary: ExecuteSummary;
  written?: WrittenUnit[] | undefined;
}

function openRun(opts: ExecuteOptions, store: MutableStore) {
  const writer = opts.writer ?? new HierarchyWriter(store, opts.zarrFormat);
  const pool = opts.pool ?? new WorkerPool(opts.useWorkers ? opts.workers : 0);
  // A pool of our own stops with the signal (the caller stops the pools it passes in).
  const detach = opts.pool ? () => {} : pool.stopOn(opts.signal);
  const budget = opts.memoryBudget ?? DEFAULT_MEMORY_BUDGET;
  const ctx: RunContext = {
    pool,
    writer,
    budget,
    buffers: opts.buffers ?? new BufferStock(),
    signal: opts.signal,
    progress: { unitsDone: 0, unitsTotal: 0, rawBytesDone: 0, rawBytesTotal: 0, storedBytes: 0 },
    onProgress: opts.onProgress,
    summary: {
      arrays: [],
      storedBytes: 0,
      rawBytes: 0,
      workers: pool.size,
      memory: { budget, peakBuffered: 0 },
    },
  };
  const close = async () => {
    detach();
    if (!opts.pool) await pool.close();
  };
  return { ctx, close };
}

/** Count what will be copied, for progress. */
function plan(ctx: RunContext, work: { node: ArrayNode; region?: Box | undefined }[]): void {
  for (const { node, region } of work) {
    if (!node.copy) continue;
    ctx.progress.unitsTotal += unitsOf(node.spec, node.copy, region);
    ctx.progress.rawBytesTotal += progressBytes(node.spec, node.copy, region);
  }
  ctx.onProgress?.(ctx.progress);
}

/** The copy job of an array node (of `region` of its unit grid). */
function jobOf(node: ArrayNode & { copy: CopySource }, region?: Box): CopyJob {
  const { spec } = node;
  return {
    ...node.copy,
    shape: spec.shape,
    path: node.path,
    unitShape: spec.shardShape ?? spec.chunkShape,
    region,
    encoding: {
      dataType: spec.dataType,
      fillValue: spec.fillValue,
      codec: spec.codec,
      innerChunkShape: spec.shardShape ? spec.chunkShape : undefined,
    },
  };
}

/** Where the reduced copies of an array go that its copy computes itself (its fused levels). */
export function halvedPaths(node: NodePlan): string[] {
  if (node.kind !== "array" || !node.copy?.halve) return [];
  return node.copy.halve
    .slice(0, fusedLevels(jobOf(node as ArrayNode & { copy: CopySource })))
    .map((h) => h.path);
}

/** Copy one array's values (or the units of `region`) through the pipeline. */
async function copyNode(node: ArrayNode, region: Box | undefined, ctx: RunContext): Promise<void> {
  const { spec } = node;
  const rawProgress = node.copy ? progressBytes(spec, node.copy, region) : 0;
  let rawDone = 0;
  const stats = node.copy
    ? await copyArray(jobOf(node as ArrayNode & { copy: CopySource }, region), {
        pool: ctx.pool,
        writer: ctx.writer,
        shared: ctx.pool.size > 0,
        memoryBudget: ctx.budget,
        buffers: ctx.buffers,
        signal: ctx.signal,
        onUnit: (raw, stored) => {
          // Edge units hold less than a full unit of data: never count past the array's size.
          const add = Math.min(raw, rawProgress - rawDone);
          rawDone += add;
          ctx.progress.unitsDone++;
          ctx.progress.rawBytesDone += add;
          ctx.progress.storedBytes += stored;
          ctx.onProgress?.(ctx.progress);
        },
        onWritten: ctx.written ? (key, size) => ctx.written!.push({ key, size }) : undefined,
      })
    : { units: 0, written: 0, skipped: 0, storedBytes: 0, halved: 0, peakBuffered: 0 };
  const s = ctx.summary;
  s.memory.peakBuffered = Math.max(s.memory.peakBuffered, stats.peakBuffered);
  s.rawBytes += rawProgress;
  s.storedBytes += stats.storedBytes;
  s.arrays.push({
    path: node.path,
    shape: spec.shape,
    dataType: spec.dataType,
    chunks: spec.chunkShape,
    shards: spec.shardShape,
    chunksWritten: stats.written,
    chunksSkipped: stats.skipped,
    storedBytes: stats.storedBytes,
    ...(stats.halved ? { halved: node.copy!.halve!.slice(0, stats.halved).map((h) => h.path) } : {}),
  });
}

const arraysOf = (nodes: NodePlan[]) => nodes.filter((n): n is ArrayNode => n.kind === "array");

type StringNode = Extract<NodePlan, { kind: "strings" }>;

/** Write a string array, documents and chunks, and count it in the summary. */
async function writeStrings(node: StringNode, ctx: RunContext): Promise<void> {
  const sizes = await ctx.writer.strings(node.path, node.spec, node.values);
  ctx.summary.rawBytes += sizes.rawBytes;
  ctx.summary.storedBytes += sizes.storedBytes;
  ctx.progress.storedBytes += sizes.storedBytes;
  ctx.summary.arrays.push({
    path: node.path,
    shape: node.spec.shape,
    dataType: displayStringType(node.spec.stringType),
    chunks: node.spec.chunkShape,
    chunksWritten: sizes.chunks,
    chunksSkipped: 0,
    storedBytes: sizes.storedBytes,
  });
}

/**
 * Write every node of `nodes` into `store`: each node's documents, then its values, in plan order,
 * and consolidated metadata last (when the plan has a root group).
 */
export async function executePlan(
  nodes: NodePlan[],
  store: MutableStore,
  opts: ExecuteOptions,
): Promise<ExecuteSummary> {
  const { ctx, close } = openRun(opts, store);
  try {
    plan(
      ctx,
      arraysOf(nodes).map((node) => ({ node })),
    );
    for (const node of nodes) {
      opts.signal?.throwIfAborted();
      if (node.kind === "group") await ctx.writer.group(node.path, node.attributes);
      else if (node.kind === "strings") await writeStrings(node, ctx);
      else {
        await ctx.writer.array(node.path, node.spec);
        await copyNode(node, undefined, ctx);
      }
    }
    if (nodes[0]?.kind === "group" && nodes[0].path === "/") await ctx.writer.consolidate();
  } finally {
    await close();
  }
  return ctx.summary;
}

/**
 * Run one task of a plan: the units of its regions, and nothing else (no metadata: finalize
 * writes it once every task is done). The bytes of every chunk depend only on the plan and the
 * sources, so a task run twice writes the same files. Returns what it wrote.
 */
export async function runTask(
  nodes: NodePlan[],
  task: TaskPlan,
  store: MutableStore,
  opts: ExecuteOptions,
): Promise<ExecuteSummary & { files: WrittenUnit[] }> {
  const { ctx, close } = openRun(opts, store);
  ctx.written = [];
  try {
    const work = arraysOf(nodes)
      .filter((n) => task.regions[n.path] !== undefined)
      .map((node) => ({ node, region: task.regions[node.path] }));
    plan(ctx, work);
    for (const { node, region } of work) {
      opts.signal?.throwIfAborted();
      await copyNode(node, region, ctx);
    }
  } finally {
    await close();
  }
  return { ...ctx.summary, files: ctx.written };
}

/**
 * The last step of a plan run as tasks: the arrays no task writes (coordinates, grid mappings,
 * static variables), then every node's documents with its final shape, then consolidated metadata.
 */
export async function finalizePlan(
  nodes: NodePlan[],
  tasks: readonly TaskPlan[],
  store: MutableStore,
  opts: ExecuteOptions,
): Promise<ExecuteSummary> {
  const { ctx, close } = openRun(opts, store);
  const byTasks = new Set(tasks.flatMap((t) => Object.keys(t.regions)));
  try {
    const rest = arraysOf(nodes).filter((n) => !byTasks.has(n.path));
    plan(
      ctx,
      rest.map((node) => ({ node })),
    );
    for (const node of rest) {
      opts.signal?.throwIfAborted();
      await copyNode(node, undefined, ctx);
    }
    // String arrays are in no task: written here, documents and chunks together.
    for (const node of nodes) {
      if (node.kind === "group") await ctx.writer.group(node.path, node.attributes);
      else if (node.kind === "strings") await writeStrings(node, ctx);
      else await ctx.writer.array(node.path, node.spec);
    }
    if (nodes[0]?.kind === "group" && nodes[0].path === "/") await ctx.writer.consolidate();
  } finally {
    await close();
  }
  return ctx.summary;
}
