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
import type { MutableStore } from "../zarr/store/types.js";
import { type ArraySpec, HierarchyWriter } from "../zarr/write/writer.js";
import { BufferStock, type CopyJob, copyArray } from "./pipeline.js";

export type CopySource = Pick<
  CopyJob,
  "source" | "levelSource" | "sourceChunks" | "sourceType" | "sourceFill" | "transform" | "halve" | "units"
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
    };

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

/**
 * Bytes for the data one array copy buffers at a time (unit buffers and the segment cache,
 * pipeline.ts); the worker threads' own working buffers (a few MiB each, plus one compressed
 * chunk) come on top. 256 MiB keeps the full-size MUR conversion under 0.7 GB of RSS.
 */
export const DEFAULT_MEMORY_BUDGET = 256 * 2 ** 20;

/** The bytes a copy processes: the array's, or for a sparse copy its units' (progress only). */
function progressBytes(spec: ArraySpec, copy: CopySource): number {
  const all = product(spec.shape);
  const units = copy.units ? copy.units.length * product(spec.shardShape ?? spec.chunkShape) : all;
  return Math.min(all, units) * dataTypeInfo(spec.dataType).size;
}

function unitsOf(spec: ArraySpec, copy: CopySource): number {
  return copy.units?.length ?? product(chunkGridShape(spec.shape, spec.shardShape ?? spec.chunkShape));
}

export async function executePlan(
  nodes: NodePlan[],
  store: MutableStore,
  opts: ExecuteOptions,
): Promise<ExecuteSummary> {
  const writer = opts.writer ?? new HierarchyWriter(store, opts.zarrFormat);
  const pool = opts.pool ?? new WorkerPool(opts.useWorkers ? opts.workers : 0);
  // A pool of our own stops with the signal (the caller stops the pools it passes in).
  const detach = opts.pool ? () => {} : pool.stopOn(opts.signal);
  const arrays = nodes.filter((n): n is Extract<NodePlan, { kind: "array" }> => n.kind === "array");
  const progress: ProgressInfo = {
    unitsDone: 0,
    unitsTotal: 0,
    rawBytesDone: 0,
    rawBytesTotal: 0,
    storedBytes: 0,
  };
  for (const a of arrays) {
    if (!a.copy) continue;
    progress.unitsTotal += unitsOf(a.spec, a.copy);
    progress.rawBytesTotal += progressBytes(a.spec, a.copy);
  }
  opts.onProgress?.(progress);
  const budget = opts.memoryBudget ?? DEFAULT_MEMORY_BUDGET;
  const summary: ExecuteSummary = {
    arrays: [],
    storedBytes: 0,
    rawBytes: 0,
    workers: pool.size,
    memory: { budget, peakBuffered: 0 },
  };
  const buffers = new BufferStock();
  try {
    for (const node of nodes) {
      opts.signal?.throwIfAborted();
      if (node.kind === "group") {
        await writer.group(node.path, node.attributes);
        continue;
      }
      const { spec } = node;
      await writer.array(node.path, spec);
      const unitShape = spec.shardShape ?? spec.chunkShape;
      const rawTotal = product(spec.shape) * dataTypeInfo(spec.dataType).size;
      const rawProgress = node.copy ? progressBytes(spec, node.copy) : 0;
      let rawDone = 0;
      const stats = node.copy
        ? await copyArray(
            {
              ...node.copy,
              shape: spec.shape,
              path: node.path,
              unitShape,
              encoding: {
                dataType: spec.dataType,
                fillValue: spec.fillValue,
                codec: spec.codec,
                innerChunkShape: spec.shardShape ? spec.chunkShape : undefined,
              },
            },
            {
              pool,
              writer,
              shared: pool.size > 0,
              memoryBudget: budget,
              buffers,
              signal: opts.signal,
              onUnit: (raw, stored) => {
                // Edge units hold less than a full unit of data: never count past the array's size.
                const add = Math.min(raw, rawProgress - rawDone);
                rawDone += add;
                progress.unitsDone++;
                progress.rawBytesDone += add;
                progress.storedBytes += stored;
                opts.onProgress?.(progress);
              },
            },
          )
        : { units: 0, written: 0, skipped: 0, storedBytes: 0, halved: 0, peakBuffered: 0 };
      summary.memory.peakBuffered = Math.max(summary.memory.peakBuffered, stats.peakBuffered);
      summary.rawBytes += rawTotal;
      summary.storedBytes += stats.storedBytes;
      summary.arrays.push({
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
    if (nodes[0]?.kind === "group" && nodes[0].path === "/") await writer.consolidate();
  } finally {
    detach();
    if (!opts.pool) await pool.close();
  }
  return summary;
}
