/**
 * Copy one array from a source into a writer, streaming and in parallel, in bounded memory.
 *
 * The array is processed *unit by unit* (a unit is what is written under one key: a chunk, or a
 * shard), in C order. Each unit gets a buffer (shared with the workers) that is filled from the
 * source, then cut, transformed, encoded and written on the worker pool, and given back.
 *
 * Sources are read in *segments* of whole source chunks (MUR: one 1023 x 2047 chunk), so every
 * source chunk is decoded once: a segment is decoded into every unit buffer that wants it at that
 * moment and, when units still to come overlap it too (MUR's chunks straddle the 4096-row units),
 * into a cache slot from which those units are filled later. For C order the cache holds at most
 * one row of straddling segments (MUR int16: 1023 rows x 36000 columns, 74 MB), far less than the
 * full-width bands of 4096 rows this replaces (two of 295 MB).
 *
 * Memory: the unit buffers (as many as the budget allows after the cache, at least two, so that
 * one is read while another is encoded) plus the cache plus, per worker, one slab. When the cache
 * alone would not fit (source chunks as large as the units or more), units read their own boxes
 * (unaligned: source chunks on unit boundaries are decoded more than once, memory still bounded).
 *
 * @module
 */

import { GeoZarrError } from "../errors.js";
import type { Resampling } from "../kernels/resample.js";
import type { WorkerPool } from "../parallel/pool.js";
import { type DataType, dataTypeInfo, viewAs } from "../zarr/dtype.js";
import type { FillValue } from "../zarr/fill-value.js";
import { checkChunkBytes, gridSize, MAX_DENSE_CHUNKS } from "../zarr/limits.js";
import { chunkGridShape, product } from "../zarr/metadata/model.js";
import { type Box, chunkBox, chunksOverlapping, copyBox, gridIndices, intersect } from "../zarr/ndarray.js";
import type { ChunkEncoding } from "../zarr/write/encode.js";
import type { HierarchyWriter } from "../zarr/write/writer.js";
import type { BandRef } from "./encode-task.js";
import type { SourceRef } from "./source.js";
import type { Transform } from "./transform.js";

export interface CopyJob {
  /**
   * Where segments come from (exactly one of the two): a source read as is ("read-band"), or a
   * source that a task of a layer above reads (for a pyramid level, the level before reduced by 2:
   * "downsample-band", pyramid/level-task.ts); the copy hands its description to that task as is.
   */
  source?: SourceRef | undefined;
  derived?: { task: "downsample-band"; source: unknown } | undefined;
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
  /** Only the units in this box of the unit grid (a task's part of the array); all when absent. */
  region?: Box | undefined;
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
  /** Bytes for unit buffers and the segment cache together (planCopy). */
  memoryBudget: number;
  /** Buffers kept between the arrays of one job (a fresh stock per array when absent). */
  buffers?: BufferStock | undefined;
  /** Called with the key and size of every unit (chunk or shard) written (task records). */
  onWritten?: ((key: string, size: number) => void) | undefined;
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
  /** The most bytes held at once in unit buffers, segment cache slots and reduced copies. */
  peakBuffered: number;
}

/**
 * Band buffers kept for the next array of the same job. Never-touched memory costs a page fault per
 * 4 KiB on first write (0.31 GB/s on these machines, ../shared peers-and-limits section 6); the
 * two or three arrays of a conversion each used to allocate their own 150-300 MB bands.
 */
export class BufferStock {
  readonly #spare: ArrayBufferLike[] = [];

  /** Spares are kept up to `capBytes` in all (buffers shared with workers are freed only when every
   * thread that saw them collects its garbage, so letting them go and allocating anew piles up
   * memory: kept, they are reused). */
  constructor(private readonly capBytes = 512 * 2 ** 20) {}

