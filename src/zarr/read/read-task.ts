/**
 * Task "read-chunks": decode chunks of an array and copy each one's part of a requested box into a
 * shared output buffer. Runs on worker threads (each opens the store itself) or inline.
 *
 * Fast path: when a chunk is exactly the requested box, stored C-order, little-endian and
 * compressed with zstd alone, it is decompressed straight into the output (no intermediate buffer).
 *
 * @module
 */

import { GeoZarrError, messageOf } from "../../errors.js";
import { nativeZstd, SizeMismatch, zstdDecompress } from "../codecs/zstd.js";
import { type AnyTypedArray, type DataType, dataTypeInfo, viewAs } from "../dtype.js";
import type { ArrayMeta } from "../metadata/model.js";
import { chunkKey, product } from "../metadata/model.js";
import { type Box, chunkBox, copyBox, intersect } from "../ndarray.js";
import { type StoreRef, storeFromRef } from "../store/ref.js";
import { joinKey, type ReadableStore } from "../store/types.js";
import { type ChunkData, type OpenedArray, openArray, readChunk } from "./array.js";

export interface ReadChunksInput {
  store: StoreRef;
  storeName: string;
  path: string;
  meta: ArrayMeta;
  /** Grid coordinates of the chunks to read (inner-grid coordinates for sharded arrays). */
  chunks: number[][];
  /** Where values go: each decoded chunk is copied into every output box it overlaps. */
  outs: OutBox[];
}

/** A C-ordered buffer holding the values of `box` (array coordinates). */
export interface OutBox {
  buffer: ArrayBufferLike;
  dataType: DataType;
  box: Box;
}

const cache = new Map<string, OpenedArray>();

function opened(input: ReadChunksInput): OpenedArray {
  const id = `${JSON.stringify(input.store.kind === "live" ? null : input.store)}|${input.path}`;
  let a = input.store.kind === "live" ? undefined : cache.get(id);
  if (!a) {
    a = openArray(storeFromRef(input.store), input.path, input.meta, input.storeName);
    if (input.store.kind !== "live") cache.set(id, a);
  }
  return a;
}

/** The chunk grid that reads address: the inner grid for sharded arrays. */
export function readGridChunkShape(meta: Pick<ArrayMeta, "codecs" | "chunkShape">): number[] {
  const c = meta.codecs.find((x) => x.name === "sharding_indexed");
  return c ? (c.configuration as { chunk_shape: number[] }).chunk_shape : meta.chunkShape;
}

function isZstdOnly(meta: ArrayMeta): boolean {
  const names = meta.codecs.map((c) => c.name);
  const compressors = names.filter((n) => n !== "bytes");
  return (
    meta.order === "C" &&
    meta.endian === "little" &&
    compressors.length === 1 &&
    (compressors[0] === "zstd" || compressors[0] === "numcodecs.zstd") &&
    nativeZstd() !== null
  );
}

/** Bytes of chunks a task may hold ahead of the one it decodes, on a remote store (readAhead). */
const READ_AHEAD_BYTES = 64 * 2 ** 20;

