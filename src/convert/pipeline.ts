/**
 * Copy one array from a source into a writer, streaming and in parallel, in bounded memory.
 *
 * The array is processed in *bands*: boxes that span whole output chunks (or shards) along the
 * leading dimensions and the full extent of the trailing ones (for MUR: 4096 rows x all columns).
 * Sources are read in *segments* aligned to the source's own chunks (MUR: 1023-row bands), so every
 * source chunk is decoded once; a segment that straddles two bands is copied into both (re-tiling
 * in memory, instead of decoding boundary chunks twice as unaligned reads would). When a band is
 * complete its chunks are cut, transformed and encoded on the worker pool and written.
 *
 * Memory: two band buffers (shared with the workers) plus, per queued task, one chunk. A band is
 * at most `bandBudget` bytes; when even one row of whole chunks is larger, bands shrink to one
 * chunk and segments to the band itself (unaligned reads: more decoding, same bounded memory).
 *
 * @module
 */

import { GeoZarrError } from "../errors.js";
import type { WorkerPool } from "../parallel/pool.js";
import type { LevelSource } from "../pyramid/level-task.js";
import type { Resampling } from "../pyramid/resample.js";
import { type DataType, dataTypeInfo } from "../zarr/dtype.js";
import type { FillValue } from "../zarr/fill-value.js";
import { checkChunkBytes, gridSize, MAX_DENSE_CHUNKS } from "../zarr/limits.js";
import { product } from "../zarr/metadata/model.js";
import { type Box, chunkBox, chunksOverlapping, gridIndices, intersect } from "../zarr/ndarray.js";
import type { ChunkEncoding } from "../zarr/write/encode.js";
import type { HierarchyWriter } from "../zarr/write/writer.js";
import type { BandRef } from "./encode-task.js";
import type { SourceRef } from "./source.js";
import type { Transform } from "./transform.js";

export interface CopyJob {
  /**
   * Where segments come from (exactly one of the two): a source read as is ("read-band"), or, for
   * a pyramid level, the previous level reduced by 2 ("downsample-band", pyramid/level-task.ts).
   */
  source?: SourceRef | undefined;
  levelSource?: LevelSource | undefined;
  /** The source's own chunk shape: segments are aligned to it. */
  sourceChunks: number[];
  shape: number[];
  /** Data type of the values as read (band buffers hold these). */
  sourceType: DataType;
  /** Pads edge chunks before the transform (the source's fill value). */
  sourceFill: FillValue;
  path: string;
  /** The unit written under one key: the chunk shape, or the shard shape when sharded. */
  unitShape: number[];
  encoding: ChunkEncoding;
  transform: Transform;
  /**
   * Also write the array reduced by 2, 4, 8, ... along its two last dimensions (multiscale levels
   * 1, 2, ...), each from the one before while the band is in memory: no second read or decode of
   * the full-resolution data. Done for the leading levels whose chunks the bands line up with
   * (fusedLevels); `CopyStats.halved` says how many.
   */
  halve?: HalveJob[] | undefined;
  /**
   * Only these units (grid coordinates), for arrays whose grid is too large to iterate (a sparse
   * array declared astronomically large, zarr/limits.ts): the units overlapping stored source chunks.
   */
  units?: number[][] | undefined;
}

export interface HalveJob {
  path: string;
  /** The reduced array's shape and chunk shape. */
  shape: number[];
  unitShape: number[];
  encoding: ChunkEncoding;
  method: Resampling;
}

export interface CopyContext {
  pool: WorkerPool;
  writer: HierarchyWriter;
  /** Share band buffers with worker threads (SharedArrayBuffer) rather than run inline. */
  shared: boolean;
  /** Upper bound on one band buffer, in bytes. */
  bandBudget: number;
  /** Band buffers kept between the arrays of one job (a fresh one per array when absent). */
  buffers?: BufferStock | undefined;
  /** Called after each unit is written or skipped, with its uncompressed size and stored size. */
  onUnit?: (rawBytes: number, storedBytes: number) => void;
  /** Stops scheduling work; in-flight tasks finish, then the abort reason is thrown. */
  signal?: AbortSignal | undefined;
}

