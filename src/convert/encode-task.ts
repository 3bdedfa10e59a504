/**
 * Task "encode-chunk": cut one chunk (or shard) out of a band buffer shared with the scheduler,
 * transform it to the stored data type and encode it. Runs on a worker thread or inline.
 *
 * Buffers are reused per thread: the chunk scratch arrays are allocated once per shape and type,
 * because fresh 100 MB allocations per chunk cost page faults (docs/design.md).
 *
 * @module
 */

import { type AnyTypedArray, allocate, type DataType, isBigInt, viewAs } from "../zarr/dtype.js";
import type { FillValue } from "../zarr/fill-value.js";
import { product } from "../zarr/metadata/model.js";
import { type Box, copyBox } from "../zarr/ndarray.js";
import { type ChunkEncoding, encodeChunk, ownedBytes } from "../zarr/write/encode.js";
import { applyTransform, type Transform } from "./transform.js";

export interface BandRef {
  buffer: ArrayBufferLike;
  dataType: DataType;
  box: Box;
}

export interface EncodeChunkInput {
  band: BandRef;
  /** The chunk's part of the array (clipped at the array's edge). */
  box: Box;
  /** The full chunk (or shard) shape; edge chunks are padded with `fill`. */
  chunkShape: number[];
  /** Value that pads edge chunks, in the source's terms (before the transform). */
  sourceFill: FillValue;
  transform: Transform;
  encoding: ChunkEncoding;
}

const scratch = new Map<string, AnyTypedArray>();

function reuse(dt: DataType, length: number, slot: string): AnyTypedArray {
  const key = `${slot}:${dt}:${length}`;
  let a = scratch.get(key);
  if (!a) {
    // Keep one buffer per slot: drop other sizes so edge-chunk shapes do not accumulate.
    for (const k of scratch.keys()) if (k.startsWith(`${slot}:`)) scratch.delete(k);
    a = allocate(dt, length);
    scratch.set(key, a);
  }
  return a;
}

function fillOf(v: FillValue, dt: DataType): number | bigint {
  const n = v === null ? 0 : typeof v === "boolean" ? Number(v) : v;
  return isBigInt(dt) ? BigInt(n) : Number(n);
}

export async function run(
  input: EncodeChunkInput,
): Promise<{ output: Uint8Array | null; transfer?: ArrayBuffer[] }> {
  const { band, box, chunkShape, transform, encoding } = input;
  const n = product(chunkShape);
  const src = viewAs(band.dataType, new Uint8Array(band.buffer));
  const full = box.shape.every((s, d) => s === chunkShape[d]);
  // Same type and no transform: cut straight into the buffer that gets encoded.
  const sameType = transform.kind === "identity" && band.dataType === encoding.dataType;
  const cut = reuse(band.dataType, n, "cut");
  if (!full) (cut as Float64Array).fill(fillOf(input.sourceFill, band.dataType) as number);
  copyBox(
    src,
    band.box.shape,
    box.start.map((s, d) => s - band.box.start[d]!),
    cut,
    chunkShape,
    chunkShape.map(() => 0),
    box.shape,
  );
  let data = cut;
  if (!sameType) {
    data = reuse(encoding.dataType, n, "out");
    applyTransform(transform, cut, data);
  }
  const bytes = await encodeChunk(data, chunkShape, encoding);
  if (!bytes) return { output: null };
  const owned = ownedBytes(bytes);
  return { output: owned, transfer: [owned.buffer as ArrayBuffer] };
}
