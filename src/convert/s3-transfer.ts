/**
 * A Zarr store copied between object storage and a local directory, for the steps that rebuild a
 * whole hierarchy (multiscale levels: pyramid/s3-build.ts, `convert --multiscales` to s3://, the
 * finalize of a staged run with levels: jobs/upload-levels.ts). Object
 * storage has no rename to swap a new store in (docs/design.md "Object storage"), so those steps
 * build the new store in a local temporary directory, as they do for a directory output, and
 * upload it in the order that keeps it invisible until complete: every chunk, then the documents,
 * the consolidated metadata last (s3-output.ts `OrderedUploadStore`).
 * @module
 */

import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { fsError, GeoZarrError, isGeoZarrError } from "../errors.js";
import { openHierarchy } from "../zarr/hierarchy.js";
import { DEFAULT_CONCURRENCY, isMetadataKey, Limiter } from "../zarr/store/remote.js";
import type { S3Store } from "../zarr/store/s3.js";
import { joinKey, type MutableStore, type StoreKey } from "../zarr/store/types.js";
import { STAGING_META } from "./output.js";
import { S3_LOCK, S3_PARTIAL_MARKER } from "./s3-output.js";

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
  for (const node of h.nodes.values()) {
    for (const d of DOCUMENTS) keys.add(joinKey(node.path, d));
    if (node.meta.kind === "array") for (const k of await keysUnder(s3, node.path as StoreKey)) keys.add(k);
  }
  return downloadKeys(s3, dir, keys);
}

/**
 * Download the chunks under each of `paths` (arrays, or where a run left levels it computed) into
 * `dir`, for a store whose documents are there already (a run's finalize wrote them, not yet
 * uploaded): documents in object storage under those paths are not taken. Returns the keys.
 */
export async function downloadChunks(s3: S3Store, dir: string, paths: StoreKey[]): Promise<StoreKey[]> {
  const keys = new Set<StoreKey>();
  for (const path of paths) for (const k of await keysUnder(s3, path)) if (!isMetadataKey(k)) keys.add(k);
  return downloadKeys(s3, dir, keys);
}

/** The store keys of every object under `path`, by one listing. */
async function keysUnder(s3: S3Store, path: StoreKey): Promise<StoreKey[]> {
  const base = s3.objectKey("/");
  const out: StoreKey[] = [];
  for await (const page of s3.listObjects(path))
    for (const o of page) if (o.Key) out.push(`/${base ? o.Key.slice(base.length + 1) : o.Key}`);
  return out;
}

/** Download `keys` into files under `dir`, a bounded number at a time; returns those that exist, sorted. */
async function downloadKeys(s3: S3Store, dir: string, keys: Iterable<StoreKey>): Promise<StoreKey[]> {
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

/**
 * Upload the store rebuilt in `dir` from downloaded files (`old`: `identities` taken before the
 * rebuild) into `store`: a file that is one of the downloaded ones (a hard link: level 0 of a
 * pyramid, the levels a conversion computed) is copied by the server from its old key
 * (CopyObject: nothing sent again), every other one uploaded. Returns the store keys.
 */
export async function uploadRebuilt(
  s3: S3Store,
  dir: string,
  old: Map<string, StoreKey>,
  store: MutableStore,
): Promise<StoreKey[]> {
  return uploadDirectory(dir, store, async (file, key) => {
    const st = await stat(file);
    const from = old.get(`${st.dev}:${st.ino}`);
    if (from === undefined) return false;
    // The same key (data that stays at the root, --tms): the object is there already.
    if (from !== key) await s3.copy(from, key);
    return true;
  });
}

/**
 * Delete every key under the prefix that the rebuilt store (`written`) does not have, but the
 * run's own (the lock, the marker, the plan and the task records: the commit removes those): what
 * is left of the layout the rebuild replaced. Only after the consolidated metadata that readers
 * now follow no longer names them.
 */
export async function deleteReplaced(s3: S3Store, written: StoreKey[]): Promise<void> {
  const keep = new Set(
    [...written, `/${S3_LOCK}`, `/${S3_PARTIAL_MARKER}`].map((k) => s3.objectKey(k as StoreKey)),
  );
  const run = `${s3.objectKey(`/${STAGING_META}`)}/`;
  const stale: string[] = [];
  for await (const page of s3.listObjects("/"))
    for (const o of page) if (o.Key && !keep.has(o.Key) && !o.Key.startsWith(run)) stale.push(o.Key);
  if (stale.length) await s3.deleteObjects(stale);
}

/** An error about a local copy (its path in the message), naming the store in object storage instead. */
export function namingRemote(err: unknown, local: string, url: string): unknown {
  if (!isGeoZarrError(err)) return err;
  return new GeoZarrError(err.tag, err.message.split(local).join(url), { where: url, cause: err });
}
