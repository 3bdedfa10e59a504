/**
 * A store handed to a task: a descriptor that a worker thread re-opens, or the live store object
 * itself when the task runs on the calling thread.
 * @module
 */

import { FileSystemStore } from "./fs.js";
import { HttpStore } from "./http.js";
import { S3Store } from "./s3.js";
import type { MutableStore, ReadableStore, Store, StoreDescriptor } from "./types.js";

export type StoreRef = StoreDescriptor | { kind: "live"; store: Store };

const opened = new Map<string, Store>();

export function storeFromRef(ref: StoreRef): Store {
  if (ref.kind === "live") return ref.store;
  // One store per descriptor and thread: remote stores keep their connections, limits and caches.
  const id = JSON.stringify(ref);
  let s = opened.get(id);
  if (!s) {
    if (ref.kind === "fs") s = new FileSystemStore(ref.root);
    else if (ref.kind === "http") s = new HttpStore(ref.url, { concurrency: ref.concurrency });
    else s = new S3Store(ref);
    opened.set(id, s);
  }
  return s;
}

/** The store of `ref`, to write to (tasks that write their own chunks). */
export function writableStoreFromRef(ref: StoreRef): MutableStore {
  const s = storeFromRef(ref) as Partial<MutableStore>;
  if (typeof s.set !== "function") throw new Error(`the store of ${ref.kind} cannot be written`);
  return s as MutableStore;
}

/** A ref for `store`: its descriptor when it has one and workers are used, else the store itself. */
export function refFor(store: Store, forWorkers: boolean): StoreRef {
  const desc = (store as Partial<{ descriptor: StoreDescriptor }>).descriptor;
  return forWorkers && desc ? desc : { kind: "live", store };
}

/** Whether tasks on `store` can run on worker threads. */
export function canUseWorkers(store: ReadableStore): boolean {
  return (store as Partial<{ descriptor: StoreDescriptor }>).descriptor !== undefined;
}