export interface CopyStats {
  units: number;
  written: number;
  skipped: number;
  storedBytes: number;
  /** How many of the reduced copies (`CopyJob.halve`) were written. */
  halved: number;
}

export interface BandPlan {
  /** Dimension along which bands follow each other. */
  bandDim: number;
  /** Band extent along dims <= bandDim (dims after it are whole). */
  extents: number[];
  /** Segments are aligned to source chunks (true) or equal to the band (false, low memory). */
  aligned: boolean;
}

/** The smallest multiple of `unit` that is at least `min`. */
const covering = (unit: number, min: number) => unit * Math.ceil(min / unit);

export function planBands(
  shape: number[],
  unitShape: number[],
  sourceChunks: number[],
  itemSize: number,
  budget: number,
): BandPlan {
  const nd = shape.length;
  if (nd === 0) return { bandDim: -1, extents: [], aligned: true };
  for (let b = 0; b < nd; b++) {
    // Along dims <= b a band covers whole source chunks (rounded up to whole output units).
    const extents = shape
      .slice(0, b + 1)
      .map((n, d) => Math.min(covering(unitShape[d]!, sourceChunks[d]!), covering(unitShape[d]!, n)));
    const bytes = product(extents) * product(shape.slice(b + 1)) * itemSize;
    if (bytes <= budget) return { bandDim: b, extents, aligned: true };
  }
  return { bandDim: nd - 1, extents: unitShape.slice(), aligned: false };
}

/** Bands in C order: boxes spanning `extents` along dims <= bandDim and whole trailing dims. */
function bandBoxes(shape: number[], plan: BandPlan): Box[] {
  if (plan.bandDim < 0) return [{ start: [], shape: [] }];
  const lead = plan.extents;
  const grid = lead.map((e, d) => Math.ceil(shape[d]! / e));
  return [...gridIndices(grid)].map((idx) => {
    const start = shape.map((_, d) => (d < lead.length ? idx[d]! * lead[d]! : 0));
    return { start, shape: shape.map((n, d) => (d < lead.length ? Math.min(lead[d]!, n - start[d]!) : n)) };
  });
}

/** A read segment's target size: big enough to amortise a task, small enough for bounded memory. */
const SEGMENT_BYTES = 4 << 20;

/**
 * Source segments for one run of bands sharing their leading (outer) position: aligned to the
 * source chunks along the band dimension and the trailing ones (so each source chunk is decoded
 * once, and a segment is a few source chunks, not a whole 74 MB row of them), in C order.
 */
function segmentsFor(
  outer: Box,
  shape: number[],
  plan: BandPlan,
  sourceChunks: number[],
  itemSize: number,
): Box[] {
  const b = plan.bandDim;
  if (b < 0) return [outer]; // a scalar: one segment, the whole array
  const nd = shape.length;
  const steps = shape.map((n, d) => (d < b ? outer.shape[d]! : Math.min(sourceChunks[d]!, n)));
  if (b < nd - 1) {
    // Along the last dimension, group source chunks until a segment reaches SEGMENT_BYTES.
    const one = product(steps.map((s, d) => (d < b ? outer.shape[d]! : s))) * itemSize;
    steps[nd - 1] = steps[nd - 1]! * Math.max(1, Math.floor(SEGMENT_BYTES / one));
  }
  const counts = shape.map((n, d) => (d < b ? 1 : Math.ceil(n / steps[d]!)));
  return [...gridIndices(counts)].map((idx) => {
    const start = idx.map((i, d) => (d < b ? outer.start[d]! : i * steps[d]!));
    return {
      start,
      shape: start.map((st, d) => (d < b ? outer.shape[d]! : Math.min(steps[d]!, shape[d]! - st))),
    };
  });
}

/** A box halved (rounded up) along its two last dimensions: its part of the reduced array. */
function halfBox(b: Box): Box {
  const nd = b.shape.length;
  return {
    start: b.start.map((s, d) => (d >= nd - 2 ? s / 2 : s)),
    shape: b.shape.map((n, d) => (d >= nd - 2 ? Math.ceil(n / 2) : n)),
  };
}

