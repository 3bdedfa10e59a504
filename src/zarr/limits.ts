/**
 * What this implementation can process in bounded memory and time, checked before any allocation.
 *
 * Zarr itself puts no bound on shapes or chunk sizes (v3 core "shape": any non-negative integers),
 * so a store may declare arrays that no reader can hold: a chunk of 10^10 float64 values, or a
 * shape of 2^64. Such stores are valid Zarr; we refuse them up front with their size and the limit
 * (GeoZarrError "Unsupported", exit 3) instead of crashing at V8's heap limit half-way.
 *
 * A chunk grid larger than {@link MAX_DENSE_CHUNKS} is never iterated cell by cell: such arrays are
 * processed sparsely, from the list of chunks actually stored (stats, convert), or refused where a
 * listing is not possible.
 *
 * @module
 */

import { GeoZarrError } from "../errors.js";

/** The largest decoded chunk (or shard) we allocate: 2 GiB (V8 typed arrays stop at 4 GiB). */
export const MAX_CHUNK_BYTES = 2 ** 31;

/** Chunk grids up to this many chunks are iterated; larger ones only through a listing of stored chunks. */
export const MAX_DENSE_CHUNKS = 2 ** 24;

/** The largest metadata document we parse (consolidated metadata of very large stores included). */
export const MAX_DOCUMENT_BYTES = 256 * 2 ** 20;

/** The deepest nesting of arrays/objects a metadata document may have (Python's json stops near 1000). */
export const MAX_JSON_DEPTH = 512;

/** A size in binary units for messages: "2 GiB", "74.5 GiB", "3.6e+15 TiB". */
export function formatBytes(n: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const text = v >= 1e6 ? v.toExponential(1) : Number.isInteger(v) ? String(v) : v.toFixed(1);
  return `${text} ${units[i]}`;
}

/** Elements in a box of this shape, exactly when it is at most 2^53, otherwise approximately. */
export function elementCount(shape: readonly number[]): number {
  let p = 1;
  for (const n of shape) p *= n;
  return p;
}

/** Elements in a box of this shape, exact whatever its size (for counts that may pass 2^53). */
export function exactElementCount(shape: readonly number[]): bigint {
  let p = 1n;
  for (const n of shape) p *= BigInt(n);
  return p;
}

/**
 * Refuse a chunk (or shard) shape whose decoded size exceeds {@link MAX_CHUNK_BYTES}: `what` names
 * it in the message ("/a: a chunk", "option chunks: a chunk of /sst").
 */
export function checkChunkBytes(
  what: string,
  chunkShape: readonly number[],
  dataType: string,
  itemSize: number,
): void {
  const bytes = elementCount(chunkShape) * itemSize;
  if (bytes > MAX_CHUNK_BYTES) {
    throw new GeoZarrError(
      "Unsupported",
      `${what} of (${chunkShape.join(", ")}) ${dataType} is ${formatBytes(bytes)} decoded, more than the ${formatBytes(MAX_CHUNK_BYTES)} a chunk may have here`,
    );
  }
}

/** Number of chunks of a grid, and whether it is small enough to iterate. */
export function gridSize(
  shape: readonly number[],
  chunkShape: readonly number[],
): {
  chunks: number;
  dense: boolean;
} {
  let chunks = 1;
  for (let d = 0; d < shape.length; d++) chunks *= Math.ceil(shape[d]! / chunkShape[d]!);
  return { chunks, dense: chunks <= MAX_DENSE_CHUNKS };
}

/**
 * String arrays (coordinates, labels, station names) are read whole, on the calling thread
 * (read/strings.ts), not streamed through the typed-array pipeline: at most this many elements...
 */
export const MAX_STRING_ELEMENTS = 2 ** 20;

/** ...and at most this many bytes of fixed-width elements, or of text once decoded. */
export const MAX_STRING_BYTES = 64 * 2 ** 20;

/**
 * Refuse a string array too large to be read whole: `what` names it; `itemSize` is the bytes of
 * one fixed-width element (undefined for variable-length strings, checked as they are read).
 */
export function checkStringArray(what: string, shape: readonly number[], itemSize?: number): void {
  const n = elementCount(shape);
  const bytes = n * (itemSize ?? 0);
  if (n > MAX_STRING_ELEMENTS || bytes > MAX_STRING_BYTES) {
    throw new GeoZarrError(
      "Unsupported",
      `${what}: a string array of (${shape.join(", ")}) is ${n} strings${itemSize ? ` (${formatBytes(bytes)})` : ""}, more than the ${MAX_STRING_ELEMENTS} strings (${formatBytes(MAX_STRING_BYTES)}) a string array may have here`,
      { where: what },
    );
  }
}
