/**
 * The store contract: a key-value view of a Zarr hierarchy.
 *
 * Keys are absolute paths ("/", "/analysed_sst/zarr.json", "/lat/0"), the form zarrita uses, so
 * every store here can be handed to zarrita for reading unchanged. Listing is separate from reading
 * (HTTP stores cannot list), and writing is separate again (the inspector and validator never write).
 *
 * @module
 */

export type StoreKey = `/${string}`;

export type RangeQuery = { offset: number; length: number } | { suffixLength: number };

export interface ReadableStore {
  /** The value at `key`, or undefined when there is none. Other failures throw GeoZarrError("IO"). */
  get(key: StoreKey): Promise<Uint8Array | undefined>;
  /** A byte range of the value at `key`, or undefined when there is none. */
  getRange?(key: StoreKey, range: RangeQuery): Promise<Uint8Array | undefined>;
  /**
   * The value at `key` read into `scratch.buf` (replaced by a larger buffer when too small), for hot
   * loops that consume each value before reading the next: no allocation per read. The result is a
   * view of the scratch buffer, valid until the next call with the same scratch.
   */
  getInto?(key: StoreKey, scratch: { buf: Uint8Array }): Promise<Uint8Array | undefined>;
}

export interface ListableStore {
  /**
   * The immediate children of a prefix ("/" or "/a/b/"): `keys` are names of values directly under
   * it, `prefixes` names of child prefixes (directories). Both sorted. A missing prefix lists empty.
   */
  listDir(prefix: StoreKey): Promise<Listing>;
}

export interface Listing {
  keys: string[];
  prefixes: string[];
  /** Entries not listed on purpose (a file system store's directory links), and why. */
  skipped?: { name: string; reason: string }[];
}

export interface WritableStore {
  set(key: StoreKey, value: Uint8Array): Promise<void>;
  /** Remove a value; removing a missing key is not an error. */
  delete(key: StoreKey): Promise<void>;
}

export type Store = ReadableStore & ListableStore;
export type MutableStore = Store & WritableStore;

/**
 * How a worker thread re-opens the same store. Only stores that can be re-opened elsewhere
 * (file system, HTTP) have one; in-memory stores run their chunk work on the calling thread.
 */
export type StoreDescriptor = { kind: "fs"; root: string } | { kind: "http"; url: string };

export interface DescribableStore {
  readonly descriptor: StoreDescriptor | undefined;
}

/** Join path segments into a store key: joinKey("/a", "b", ".zarray") -> "/a/b/.zarray". */
export function joinKey(...parts: string[]): StoreKey {
  const segs = parts.flatMap((p) => p.split("/")).filter((s) => s.length > 0);
  return `/${segs.join("/")}`;
}

/** The prefix form of a node path: "/" stays "/", "/a/b" becomes "/a/b/". */
export function prefixOf(path: string): StoreKey {
  const k = joinKey(path);
  return k === "/" ? "/" : `${k}/`;
}