  /**
   * The smallest spare buffer of at least `bytes` and at most twice that (a larger one would
   * strand memory), or a new one (a multiple of 8 bytes, so any typed view fits).
   */
  take(bytes: number, shared: boolean): ArrayBufferLike {
    let best = -1;
    for (const [i, b] of this.#spare.entries()) {
      if (b.byteLength < bytes || b.byteLength > 2 * bytes + 8 || b instanceof SharedArrayBuffer !== shared)
        continue;
      if (best < 0 || b.byteLength < this.#spare[best]!.byteLength) best = i;
    }
    if (best >= 0) return this.#spare.splice(best, 1)[0]!;
    const n = Math.ceil(bytes / 8) * 8;
    return shared ? new SharedArrayBuffer(n) : new ArrayBuffer(n);
  }

  /** Keep `b` for later; beyond `capBytes` of spares the smallest are let go. */
  give(b: ArrayBufferLike): void {
    this.#spare.push(b);
    this.#spare.sort((x, y) => y.byteLength - x.byteLength);
    let total = 0;
    let keep = 0;
    while (keep < this.#spare.length && total + this.#spare[keep]!.byteLength <= this.capBytes) {
      total += this.#spare[keep]!.byteLength;
      keep++;
    }
    this.#spare.length = keep;
  }
}

/** How a copy is carried out: aligned segments with a cache, or each unit read on its own. */
export interface CopyPlan {
  /** Segments are whole source chunks, cached for later units (true), or the units themselves. */
  aligned: boolean;
  /** Source chunks grouped per segment along the last dimension (aligned copies). */
  group: number;
  /** The most the segment cache can hold (aligned copies), in bytes. */
  cacheBytes: number;
  /** Bytes of one unit buffer. */
  unitBytes: number;
  /** Unit buffers allocated at most at once. */
  maxUnits: number;
}

/** A read segment's target size: big enough to amortise a task, small enough for bounded memory. */
const SEGMENT_BYTES = 4 << 20;

export function planCopy(
  shape: readonly number[],
  unitShape: readonly number[],
  sourceChunks: readonly number[],
  itemSize: number,
  budget: number,
): CopyPlan {
  const nd = shape.length;
  const unit = unitShape.map((u, d) => Math.min(u, shape[d]!));
  const unitBytes = Math.max(1, product(unit) * itemSize);
  const maxUnits = (room: number) => Math.max(2, Math.floor(room / unitBytes));
  if (nd === 0) return { aligned: false, group: 1, cacheBytes: 0, unitBytes, maxUnits: 2 };
  const src = sourceChunks.map((c, d) => Math.min(c, shape[d]!));
  // Along the last dimension, group source chunks into segments of about SEGMENT_BYTES, never
  // wider than a unit (a wider segment would only be cached longer).
  const chunkBytes = product(src) * itemSize;
  const group = Math.max(
    1,
    Math.min(Math.floor(SEGMENT_BYTES / chunkBytes), Math.floor(unit[nd - 1]! / src[nd - 1]!)),
  );
  // In C order, a segment is cached until the units after it along its outermost straddling
  // dimension d are filled: at most one segment thick along d, whole along the dims after it.
  const straddles = (d: number) => unit[d]! % src[d]! !== 0 || src[d]! > unit[d]!;
  const d = Array.from({ length: nd }, (_, i) => i).find(straddles);
  const cacheBytes =
    d === undefined
      ? 0
      : product(unit.slice(0, d)) * src[d]! * product(shape.slice(d + 1)) * itemSize +
        // and the segments straddling the next unit along the last dimension meanwhile
        (d < nd - 1 ? product(unit.slice(0, nd - 1)) * src[nd - 1]! * group * itemSize : 0);
  if (cacheBytes <= budget / 2) {
    return { aligned: true, group, cacheBytes, unitBytes, maxUnits: maxUnits(budget - cacheBytes) };
  }
  return { aligned: false, group: 1, cacheBytes: 0, unitBytes, maxUnits: maxUnits(budget) };
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
 * How many of the reduced copies each unit can make on its own: Y and X are the two last
 * dimensions and at level k a unit's part, 1/2^k of it along Y and X, is whole chunks of that
 * level (so units start on rows and columns that halve exactly; a dimension held by a single unit
 * always qualifies); along the other dimensions the level's chunks divide the unit. The values are stored as read (no transform), so the copies are
 * in the stored type.
 */
export function fusedLevels(job: CopyJob): number {
  const halve = job.halve ?? [];
  const nd = job.shape.length;
  if (nd < 2 || job.transform.kind !== "identity" || job.sourceType !== job.encoding.dataType) return 0;
  let k = 0;
  while (
    k < halve.length &&
    halve[k]!.encoding.dataType === job.sourceType &&
    job.unitShape.every((u, d) => {
      // A dimension held by one unit starts at 0 whatever its size.
      if (job.shape[d]! <= u) return true;
      return d >= nd - 2
        ? u % (2 ** (k + 1) * halve[k]!.unitShape[d]!) === 0
        : u % halve[k]!.unitShape[d]! === 0;
    })
  )
    k++;
  return k;
}

/** A cached segment: decoded once, kept until every unit that overlaps it has its values. */
interface Segment {
  box: Box;
  /** Units overlapping it that have not yet received its values. */
  remaining: number;
  /** The decode in flight, and then its cache slot (when later units need it). */
  decoding: Promise<void> | null;
  slot: BandRef | null;
}

/** A unit being filled: its buffer and how many of its segments have yet to arrive. */
interface ActiveUnit {
  coords: number[];
  band: BandRef;
  missing: number;
  filled: () => void;
}

/** A count of free unit buffers: `take` waits for one, or returns false once closed (a failure). */
class Slots {
  #free: number;
  #closed = false;
  readonly #waiters: Array<() => void> = [];
  constructor(n: number) {
    this.#free = n;
  }
  async take(): Promise<boolean> {
    while (this.#free === 0 && !this.#closed) await new Promise<void>((r) => this.#waiters.push(r));
    if (this.#closed) return false;
    this.#free--;
    return true;
  }
  give(): void {
    this.#free++;
    this.#waiters.shift()?.();
  }
  close(): void {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w();
  }
}

const keyOf = (c: readonly number[]) => c.join(",");

export async function copyArray(job: CopyJob, ctx: CopyContext): Promise<CopyStats> {
  const { shape, unitShape } = job;
  const stats: CopyStats = { units: 0, written: 0, skipped: 0, storedBytes: 0, halved: 0, peakBuffered: 0 };
  if (shape.some((n) => n === 0)) return stats;
  const { dataType } = job.encoding;
  checkChunkBytes(`${job.path}: a chunk`, unitShape, dataType, dataTypeInfo(dataType).size);
  const grid = gridSize(shape, unitShape);
  if (!job.units && !grid.dense) {
    throw new GeoZarrError(
      "Unsupported",
      `${job.path}: ${grid.chunks.toExponential(2)} chunks to write, more than the ${MAX_DENSE_CHUNKS} that can be iterated (only Zarr sources, whose stored chunks can be listed, are copied sparsely)`,
      { where: job.path },
    );
  }
  const itemSize = dataTypeInfo(job.sourceType).size;
  const nd = shape.length;
  const sourceChunks = job.sourceChunks.map((c, d) => Math.min(c, shape[d]!));
  const plan = planCopy(shape, unitShape, sourceChunks, itemSize, ctx.memoryBudget);
  const stock = ctx.buffers ?? new BufferStock();
  // Every buffer this copy holds is taken and given back here, so the peak is known (--json).
  let held = 0;
  const takeBand = (box: Box): BandRef => {
    const bytes = product(box.shape) * itemSize;
    held += bytes;
    stats.peakBuffered = Math.max(stats.peakBuffered, held);
    return { buffer: stock.take(bytes, ctx.shared), dataType: job.sourceType, box };
  };
  const giveBand = (b: BandRef) => {
    held -= product(b.box.shape) * itemSize;
    stock.give(b.buffer);
  };
  const unitSlots = new Slots(plan.maxUnits);
  // The units to write: all, the listed ones (sparse), and of those the ones in `region` (a task's part).
  const region = job.region;
  const inRegion = (u: readonly number[]) =>
    !region || u.every((c, d) => c >= region.start[d]! && c < region.start[d]! + region.shape[d]!);
  const unitList: Iterable<number[]> = job.units
    ? job.units.filter(inRegion)
    : region
      ? [...gridIndices(region.shape)].map((u) => u.map((c, d) => c + region.start[d]!))
      : gridIndices(chunkGridShape(shape, unitShape));
  const wanted = job.units ? new Set(job.units.map(keyOf)) : null;

  let failure: unknown = null;
  const active = new Map<string, ActiveUnit>();
  const fail = (err: unknown) => {
    failure ??= err;
    unitSlots.close();
    // Units waiting for segments that will never come: let them end (finishUnit sees the failure).
    for (const u of active.values()) u.filled();
  };
  // Removed when the copy ends: one signal serves every array of a conversion (and of a pyramid).
  const onAbort = () => fail(ctx.signal!.reason);
  ctx.signal?.addEventListener("abort", onAbort);
  const inflight = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    const q = p.catch(fail);
    inflight.add(q);
    void q.finally(() => inflight.delete(q));
    return q;
  };
  const rawUnit = product(unitShape) * dataTypeInfo(job.encoding.dataType).size;

  // The units of one filled buffer (of the array, or of a reduced copy), encoded on the pool and written.
  interface Target {
    path: string;
    shape: number[];
    unitShape: number[];
    encoding: ChunkEncoding;
    count: boolean;
  }
  const full: Target = { path: job.path, shape, unitShape, encoding: job.encoding, count: true };
  // Workers write chunks themselves into a store they can open (a directory): the bytes do not
  // travel back to this thread. Otherwise (in-memory stores, no workers) the writer stores them.
  const direct = ctx.shared ? ctx.writer.workerRef() : undefined;
  const encodeBox = async (band: BandRef, t: Target) => {
    const jobs: Promise<unknown>[] = [];
    for (const coords of chunksOverlapping(band.box, t.unitShape)) {
      if (failure) break;
      await ctx.pool.slot();
      const box = chunkBox(coords, t.unitShape, t.shape);
      const p = ctx.pool
        .run("encode-chunk", {
          band,
          box,
          chunkShape: t.unitShape,
          sourceFill: job.sourceFill,
          // The reduced copies are computed from stored values (fusedLevels allows identity only).
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
          if (out) ctx.onWritten?.(ctx.writer.chunkKey(t.path, coords), stored);
          if (!t.count) return;
          stats.units++;
          if (out) {
            stats.written++;
            stats.storedBytes += stored;
          } else stats.skipped++;
          ctx.onUnit?.(rawUnit, stored);
        });
      jobs.push(track(p));
    }
    await Promise.all(jobs);
  };

  // The reduced copies: each filled unit halved on the pool, level by level, then all encoded.
  const levels = (job.halve ?? []).slice(0, fusedLevels(job));
  stats.halved = levels.length;
  const finishUnit = async (band: BandRef) => {
    const outs: BandRef[] = [];
    try {
      if (failure) return;
      const own = encodeBox(band, full);
      let from = band;
      for (const level of levels) {
        const box = halfBox(from.box);
        const out = takeBand(box);
        outs.push(out);
        // In row slices, so every worker takes part.
        const rows = box.shape[nd - 2]!;
        const step = Math.ceil(rows / Math.max(1, 2 * ctx.pool.size));
        const parts: Promise<unknown>[] = [];
        for (let r = 0; r < rows; r += step) {
          await ctx.pool.slot();
          parts.push(
            ctx.pool.run("halve-band", {
              band: from,
              out,
              method: level.method,
              missing: job.sourceFill,
              rows: [r, Math.min(rows, r + step)],
            }),
          );
        }
        await Promise.all(parts);
        from = out;
      }
      await Promise.all([own, ...outs.map((o, k) => encodeBox(o, { ...levels[k]!, count: false }))]);
    } finally {
      for (const o of outs) giveBand(o);
      giveBand(band);
      unitSlots.give();
    }
  };

  const readTask = (segment: Box, bands: BandRef[]) =>
    job.derived
      ? ctx.pool.run(job.derived.task, { source: job.derived.source as never, segment, bands })
      : ctx.pool.run("read-band", { source: job.source!, segment, bands });

  // Segments: whole source chunks, `group` of them along the last dimension (aligned), identified
  // by their first source chunk's coordinates; each unit's when not aligned.
  const segments = new Map<string, Segment>();
  const unitsOver = (box: Box) => {
    const us = chunksOverlapping(box, unitShape).filter(inRegion);
    return wanted ? us.filter((u) => wanted.has(keyOf(u))) : us;
  };
  const segmentsOf = (unitBox: Box): { key: string; box: Box }[] => {
    const span = sourceChunks.map((c, d) => (d === nd - 1 ? c * plan.group : c));
    return chunksOverlapping(unitBox, span).map((c) => ({ key: keyOf(c), box: chunkBox(c, span, shape) }));
  };
  const deliver = (unit: ActiveUnit) => {
    if (--unit.missing === 0) unit.filled();
  };
  const release = (key: string, seg: Segment) => {
    if (--seg.remaining > 0) return;
    if (seg.slot) giveBand(seg.slot);
    segments.delete(key);
  };

  // Segments waiting for the next unit in order: read once it has its buffer, straight into both.
  let waiting: { key: string; box: Box; units: ActiveUnit[] }[] = [];
  const readInto = (segBox: Box, units: ActiveUnit[], slot: BandRef | null) =>
    readTask(segBox, [...units.map((u) => u.band), ...(slot ? [slot] : [])]);
  const order = unitList[Symbol.iterator]();
  for (let step = order.next(); !step.done; ) {
    const coords = step.value;
    step = order.next();
    const following = step.done ? undefined : keyOf(step.value);
    if (failure || !(await unitSlots.take())) break;
    const box = chunkBox(coords, unitShape, shape);
    const band = takeBand(box);
    if (!plan.aligned) {
      // Unaligned: the unit reads its own box.
      await ctx.pool.slot();
      track(readTask(box, [band]).then(() => finishUnit(band)));
      continue;
    }
    const mine = segmentsOf(box);
    let resolveFilled!: () => void;
    const filled = new Promise<void>((r) => {
      resolveFilled = r;
    });
    const unit: ActiveUnit = { coords, band, missing: mine.length, filled: resolveFilled };
    active.set(keyOf(coords), unit);
    track(
      filled.then(() => {
        active.delete(keyOf(coords));
        return finishUnit(band);
      }),
    );
    for (const w of waiting) {
      await ctx.pool.slot();
      if (failure) break;
      const units = [...w.units, unit];
      track(readInto(w.box, units, null).then(() => units.forEach(deliver)));
    }
    const waited = new Set(waiting.map((w) => w.key));
    waiting = [];
    for (const { key, box: segBox } of mine) {
      if (failure) break;
      // Read above, with this unit among its targets.
      if (waited.has(key)) continue;
      const known = segments.get(key);
      if (known) {
        // Decoded (or being decoded) for an earlier unit, and cached for this one.
        track(
          known.decoding!.then(() => {
            const part = intersect(segBox, box)!;
            copyPart(known.slot!, band, part);
            release(key, known);
            deliver(unit);
          }),
        );
        continue;
      }
      // The units of the segment: those active now get its values at once; if others follow, a
      // cache slot keeps them.
      const over = unitsOver(segBox);
      const now = over.map((u) => active.get(keyOf(u))).filter((u): u is ActiveUnit => u !== undefined);
      const later = over.filter((u) => !active.has(keyOf(u)));
      // Straddling only into the next unit in order (the common case along the last dimension,
      // where e.g. MUR's 2047-column chunks cross every 4096-column boundary): wait for that unit's
      // buffer rather than decode into a cache slot and copy on this thread afterwards.
      if (later.length === 1 && keyOf(later[0]!) === following) {
        waiting.push({ key, box: segBox, units: now });
        continue;
      }
      const seg: Segment = { box: segBox, remaining: over.length, decoding: null, slot: null };
      if (later.length > 0) {
        seg.slot = takeBand(segBox);
        segments.set(key, seg);
      }
      await ctx.pool.slot();
      seg.decoding = track(
        readInto(segBox, now, seg.slot).then(() => {
          for (const u of now) {
            release(key, seg);
            deliver(u);
          }
        }),
      ) as Promise<void>;
    }
  }
  while (inflight.size > 0) await Promise.allSettled([...inflight]);
  for (const seg of segments.values()) if (seg.slot) giveBand(seg.slot);
  ctx.signal?.removeEventListener("abort", onAbort);
  if (failure) throw failure;
  return stats;
}

/** Copy `part` (array coordinates) from one filled buffer into another. */
function copyPart(from: BandRef, to: BandRef, part: Box): void {
  copyBox(
    viewAs(from.dataType, new Uint8Array(from.buffer)),
    from.box.shape,
    part.start.map((s, d) => s - from.box.start[d]!),
    viewAs(to.dataType, new Uint8Array(to.buffer)),
    to.box.shape,
    part.start.map((s, d) => s - to.box.start[d]!),
    part.shape,
  );
}
