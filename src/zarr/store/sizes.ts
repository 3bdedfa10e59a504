/**
 * Storage accounting for `info`: which chunk keys of an array exist and how many bytes they take.
 * @module
 */

import { isGeoZarrError } from "../../errors.js";
import { gridSize } from "../limits.js";
import { type ArrayMeta, chunkGridShape, chunkKey, parseChunkKey } from "../metadata/model.js";
import { gridIndices } from "../ndarray.js";
import { joinKey, prefixOf, type ReadableStore, type Store, type StoreKey } from "./types.js";

export interface SizedStore {
  /** Size in bytes of the value at `key`, or undefined when absent. */
  sizeOf(key: StoreKey): Promise<number | undefined>;
}

export function isSized<S extends ReadableStore>(store: S): store is S & SizedStore {
  return typeof (store as Partial<SizedStore>).sizeOf === "function";
}

const META = new Set([".zarray", ".zattrs", ".zgroup", ".zmetadata", "zarr.json"]);

/**
 * The most chunks probed one by one (a HEAD each, bounded concurrency) on a store that cannot list
 * (HTTP): enough for any store meant to be read over HTTP with sizeable chunks.
 */
export const MAX_PROBED_CHUNKS = 2 ** 16;

/**
 * Chunk keys stored under an array (walking "/"-separated chunk directories), relative to it. A
 * store that cannot list (HTTP) is asked for each chunk of the grid instead, when there are at most
 * MAX_PROBED_CHUNKS and it can tell sizes.
 */
export async function listChunkKeys(
  store: Store,
  path: string,
  meta: Pick<ArrayMeta, "chunkKeyEncoding"> & Partial<Pick<ArrayMeta, "shape" | "chunkShape">>,
): Promise<string[]> {
  try {
    return await walkChunkKeys(store, path, meta);
  } catch (err) {
    if (!isGeoZarrError(err, "Unsupported") || !isSized(store) || !meta.shape || !meta.chunkShape) throw err;
    const grid = chunkGridShape(meta.shape, meta.chunkShape);
    if (gridSize(meta.shape, meta.chunkShape).chunks > MAX_PROBED_CHUNKS) throw err;
    const keys = [...gridIndices(grid)].map((c) => chunkKey(meta.chunkKeyEncoding, c));
    const found: string[] = [];
    // In batches: the store bounds the requests in flight; this bounds the promises waiting.
    for (let i = 0; i < keys.length; i += 256) {
      const batch = keys.slice(i, i + 256);
      const sizes = await Promise.all(batch.map((k) => store.sizeOf(joinKey(path, k))));
      batch.forEach((k, j) => {
        if (sizes[j] !== undefined) found.push(k);
      });
    }
    return found;
  }
}

async function walkChunkKeys(
  store: Store,
  path: string,
  meta: Pick<ArrayMeta, "chunkKeyEncoding">,
): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const { keys, prefixes } = await store.listDir(prefixOf(joinKey(path, rel)));
    for (const k of keys) if (rel !== "" || !META.has(k)) out.push(rel ? `${rel}/${k}` : k);
    // Chunk keys with "/" separators are directories; v3 default keys start with "c/".
    if (meta.chunkKeyEncoding.separator === "/")
      for (const p of prefixes) await walk(rel ? `${rel}/${p}` : p);
  };
  await walk("");
  return out;
}

export async function storedBytes(store: Store, path: string, keys: string[]): Promise<number | undefined> {
  if (!isSized(store)) return undefined;
  let total = 0;
  for (const k of keys) total += (await store.sizeOf(joinKey(path, k))) ?? 0;
  return total;
}

/**
 * Grid coordinates of the chunks (shards, for sharded arrays) stored under an array, from a listing:
 * how arrays whose grid is too large to iterate are processed (limits.ts MAX_DENSE_CHUNKS).
 */
export async function storedChunkCoords(store: Store, path: string, meta: ArrayMeta): Promise<number[][]> {
  const grid = chunkGridShape(meta.shape, meta.chunkShape);
  const out: number[][] = [];
  for (const key of await listChunkKeys(store, path, meta)) {
    const coords = parseChunkKey(meta.chunkKeyEncoding, key, grid);
    if (coords) out.push(coords);
  }
  return out;
}
