/**
 * A store handed to a task: a descriptor that a worker thread re-opens, or the live store object
 * itself when the task runs on the calling thread.
 * @module
 */

import { FileSystemStore } from "./fs.js";
import type { MutableStore, ReadableStore, Store, StoreDescriptor } from "./types.js";

export type StoreRef = StoreDescriptor | { kind: "live"; store: Store };

const opened = new Map<string, Store>();

export function storeFromRef(ref: StoreRef): Store {
  if (ref.kind === "live") return ref.store;
  if (ref.kind === "fs") {
    let s = opened.get(ref.root);
    if (!s) {
      s = new FileSystemStore(ref.root);
      opened.set(ref.root, s);
    }
    return s;
  }
  throw new Error(`stores of kind ${ref.kind} cannot be opened in a worker yet`);
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
