/**
 * Task "encode-chunk": cut one chunk (or shard) out of a band buffer shared with the scheduler,
 * transform it to the stored data type and encode it. Runs on a worker thread or inline.
 *
 * Large zstd chunks are streamed: the chunk is cut, transformed and compressed in slabs of a few
 * MiB into one zstd frame, so a worker never holds a whole 128 MiB float64 chunk. Other codecs,
 * shards and small chunks are cut whole into scratch buffers reused per thread (fresh 100 MB
 * allocations per chunk cost page faults).
 *
 * @module
 */

import { nativeZstd, ZstdStream } from "../zarr/codecs/zstd.js";
import {
  type AnyTypedArray,
  allocate,
  type DataType,
  dataTypeInfo,
  isBigInt,
  viewAs,
} from "../zarr/dtype.js";
import type { FillValue } from "../zarr/fill-value.js";
import { product } from "../zarr/metadata/model.js";
import { type Box, copyBox, forEachRun, intersect } from "../zarr/ndarray.js";
import { type StoreRef, writableStoreFromRef } from "../zarr/store/ref.js";
import type { StoreKey } from "../zarr/store/types.js";
import { type ChunkEncoding, encodeChunk, isAllFill, ownedBytes } from "../zarr/write/encode.js";
import { applyTransform, type Transform, transformRun } from "./transform.js";

export interface BandRef {
  buffer: ArrayBufferLike;
  dataType: DataType;
  box: Box;
}

export interface EncodeChunkInput {
  band: BandRef;
  /** The chunk's part of the array (clipped at the array's edge); `box.start` is the chunk origin. */
  box: Box;
  /** The full chunk (or shard) shape; edge chunks are padded with `sourceFill`. */
  chunkShape: number[];
  /** Value that pads edge chunks, in the source's terms (before the transform). */
  sourceFill: FillValue;
  transform: Transform;
  encoding: ChunkEncoding;
  /**
   * Write the encoded bytes here from the worker itself (a file-system store): no copy of the
   * bytes back to the scheduler, which then only counts them. Absent: the bytes are returned.
   */
  target?: { store: StoreRef; key: StoreKey } | undefined;
}

/** What an encode task gives back: the bytes (or how many it wrote itself), null for an all-fill chunk. */
export type Encoded = { bytes: Uint8Array } | { written: number } | null;

/** Slab size for streamed chunks. */
const SLAB_BYTES = 4 << 20;

const scratch = new Map<string, AnyTypedArray>();

/**
 * A scratch array of `length` values, kept per slot and grown, never shrunk: edge chunks (smaller)
 * and full chunks then share one allocation instead of trading fresh ones back and forth.
 */
function reuse(dt: DataType, length: number, slot: string): AnyTypedArray {
  const key = `${slot}:${dt}`;
  let a = scratch.get(key);
  if (!a || a.length < length) {
    // One buffer per slot: a buffer of another data type is dropped.
    for (const k of scratch.keys()) if (k.startsWith(`${slot}:`)) scratch.delete(k);
    a = allocate(dt, length);
    scratch.set(key, a);
  }
  return a.length === length ? a : (a.subarray(0, length) as AnyTypedArray);
}

function fillOf(v: FillValue, dt: DataType): number | bigint {
  const n = v === null ? 0 : typeof v === "boolean" ? Number(v) : v;
  return isBigInt(dt) ? BigInt(n) : Number(n);
}

const bytesOf = (a: AnyTypedArray) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * Slabs of a C-ordered chunk, in order, each contiguous and at most `maxBytes` (unless one row of
 * the last dimension is larger): single indices along the leading dims, a run of the slab dim,
 * whole trailing dims. Concatenated, they are the chunk.
 */
export function slabsOf(shape: number[], itemSize: number, maxBytes: number): Box[] {
  const nd = shape.length;
  let d = 0;
  while (d < nd - 1 && product(shape.slice(d + 1)) * itemSize > maxBytes) d++;
  const rowBytes = product(shape.slice(d + 1)) * itemSize;
  const step = Math.max(1, Math.floor(maxBytes / rowBytes));
  const out: Box[] = [];
  const lead = shape.slice(0, d);
  const idx = lead.map(() => 0);
  for (;;) {
    for (let s = 0; s < (shape[d] ?? 1); s += step) {
      out.push({
        start: [...idx, ...(nd > 0 ? [s] : []), ...shape.slice(d + 1).map(() => 0)],
        shape: [
          ...lead.map(() => 1),
          ...(nd > 0 ? [Math.min(step, shape[d]! - s)] : []),
          ...shape.slice(d + 1),
        ],
      });
    }
    let k = lead.length - 1;
    while (k >= 0 && ++idx[k]! >= lead[k]!) idx[k--] = 0;
    if (k < 0) break;
  }
  return out;
}

let zstdStream: ZstdStream | undefined;

