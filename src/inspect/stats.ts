/**
 * Summary statistics of an array, computed chunk by chunk on the worker pool: bounded memory
 * (one chunk per task) whatever the array size.
 *
 * Missing values are NaN, the Zarr fill value, and the CF `_FillValue` / `missing_value` attributes
 * (CF §2.5.1). For CF-packed variables (`scale_factor`/`add_offset`, CF §8.1) the decoded
 * statistics are reported too, computed from the stored ones (the map is linear).
 *
 * @module
 */

import { missingValues, packingOf } from "../cf/packing.js";
import { GeoZarrError } from "../errors.js";
import { poolFor, type WorkerPool } from "../parallel/pool.js";
import { dataTypeInfo } from "../zarr/dtype.js";
import { getNode, type Hierarchy } from "../zarr/hierarchy.js";
import type { JsonValue } from "../zarr/json.js";
import { checkChunkBytes, exactElementCount, gridSize } from "../zarr/limits.js";
import { type ArrayMeta, chunkGridShape, type StringArrayMeta } from "../zarr/metadata/model.js";
import { chunkBox, gridIndices } from "../zarr/ndarray.js";
import { readGridChunkShape } from "../zarr/read/read-task.js";
import { readStrings } from "../zarr/read/strings.js";
import { canUseWorkers, refFor } from "../zarr/store/ref.js";
import { storedChunkCoords } from "../zarr/store/sizes.js";
import { displayStringType, encodeUtf8 } from "../zarr/strings.js";
import { emptyStats, mergeStats, type PartialStats } from "./stats-task.js";

export interface ValueStats {
  min: number | null;
  max: number | null;
  mean: number | null;
}

export interface ArrayStats extends ValueStats {
  path: string;
  shape: number[];
  dataType: string;
  /** Elements in all and missing ones: bigints when beyond 2^53 (arrays declared that large). */
  elements: number | bigint;
  valid: number;
  missing: number | bigint;
  /** Values counted as missing besides NaN. */
  missingValues: number[];
  /** Statistics of the CF-decoded values (raw * scale_factor + add_offset), when packed. */
  decoded?: ValueStats & { scaleFactor: number; addOffset: number };
  /** For an array of strings, counts only (min, max and mean are null). */
  strings?: StringCounts;
}

export interface StringCounts {
  /** Distinct values among the valid ones. */
  distinct: number;
  /** Valid values that are the empty string. */
  empty: number;
  /** The longest valid value, in characters (bytes for byte strings). */
  maxLength: number;
}

export interface StatsOptions {
  /** Stops the computation; the abort reason is thrown. */
  signal?: AbortSignal | undefined;
}

export async function computeStats(
  h: Hierarchy,
  path: string,
  pool: WorkerPool,
  options: StatsOptions = {},
): Promise<ArrayStats> {
  const node = getNode(h, path);
  if (node.meta.kind === "group") {
    throw new GeoZarrError("Usage", `${h.name}${node.path} is a group; stats needs an array`, {
      where: node.path,
    });
  }
  if (node.meta.kind === "strings") return stringStats(h, node.path, node.meta);
  const meta = node.meta;
  const missing = missingValues(meta);

  const grid = readGridChunkShape(meta);
  checkChunkBytes(`${h.name}${node.path}: a chunk`, grid, meta.dataType, dataTypeInfo(meta.dataType).size);
  const runner = poolFor(pool, canUseWorkers(h.store));
  const store = refFor(h.store, runner.size > 0);
  const elements = exactElementCount(meta.shape);
  let total = emptyStats();
  // Elements inside the chunks visited; the rest (sparse arrays) hold the fill value.
  let visited = 0n;
  const inflight = new Set<Promise<void>>();
  let failure: { error: unknown } | null = null;
  for (const coords of await chunksToVisit(h, node.path, meta, grid)) {
    options.signal?.throwIfAborted();
    if (failure) break;
    await runner.slot();
    visited += exactElementCount(chunkBox(coords, grid, meta.shape).shape);
    const job = runner
      .run("chunk-stats", { store, storeName: h.name, path: node.path, meta, chunks: [coords], missing })
      .then(
        (part) => {
          total = mergeStats(total, part);
        },
        (error) => {
          failure ??= { error };
        },
      );
    inflight.add(job);
    void job.finally(() => inflight.delete(job));
  }
  await Promise.all(inflight);
  if (failure) throw (failure as { error: unknown }).error;
  options.signal?.throwIfAborted();
  total = mergeStats(total, fillStats(meta.fillValue, elements - visited, missing));
  const valid = total.count;
  const mean = valid > 0 ? (total.sum + total.comp) / valid : null;
  const result: ArrayStats = {
    path: node.path,
    shape: meta.shape,
    dataType: meta.dataType,
    elements: exact(elements),
    valid,
    missing: exact(elements - BigInt(valid)),
    missingValues: missing,
    min: valid > 0 ? total.min : null,
    max: valid > 0 ? total.max : null,
    mean,
  };
  const packing = packingOf(meta);
  if (packing) {
    const { scale: s, offset: o } = packing;
    const f = (x: number | null) => (x === null ? null : x * s + o);
    const [lo, hi] = s >= 0 ? [f(result.min), f(result.max)] : [f(result.max), f(result.min)];
    result.decoded = { min: lo, max: hi, mean: f(mean), scaleFactor: s, addOffset: o };
  }
  return result;
}

