/**
 * Read a string array whole (strings.ts): chunk by chunk on the calling thread, into one list of
 * strings in C order. String arrays are small in practice (coordinates, labels, station names),
 * so they take this path rather than the typed-array pipeline; one too large for it is refused
 * with its size and the limit (limits.ts).
 *
 * Chunks are decoded by zarrita (its `v2:S<n>`/`v2:U<n>` arrays for fixed widths, whose bytes we
 * take as they are, and its vlen-utf8 codec).
 * @module
 */

import { GeoZarrError, isGeoZarrError } from "../../errors.js";
import { checkStringArray, elementCount, MAX_STRING_BYTES } from "../limits.js";
import { chunkGridShape, chunkKey, product, type StringArrayMeta, shardingOf } from "../metadata/model.js";
import { chunkBox, gridIndices } from "../ndarray.js";
import { joinKey, type ReadableStore } from "../store/types.js";
import { bytesToBinary, decodeBytes, itemSize, type StringType, zarritaStringType } from "../strings.js";
import { causeMessage, zarritaArray } from "./array.js";
import { readGridChunkShape } from "./read-task.js";

/** The elements of a decoded chunk, in the chunk's own layout. */
function chunkStrings(data: unknown, t: StringType, n: number): string[] | null {
  if (t.kind === "vlen-utf8")
    return Array.isArray(data) && data.every((s) => typeof s === "string") ? (data as string[]) : null;
  const view = data as { buffer: ArrayBufferLike; byteOffset: number; byteLength: number };
  if (!(view?.buffer instanceof ArrayBuffer || view?.buffer instanceof SharedArrayBuffer)) return null;
  const out = new Array<string>(n);
  if (t.kind === "bytes") {
    const b = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    if (b.length !== n * t.length) return null;
    for (let i = 0; i < n; i++) out[i] = bytesToBinary(b.subarray(i * t.length, (i + 1) * t.length));
    return out;
  }
  // UTF-32 code points (zarrita has swapped big-endian ones); trailing NULs are padding (numpy).
  const cp = new Int32Array(view.buffer, view.byteOffset, view.byteLength / 4);
  if (cp.length !== n * t.length) return null;
  for (let i = 0; i < n; i++) {
    let end = (i + 1) * t.length;
    while (end > i * t.length && cp[end - 1] === 0) end--;
    out[i] = String.fromCodePoint(...cp.subarray(i * t.length, end));
  }
  return out;
}

/** The fill zarrita puts in chunks that are not stored (its byte strings encode it as UTF-8). */
function zarritaFill(meta: StringArrayMeta): string {
  const fill = meta.fillValue ?? "";
  return meta.stringType.kind === "bytes" ? (decodeBytes(fill) ?? fill) : fill;
}

/** Every element of a string array, in C order. */
export async function readStrings(
  store: ReadableStore,
  path: string,
  meta: StringArrayMeta,
  storeName = "store",
): Promise<string[]> {
  const where = `${storeName}${joinKey(path)}`;
  checkStringArray(where, meta.shape, itemSize(meta.stringType));
  const arr = zarritaArray(
    store,
    path,
    meta,
    zarritaStringType(meta.stringType, meta.zarrFormat),
    zarritaFill(meta),
    storeName,
  );
  const grid = readGridChunkShape(meta);
  const sharding = shardingOf(meta);
  const out = new Array<string>(elementCount(meta.shape));
  const strides = meta.shape.map((_, d) => product(meta.shape.slice(d + 1)));
  let chars = 0;
  for (const coords of gridIndices(chunkGridShape(meta.shape, grid))) {
    const outer = sharding ? coords.map((c, d) => Math.floor((c * grid[d]!) / meta.chunkShape[d]!)) : coords;
    const key = `${where}/${chunkKey(meta.chunkKeyEncoding, outer)}`;
    let chunk: { data: unknown; shape: number[]; stride: number[] };
    try {
      chunk = await arr.getChunk(coords);
    } catch (err) {
      if (isGeoZarrError(err)) throw err;
      throw new GeoZarrError("Codec", `${key}: cannot decode chunk: ${causeMessage(err)}`, {
        where: key,
        cause: err,
      });
    }
    let items: string[] | null;
    try {
      items = chunkStrings(chunk.data, meta.stringType, product(grid));
    } catch (err) {
      // String.fromCodePoint refuses values past U+10FFFF: not UTF-32.
      throw new GeoZarrError("Codec", `${key}: cannot decode chunk: ${causeMessage(err)}`, { where: key });
    }
    if (!items || items.length !== product(grid))
      throw new GeoZarrError(
        "ChunkSize",
        `${key}: chunk decodes to ${items?.length ?? 0} strings, expected ${product(grid)}`,
        { where: key },
      );
    const box = chunkBox(coords, grid, meta.shape);
    for (const idx of gridIndices(box.shape)) {
      let src = 0;
      let dst = 0;
      for (let d = 0; d < idx.length; d++) {
        src += idx[d]! * chunk.stride[d]!;
        dst += (box.start[d]! + idx[d]!) * strides[d]!;
      }
      const s = items[src]!;
      chars += s.length;
      out[dst] = s;
    }
    if (meta.stringType.kind === "vlen-utf8" && 2 * chars > MAX_STRING_BYTES)
      throw new GeoZarrError(
        "Unsupported",
        `${where}: the strings are more than the ${MAX_STRING_BYTES / 2 ** 20} MiB of text a string array may have here`,
        { where },
      );
  }
  return out;
}
