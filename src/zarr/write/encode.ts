/**
 * Encode one chunk (or one shard) of a writer's array into the bytes stored under its key.
 *
 * Chunks are written in C order, little-endian (`bytes` codec / "<" dtypes), then compressed with
 * the chosen codec. A chunk whose every element equals the fill value is not stored (`null`), as
 * zarr-python does: readers fill missing chunks with `fill_value`.
 *
 * @module
 */

import { endianness } from "node:os";
import { type CodecChoice, compressBytes } from "../codecs/choice.js";
import { appendCrc32c } from "../codecs/crc32c.js";
import { type AnyTypedArray, allocate, type DataType, dataTypeInfo } from "../dtype.js";
import type { FillValue } from "../fill-value.js";
import { chunkBox, copyBox, gridIndices } from "../ndarray.js";

if (endianness() !== "LE") {
  // Typed arrays are stored as they are in memory; a big-endian host would need a byte swap here.
  throw new Error("geozarr writes chunks from memory and needs a little-endian host");
}

export interface ChunkEncoding {
  dataType: DataType;
  fillValue: FillValue;
  codec: CodecChoice;
  /** For a sharded array: the inner chunk shape; the data passed in is then a whole shard. */
  innerChunkShape?: number[] | undefined;
}

/** True when every element equals `fill` (NaN equal to NaN). */
export function isAllFill(data: AnyTypedArray, fill: FillValue): boolean {
  if (fill === null) return false;
  if (typeof fill === "number" && Number.isNaN(fill)) {
    const f = data as Float64Array;
    for (let i = 0; i < f.length; i++) if (!Number.isNaN(f[i])) return false;
    return true;
  }
  const v = typeof fill === "boolean" ? Number(fill) : fill;
  const a = data as unknown as ArrayLike<number | bigint>;
  for (let i = 0; i < a.length; i++) if (a[i] !== v) return false;
  return true;
}

function bytesOf(data: AnyTypedArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Encode a chunk-shaped, C-ordered array. Returns null when the chunk is entirely fill.
 * `shape` is the full chunk (or shard) shape; edge chunks arrive padded with the fill value.
 */
export async function encodeChunk(
  data: AnyTypedArray,
  shape: number[],
  enc: ChunkEncoding,
): Promise<Uint8Array | null> {
  if (isAllFill(data, enc.fillValue)) return null;
  const typesize = dataTypeInfo(enc.dataType).size;
  if (!enc.innerChunkShape) return compressBytes(enc.codec, bytesOf(data), typesize);
  return encodeShard(data, shape, enc.innerChunkShape, enc, typesize);
}

const EMPTY = 0xffffffffffffffffn;

/**
 * sharding_indexed (zarr-specs codecs/sharding-indexed): inner chunks in C order of the inner grid,
 * then the index of (offset, nbytes) uint64 pairs, little-endian, followed by its CRC-32C
 * (index_codecs bytes + crc32c, index_location end). Empty inner chunks are 2^64-1 in both fields.
 */
async function encodeShard(
  data: AnyTypedArray,
  shardShape: number[],
  inner: number[],
  enc: ChunkEncoding,
  typesize: number,
): Promise<Uint8Array> {
  const grid = shardShape.map((n, d) => n / inner[d]!);
  const nChunks = grid.reduce((a, b) => a * b, 1);
  const index = new BigUint64Array(nChunks * 2).fill(EMPTY);
  const parts: Uint8Array[] = [];
  const scratch = allocate(
    enc.dataType,
    inner.reduce((a, b) => a * b, 1),
  );
  let offset = 0;
  let i = 0;
  for (const coords of gridIndices(grid)) {
    const box = chunkBox(coords, inner, shardShape);
    copyBox(data, shardShape, box.start, scratch, inner, new Array(inner.length).fill(0), box.shape);
    if (!isAllFill(scratch, enc.fillValue)) {
      const bytes = await compressBytes(enc.codec, bytesOf(scratch), typesize);
      index[2 * i] = BigInt(offset);
      index[2 * i + 1] = BigInt(bytes.length);
      parts.push(bytes);
      offset += bytes.length;
    }
    i++;
  }
  const indexBytes = appendCrc32c(new Uint8Array(index.buffer));
  const out = new Uint8Array(offset + indexBytes.length);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  out.set(indexBytes, pos);
  return out;
}

/**
 * `bytes` as a Uint8Array that owns its whole ArrayBuffer, so the buffer can be transferred to
 * another thread. Small Node buffers are slices of a shared pool; transferring one would detach it.
 */
export function ownedBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength &&
    bytes.buffer instanceof ArrayBuffer
    ? bytes
    : bytes.slice();
}