function canStream(input: EncodeChunkInput): boolean {
  const { encoding, chunkShape } = input;
  const bytes = product(chunkShape) * dataTypeInfo(encoding.dataType).size;
  return (
    encoding.codec.name === "zstd" &&
    !encoding.innerChunkShape &&
    bytes > 2 * SLAB_BYTES &&
    nativeZstd() !== null
  );
}

async function streamEncode(input: EncodeChunkInput, keep: boolean): Promise<Uint8Array | null> {
  const { band, box, chunkShape, transform, encoding } = input;
  const level = encoding.codec.name === "zstd" ? encoding.codec.level : 1;
  const targetSize = dataTypeInfo(encoding.dataType).size;
  zstdStream ??= new ZstdStream();
  zstdStream.begin(product(chunkShape) * targetSize, level);
  const src = viewAs(band.dataType, new Uint8Array(band.buffer));
  const sameType = transform.kind === "identity" && band.dataType === encoding.dataType;
  let allFill = true;
  for (const slab of slabsOf(chunkShape, targetSize, SLAB_BYTES)) {
    const n = product(slab.shape);
    const inArray: Box = { start: slab.start.map((s, d) => s + box.start[d]!), shape: slab.shape };
    const inside = intersect(inArray, box);
    const whole = inside !== null && product(inside.shape) === n;
    let out: AnyTypedArray;
    if (!sameType) {
      // Transform straight from the band, run by run; padding past the array's edge is the
      // transformed fill value, written without transforming it element by element.
      out = reuse(encoding.dataType, n, "slab-out");
      const o = out;
      if (!whole) {
        const f = transformedFill(transform, input.sourceFill, band.dataType);
        (o as Float64Array).fill((isBigInt(encoding.dataType) ? BigInt(f) : Number(f)) as number);
      }
      if (inside) {
        forEachRun(
          band.box.shape,
          inside.start.map((s, d) => s - band.box.start[d]!),
          slab.shape,
          inside.start.map((s, d) => s - inArray.start[d]!),
          inside.shape,
          (so, doff, len) => transformRun(transform, src, so, o, doff, len),
        );
      }
    } else {
      // A slab that is one run of the band (a whole chunk of its own unit: the GeoTIFF and
      // Zarr copies) is compressed where it is, without the copy into the slab buffer.
      const view = whole ? runOf(band, inArray, src) : undefined;
      if (view) out = view;
      else {
        const cut = reuse(band.dataType, n, "slab-src");
        if (!whole) (cut as Float64Array).fill(fillOf(input.sourceFill, band.dataType) as number);
        if (inside) {
          copyBox(
            src,
            band.box.shape,
            inside.start.map((s, d) => s - band.box.start[d]!),
            cut,
            slab.shape,
            inside.start.map((s, d) => s - inArray.start[d]!),
            inside.shape,
          );
        }
        out = cut;
      }
    }
    if (allFill && !isAllFill(out, encoding.fillValue)) allFill = false;
    zstdStream.write(bytesOf(out));
  }
  const bytes = zstdStream.end(keep);
  return allFill ? null : bytes;
}

/** The values of `inner` (inside the band) as a view of the band when they are one C-order run of it. */
function runOf(band: BandRef, inner: Box, src: AnyTypedArray): AnyTypedArray | undefined {
  const n = product(inner.shape);
  let runs = 0;
  let at = -1;
  forEachRun(
    band.box.shape,
    inner.start.map((s, d) => s - band.box.start[d]!),
    inner.shape,
    inner.shape.map(() => 0),
    inner.shape,
    (so, _do, len) => {
      runs++;
      if (len === n) at = so;
    },
  );
  return runs === 1 && at >= 0 ? (src.subarray(at, at + n) as AnyTypedArray) : undefined;
}

/** The stored value of the fill that pads edge chunks: the source's fill, transformed. */
function transformedFill(transform: Transform, fill: FillValue, dt: DataType): number | bigint {
  const one = allocate(dt, 1);
  (one as Float64Array)[0] = fillOf(fill, dt) as number;
  if (transform.kind === "identity") return (one as Float64Array)[0]!;
  const out = new Float64Array(1);
  applyTransform(transform, one, out);
  return out[0]!;
}

async function bufferedEncode(input: EncodeChunkInput): Promise<Uint8Array | null> {
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
  return encodeChunk(data, chunkShape, encoding);
}

export async function run(input: EncodeChunkInput): Promise<{ output: Encoded; transfer?: ArrayBuffer[] }> {
  const direct = input.target !== undefined;
  // Written here, the streamed frame need not be copied out of the encoder's buffer.
  const bytes = canStream(input) ? await streamEncode(input, !direct) : await bufferedEncode(input);
  if (!bytes) return { output: null };
  if (input.target) {
    await writableStoreFromRef(input.target.store).set(input.target.key, bytes);
    return { output: { written: bytes.length } };
  }
  const owned = ownedBytes(bytes);
  return { output: { bytes: owned }, transfer: [owned.buffer as ArrayBuffer] };
}