/**
 * Counts of a string array, read whole (zarr/read/strings.ts). Missing are the values equal to a
 * CF `_FillValue` or `missing_value` given as text (CF §2.5.1); the Zarr fill value is data.
 */
async function stringStats(h: Hierarchy, path: string, meta: StringArrayMeta): Promise<ArrayStats> {
  const values = await readStrings(h.store, path, meta, h.name);
  const bytes = meta.stringType.kind === "bytes";
  const asStored = (v: JsonValue | undefined) => (typeof v === "string" ? [bytes ? encodeUtf8(v) : v] : []);
  const missing = new Set([
    ...asStored(meta.attributes._FillValue),
    ...asStored(meta.attributes.missing_value),
  ]);
  const distinct = new Set<string>();
  let valid = 0;
  let empty = 0;
  let maxLength = 0;
  for (const v of values) {
    if (missing.has(v)) continue;
    valid++;
    distinct.add(v);
    if (v === "") empty++;
    maxLength = Math.max(maxLength, bytes ? v.length : [...v].length);
  }
  return {
    path,
    shape: meta.shape,
    dataType: displayStringType(meta.stringType),
    elements: values.length,
    valid,
    missing: values.length - valid,
    missingValues: [],
    min: null,
    max: null,
    mean: null,
    strings: { distinct: distinct.size, empty, maxLength },
  };
}

/** A count as a number while it is exact, as a bigint beyond 2^53. */
const exact = (n: bigint): number | bigint => (n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n);

/**
 * The chunks to read: every chunk of a grid small enough to iterate, otherwise (a sparse array
 * declared astronomically large) only the chunks the store holds, found by listing it.
 */
async function chunksToVisit(
  h: Hierarchy,
  path: string,
  meta: ArrayMeta,
  grid: number[],
): Promise<Iterable<number[]>> {
  if (gridSize(meta.shape, grid).dense) return gridIndices(chunkGridShape(meta.shape, grid));
  const stored = await storedChunkCoords(h.store, path, meta);
  // A sharded array lists shards: visit each stored shard's inner chunks.
  const inner = meta.chunkShape.map((c, d) => c / grid[d]!);
  return stored
    .flatMap((shard) => [...gridIndices(inner)].map((i) => i.map((c, d) => shard[d]! * inner[d]! + c)))
    .filter((c) => c.every((x, d) => x * grid[d]! < meta.shape[d]!));
}

/** The statistics of `count` elements that hold the fill value (chunks never written). */
function fillStats(fill: ArrayMeta["fillValue"], count: bigint, missing: number[]): PartialStats {
  const s = emptyStats();
  const v = typeof fill === "bigint" ? Number(fill) : typeof fill === "number" ? fill : null;
  if (count === 0n) return s;
  if (v === null || Number.isNaN(v) || missing.includes(v)) {
    s.missing = Number(count);
    return s;
  }
  s.count = Number(count);
  s.min = v;
  s.max = v;
  s.sum = v * Number(count);
  return s;
}