/**
 * How many of the reduced copies each band can make on its own: Y and X are the two last
 * dimensions, bands cover whole rows (they run along Y, or along a leading dimension over whole
 * planes), and at level k a band's part, 1/2^k of its rows, is whole chunks of that level along
 * every banded dimension (so bands start on rows that halve exactly). The values are stored as
 * read (no transform), so the copies are in the stored type.
 */
function fusedLevels(job: CopyJob, plan: BandPlan): number {
  const halve = job.halve ?? [];
  const nd = job.shape.length;
  if (
    nd < 2 ||
    !plan.aligned ||
    plan.bandDim < 0 ||
    plan.bandDim > nd - 2 ||
    job.transform.kind !== "identity" ||
    job.sourceType !== job.encoding.dataType
  )
    return 0;
  let k = 0;
  while (
    k < halve.length &&
    halve[k]!.encoding.dataType === job.sourceType &&
    plan.extents.every((e, d) =>
      d === nd - 2 ? e % (2 ** (k + 1) * halve[k]!.unitShape[d]!) === 0 : e % halve[k]!.unitShape[d]! === 0,
    )
  )
    k++;
  return k;
}

/**
 * Band buffers kept for the next array of the same job. Never-touched memory costs a page fault per
 * 4 KiB on first write (0.31 GB/s on these machines, ../shared peers-and-limits section 6); the
 * two or three arrays of a conversion each used to allocate their own 150-300 MB bands.
 */
export class BufferStock {
  readonly #spare: ArrayBufferLike[] = [];

  constructor(private readonly keep = 8) {}

  /** The smallest spare buffer of at least `bytes`, or a new one (a multiple of 8 bytes, so any typed view fits). */
  take(bytes: number, shared: boolean): ArrayBufferLike {
    let best = -1;
    for (const [i, b] of this.#spare.entries()) {
      if (b.byteLength < bytes || b instanceof SharedArrayBuffer !== shared) continue;
      if (best < 0 || b.byteLength < this.#spare[best]!.byteLength) best = i;
    }
    if (best >= 0) return this.#spare.splice(best, 1)[0]!;
    const n = Math.ceil(bytes / 8) * 8;
    return shared ? new SharedArrayBuffer(n) : new ArrayBuffer(n);
  }

  /** Keep `b` for later; beyond `keep` spares the smallest are let go. */
  give(b: ArrayBufferLike): void {
    this.#spare.push(b);
    this.#spare.sort((x, y) => y.byteLength - x.byteLength);
    this.#spare.length = Math.min(this.#spare.length, this.keep);
  }
}

class BufferRing {
  readonly #free: ArrayBufferLike[] = [];
  readonly #waiters: Array<{ resolve: (b: ArrayBufferLike) => void; reject: (e: unknown) => void }> = [];
  #made = 0;
  #failure: { error: unknown } | null = null;

  constructor(
    private readonly count: number,
    private readonly bytes: number,
    private readonly shared: boolean,
    private readonly stock: BufferStock,
  ) {}

