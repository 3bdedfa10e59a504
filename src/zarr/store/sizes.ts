/**
 * Storage accounting for `info`: which chunk keys of an array exist and how many bytes they take.
 * @module
 */

import { type ArrayMeta, chunkGridShape, parseChunkKey } from "../metadata/model.js";
import { joinKey, prefixOf, type ReadableStore, type Store, type StoreKey } from "./types.js";

export interface SizedStore {
  /** Size in bytes of the value at `key`, or undefined when absent. */
  sizeOf(key: StoreKey): Promise<number | undefined>;
}

export function isSized<S extends ReadableStore>(store: S): store is S & SizedStore {
  return typeof (store as Partial<SizedStore>).sizeOf === "function";
}

const META = new Set([".zarray", ".zattrs", ".zgroup", ".zmetadata", "zarr.json"]);

/** Chunk keys stored under an array (walking "/"-separated chunk directories), relative to it. */
export async function listChunkKeys(
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
