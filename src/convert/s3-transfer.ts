/**
 * A Zarr store copied between object storage and a local directory, for the steps that rebuild a
 * whole hierarchy (multiscale levels: pyramid/build.ts, `convert --multiscales` to s3://). Object
 * storage has no rename to swap a new store in (docs/design.md "Object storage"), so those steps
 * build the new store in a local temporary directory, as they do for a directory output, and
 * upload it in the order that keeps it invisible until complete: every chunk, then the documents,
 * the consolidated metadata last (s3-output.ts `OrderedUploadStore`).
 * @module
 */

import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { fsError } from "../errors.js";
import { openHierarchy } from "../zarr/hierarchy.js";
import { DEFAULT_CONCURRENCY, isMetadataKey, Limiter } from "../zarr/store/remote.js";
import type { S3Store } from "../zarr/store/s3.js";
import { joinKey, type MutableStore, type StoreKey } from "../zarr/store/types.js";

const DOCUMENTS = ["zarr.json", ".zgroup", ".zarray", ".zattrs"] as const;

/**
 * Download the store at `s3` into the directory `dir`: the nodes its consolidated metadata names
 * (or a listing finds), each node's documents as stored and every key under each array. Keys of
 * no node (an interrupted run's levels, its lock and marker) are not copied. Returns the keys.
 */
export async function downloadStore(s3: S3Store, dir: string): Promise<StoreKey[]> {
  const h = await openHierarchy(s3, { name: s3.url });
  const keys = new Set<StoreKey>();
  if (h.consolidated && h.zarrFormat === 2) keys.add("/.zmetadata");
  const base = s3.objectKey("/");
  for (const node of h.nodes.values()) {
    for (const d of DOCUMENTS) keys.add(joinKey(node.path, d));
    if (node.meta.kind !== "array") continue;
    for await (const page of s3.listObjects(node.path as StoreKey))
      for (const o of page) if (o.Key) keys.add(`/${base ? o.Key.slice(base.length + 1) : o.Key}`);
  }
  const limiter = new Limiter(DEFAULT_CONCURRENCY);
  const got: StoreKey[] = [];
  await Promise.all(
    [...keys].map((key) =>
      limiter.run(async () => {
        const bytes = await s3.get(key);
        if (bytes === undefined) return; // a document this node does not have
        const file = join(dir, ...key.split("/").filter(Boolean));
        try {
          await mkdir(dirname(file), { recursive: true });
          await writeFile(file, bytes);
        } catch (err) {
          throw fsError(err, file, "write");
        }
        got.push(key);
      }),
    ),
  );
  return got.sort();
}

/**
 * The downloaded files by identity (device and inode), to their keys: a file of the new store that
 * is one of them (a hard link: level 0 of a pyramid, pyramid/dataset.ts `linkChunks`) holds the
 * bytes of that key, which the server can copy instead of receiving them again.
 */
export async function identities(dir: string, keys: StoreKey[]): Promise<Map<string, StoreKey>> {
  const out = new Map<string, StoreKey>();
  for (const key of keys) {
    if (isMetadataKey(key)) continue;
    const st = await stat(join(dir, ...key.split("/").filter(Boolean)));
    out.set(`${st.dev}:${st.ino}`, key);
  }
  return out;
}

/**
 * Upload every file under `dir` into `store` (an `OrderedUploadStore`: chunks PUT now, documents
 * held for its flush), a bounded number at a time. `reuse` may write a file another way (a
 * server-side copy of an object with the same bytes): true when it did. Returns the store keys.
 */
export async function uploadDirectory(
  dir: string,
  store: MutableStore,
  reuse?: (file: string, key: StoreKey) => Promise<boolean>,
): Promise<StoreKey[]> {
  let entries: { parentPath?: string; path?: string; name: string; isFile(): boolean }[];
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch (err) {
    throw fsError(err, dir, "read");
  }
  const files = entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? e.path ?? dir, e.name))
    .sort();
  const limiter = new Limiter(DEFAULT_CONCURRENCY);
  const keys = files.map((f) => `/${relative(dir, f).split(sep).join("/")}` as StoreKey);
  await Promise.all(
    files.map((file, i) =>
      limiter.run(async () => {
        if (reuse && (await reuse(file, keys[i]!))) return;
        let bytes: Uint8Array;
        try {
          bytes = await readFile(file);
        } catch (err) {
          throw fsError(err, file, "read");
        }
        await store.set(keys[i]!, bytes);
      }),
    ),
  );
  return keys;
}