export async function run(input: ReadChunksInput): Promise<{ output: null }> {
  const a = opened(input);
  const grid = readGridChunkShape(input.meta);
  const { dataType } = input.meta;
  const outs = input.outs.map((o) => ({ ...o, view: viewAs(o.dataType, new Uint8Array(o.buffer)) }));
  const direct = isZstdOnly(input.meta);
  const size = dataTypeInfo(dataType).size;
  const store = a.zarrita.store as ReadableStore;
  const todo = input.chunks.filter((coords) => {
    const cbox = chunkBox(coords, grid, input.meta.shape);
    return outs.some((o) => intersect(cbox, o.box) !== null);
  });
  // Remote stores: the next chunks are requested while one is decoded (their ranges coalesce when
  // they share a shard), within a memory bound; local stores read one at a time into scratch.
  const ahead = Math.max(
    1,
    Math.min(store.readAhead ?? 1, Math.floor(READ_AHEAD_BYTES / (product(grid) * size))),
  );
  const keyOf = (coords: number[]) => joinKey(input.path, chunkKey(input.meta.chunkKeyEncoding, coords));
  type Got = { bytes: Uint8Array } | { chunk: ChunkData };
  const fetchOne = async (coords: number[]): Promise<Got> => {
    if (direct) {
      const key = keyOf(coords);
      const bytes =
        ahead === 1 && store.getInto ? await store.getInto(key, compressed) : await store.get(key);
      if (bytes) return { bytes };
    }
    return { chunk: await readChunk(a, coords) };
  };
  const window: Promise<Got>[] = [];
  let next = 0;
  for (const coords of todo) {
    while (window.length < ahead && next < todo.length) {
      const p = fetchOne(todo[next++]!);
      p.catch(() => undefined); // awaited in turn below; a later failure must not go unhandled
      window.push(p);
    }
    const got = await window.shift()!;
    const cbox = chunkBox(coords, grid, input.meta.shape);
    const parts = outs.map((o) => intersect(cbox, o.box));
    let src: AnyTypedArray;
    if ("bytes" in got) {
      const { bytes } = got;
      // When the only output is exactly this full chunk, decompress straight into it. Otherwise
      // decompress into a per-thread buffer reused across chunks (fresh 100 MB buffers cost page
      // faults) and copy the overlapping parts out.
      const only = outs.length === 1 ? outs[0]! : undefined;
      const whole = only !== undefined && sameBox(cbox, only.box) && sameShape(cbox.shape, grid);
      const target = whole
        ? new Uint8Array(only.buffer, 0, product(grid) * size)
        : scratchFor(product(grid) * size);
      decompressChunk(bytes, target, `${input.storeName}${keyOf(coords)}`);
      if (whole) continue;
      src = viewAs(dataType, target);
    } else src = toCOrder(got.chunk.data, got.chunk.shape, got.chunk.stride);
    outs.forEach((o, i) => {
      const part = parts[i];
      if (!part) return;
      copyBox(
        src,
        grid,
        part.start.map((s, d) => s - cbox.start[d]!),
        o.view,
        o.box.shape,
        part.start.map((s, d) => s - o.box.start[d]!),
        part.shape,
      );
    });
  }
  return { output: null };
}

function decompressChunk(bytes: Uint8Array, target: Uint8Array, where: string): void {
  try {
    zstdDecompress(bytes, target);
  } catch (err) {
    if (err instanceof SizeMismatch)
      throw new GeoZarrError("ChunkSize", `${where}: chunk ${err.message}`, { where });
    throw new GeoZarrError("Codec", `${where}: cannot decode chunk: ${messageOf(err)}`, {
      where,
      cause: err,
    });
  }
}

let scratch = new Uint8Array(0);
/** Compressed chunk bytes, reused: each chunk is decompressed before the next is read. */
const compressed = { buf: new Uint8Array(0) };

function scratchFor(bytes: number): Uint8Array {
  if (scratch.length !== bytes) scratch = new Uint8Array(bytes);
  return scratch;
}

function sameBox(a: Box, b: Box): boolean {
  return sameShape(a.start, b.start) && sameShape(a.shape, b.shape);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** zarrita returns F-order chunks with reversed strides; copy those into C order. */
function toCOrder<T extends ArrayLike<unknown> & { length: number }>(
  data: T,
  shape: number[],
  stride: number[],
): T {
  let expected = 1;
  let isC = true;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d]! > 1 && stride[d] !== expected) isC = false;
    expected *= shape[d]!;
  }
  if (isC) return data;
  const out = new (data.constructor as new (n: number) => T)(data.length) as unknown as Record<
    number,
    unknown
  >;
  const src = data as unknown as Record<number, unknown>;
  const nd = shape.length;
  const idx = new Array<number>(nd).fill(0);
  for (let i = 0; i < data.length; i++) {
    let off = 0;
    for (let d = 0; d < nd; d++) off += idx[d]! * stride[d]!;
    out[i] = src[off];
    for (let d = nd - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out as unknown as T;
}