  async acquire(): Promise<ArrayBufferLike> {
    if (this.#failure) throw this.#failure.error;
    const b = this.#free.pop();
    if (b) return b;
    if (this.#made < this.count) {
      this.#made++;
      return this.stock.take(this.bytes, this.shared);
    }
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  release(b: ArrayBufferLike): void {
    const w = this.#waiters.shift();
    if (w) w.resolve(b);
    else this.#free.push(b);
  }

  /** At the end of a copy: the buffers go back to the stock for the next array. */
  close(): void {
    for (const b of this.#free.splice(0)) this.stock.give(b);
  }

  /** After a failure, bands that wait for a buffer would wait forever: fail them instead. */
  fail(error: unknown): void {
    this.#failure ??= { error };
    for (const w of this.#waiters.splice(0)) w.reject(error);
  }
}

export async function copyArray(job: CopyJob, ctx: CopyContext): Promise<CopyStats> {
  const { shape, unitShape } = job;
  const stats: CopyStats = { units: 0, written: 0, skipped: 0, storedBytes: 0, halved: 0 };
  if (shape.some((n) => n === 0)) return stats;
  const itemSize = dataTypeInfo(job.sourceType).size;
  const sourceChunks = job.sourceChunks.map((c, d) => Math.min(c, shape[d]!));
  const { dataType } = job.encoding;
  checkChunkBytes(`${job.path}: a chunk`, unitShape, dataType, dataTypeInfo(dataType).size);
  let plan: BandPlan;
  let bands: Box[];
  if (job.units) {
    // Sparse: each unit is a band of its own, read from the source chunks it overlaps.
    plan = { bandDim: shape.length - 1, extents: unitShape.slice(), aligned: false };
    bands = job.units.map((u) => chunkBox(u, unitShape, shape));
  } else {
    const grid = gridSize(shape, unitShape);
    if (!grid.dense) {
      throw new GeoZarrError(
        "Unsupported",
        `${job.path}: ${grid.chunks.toExponential(2)} chunks to write, more than the ${MAX_DENSE_CHUNKS} that can be iterated (only Zarr sources, whose stored chunks can be listed, are copied sparsely)`,
        { where: job.path },
      );
    }
    plan = planBands(shape, unitShape, sourceChunks, itemSize, ctx.bandBudget);
    bands = bandBoxes(shape, plan);
  }
  const maxBand = Math.max(...bands.map((b) => product(b.shape)));
  const stock = ctx.buffers ?? new BufferStock();
  const ring = new BufferRing(2, maxBand * itemSize, ctx.shared, stock);
  const rings = [ring];

  let failure: unknown = null;
  const fail = (err: unknown) => {
    failure ??= err;
    for (const r of rings) r.fail(failure);
  };
  // Removed when the copy ends: one signal serves every array of a conversion (and of a pyramid).
  const onAbort = () => fail(ctx.signal!.reason);
  ctx.signal?.addEventListener("abort", onAbort);
  const inflight = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    const q = p.catch(fail);
    inflight.add(q);
    void q.finally(() => inflight.delete(q));
  };
  const rawUnit = product(unitShape) * dataTypeInfo(job.encoding.dataType).size;

  // The units of one band (of the array, or of its reduced copy), encoded on the pool and written.
  interface Target {
    path: string;
    shape: number[];
    unitShape: number[];
    encoding: ChunkEncoding;
    ring: BufferRing;
    count: boolean;
  }
  const full: Target = { path: job.path, shape, unitShape, encoding: job.encoding, ring, count: true };
  // Workers write chunks themselves into a store they can open (a directory): the bytes do not
  // travel back to this thread. Otherwise (in-memory stores, no workers) the writer stores them.
  const direct = ctx.shared ? ctx.writer.workerRef() : undefined;
  const encodeBand = async (band: BandRef, t: Target = full, release = true) => {
    const units = chunksOverlapping(band.box, t.unitShape);
    const jobs: Promise<unknown>[] = [];
    for (const coords of units) {
      if (failure) break;
      await ctx.pool.slot();
      const box = chunkBox(coords, t.unitShape, t.shape);
      const p = ctx.pool
        .run("encode-chunk", {
          band,
          box,
          chunkShape: t.unitShape,
          sourceFill: job.sourceFill,
          // The reduced copy is computed from stored values (fusedPlan allows identity only).
          transform: job.transform,
          encoding: t.encoding,
          target: direct ? { store: direct, key: ctx.writer.chunkKey(t.path, coords) } : undefined,
        })
        .then(async (out) => {
          let stored = 0;
          if (out && "bytes" in out) {
            await ctx.writer.chunk(t.path, coords, out.bytes);
            stored = out.bytes.length;
          } else if (out) stored = out.written;
          if (!t.count) return;
          stats.units++;
          if (out) {
            stats.written++;
            stats.storedBytes += stored;
          } else stats.skipped++;
          ctx.onUnit?.(rawUnit, stored);
        });
      jobs.push(p);
      track(p);
    }
    await Promise.allSettled(jobs);
    if (release) t.ring.release(band.buffer);
  };

  // The reduced copies: each band halved on the pool, level by level, into buffers of their own;
  // then all of them encoded.
  const levels = (job.halve ?? []).slice(0, fusedLevels(job, plan));
  let onBand = (band: BandRef) => encodeBand(band);
  if (levels.length > 0) {
    let boxes = bands;
    const targets = levels.map((level) => {
      boxes = boxes.map(halfBox);
      const r = new BufferRing(
        2,
        Math.max(...boxes.map((b) => product(b.shape))) * itemSize,
        ctx.shared,
        stock,
      );
      rings.push(r);
      return { ...level, ring: r, count: false } satisfies Target;
    });
    onBand = async (band) => {
      const outs: BandRef[] = [];
      // The band's own chunks are encoded while it is being halved (both only read it); it is
      // released when both are done.
      const own = encodeBand(band, full, false);
      try {
        let from = band;
        for (const [k, t] of targets.entries()) {
          const out = { buffer: await t.ring.acquire(), dataType: job.sourceType, box: halfBox(from.box) };
          outs.push(out);
          // In row slices, so every worker takes part.
          const rows = out.box.shape[out.box.shape.length - 2]!;
          const step = Math.ceil(rows / Math.max(1, 2 * ctx.pool.size));
          const parts: Promise<unknown>[] = [];
          for (let r = 0; r < rows; r += step) {
            await ctx.pool.slot();
            parts.push(
              ctx.pool.run("halve-band", {
                band: from,
                out,
                method: levels[k]!.method,
                missing: job.sourceFill,
                rows: [r, Math.min(rows, r + step)],
              }),
            );
          }
          await Promise.all(parts);
          from = out;
        }
      } catch (err) {
        await own.catch(() => undefined);
        ring.release(band.buffer);
        for (const [k, o] of outs.entries()) targets[k]!.ring.release(o.buffer);
        throw err;
      }
      await Promise.all([own, ...outs.map((o, k) => encodeBand(o, targets[k]))]);
      ring.release(band.buffer);
    };
    stats.halved = levels.length;
  }

  // Bands sharing a leading position form a run; segments are planned per run.
  const b = plan.bandDim;
  const runs = new Map<string, Box[]>();
  for (const band of bands) {
    const key = band.start.slice(0, Math.max(0, b)).join(",");
    runs.set(key, [...(runs.get(key) ?? []), band]);
  }
  for (const runBands of runs.values()) {
    const first = runBands[0]!;
    const outer: Box = {
      start: first.start.map((s, d) => (d === b ? 0 : s)),
      shape: first.shape.map((s, d) => (d === b ? shape[d]! : s)),
    };
    const segments = plan.aligned ? segmentsFor(outer, shape, plan, sourceChunks, itemSize) : runBands;
    const refs: Array<BandRef | undefined> = runBands.map(() => undefined);
    const remaining = runBands.map((band) => segments.filter((s) => intersect(s, band)).length);
    for (const segment of segments) {
      if (failure) break;
      const hit = runBands.map((band, i) => (intersect(segment, band) ? i : -1)).filter((i) => i >= 0);
      try {
        for (const i of hit) {
          refs[i] ??= { buffer: await ring.acquire(), dataType: job.sourceType, box: runBands[i]! };
        }
      } catch {
        break; // the ring failed: `failure` says why
      }
      await ctx.pool.slot();
      const bandRefs = hit.map((i) => refs[i]!);
      const read = job.levelSource
        ? ctx.pool.run("downsample-band", { source: job.levelSource, segment, bands: bandRefs })
        : ctx.pool.run("read-band", { source: job.source!, segment, bands: bandRefs });
      const p = read.then(() => {
        for (const i of hit) if (--remaining[i]! === 0) track(onBand(refs[i]!));
      });
      track(p);
    }
    if (failure) break;
  }
  while (inflight.size > 0) await Promise.allSettled([...inflight]);
  for (const r of rings) r.close();
  ctx.signal?.removeEventListener("abort", onAbort);
  if (failure) throw failure;
  return stats;
}
