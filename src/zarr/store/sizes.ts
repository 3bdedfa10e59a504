/**
 * Storage accounting for `info`: which chunk keys of an array exist and how many bytes they take.
 * @module
 */

import type { ArrayMeta } from "../metadata/model.js";
import { joinKey, prefixOf, type Store, type StoreKey } from "./types.js";

export interface SizedStore {
  /** Size in bytes of the value at `key`, or undefined when absent. */
  sizeOf(key: StoreKey): Promise<number | undefined>;
}

export function isSized(store: Store): store is Store & SizedStore {
  return typeof (store as Partial<SizedStore>).sizeOf === "function";
}

const META = new Set([".zarray", ".zattrs", ".zgroup", ".zmetadata", "zarr.json"]);

/** Chunk keys stored under an array (walking "/"-separated chunk directories), relative to it. */
export async function listChunkKeys(store: Store, path: string, meta: ArrayMeta): Promise<string[]> {
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
