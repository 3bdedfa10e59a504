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
  /**
   * Remote stores: the value at `key` when it is at most `maxBytes` long, else only its size (the
   * response's Content-Length; the body is not read), so a document is size-checked in one request.
   */
  getUpTo?(key: StoreKey, maxBytes: number): Promise<Uint8Array | number | undefined>;
  /**
   * Why values read as missing may not be (a server that answers 403 both for a missing key and
   * for one it will not show: S3 without s3:ListBucket), for "not a Zarr store" messages.
   */
  explainMissing?(): string | undefined;
  /**
   * How many reads a task may have in flight on this store: 1 (or absent) for local stores, more
   * for remote ones, where a read waits on the network rather than the disk.
   */
  readonly readAhead?: number;
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
export type StoreDescriptor =
  | { kind: "fs"; root: string }
  | { kind: "http"; url: string; concurrency?: number | undefined }
  | S3Descriptor;

/**
 * An S3 (or S3-compatible) store, as far as a worker thread needs it to reach the same store.
 * Credentials are never part of it: each thread resolves them from the environment and the shared
 * config/credentials files itself (s3.ts), so they are never posted between threads or logged.
 */
export interface S3Descriptor {
  kind: "s3";
  bucket: string;
  /** The key prefix of the store, without leading or trailing "/" ("" for a bucket root). */
  prefix: string;
  /** Unsigned requests (public buckets). */
  anonymous?: boolean | undefined;
  /** An S3-compatible server ("http://127.0.0.1:9000"); default AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL. */
  endpoint?: string | undefined;
  region?: string | undefined;
  /** Path-style addressing (`endpoint/bucket/key`); default true for custom endpoints. */
  pathStyle?: boolean | undefined;
  /** The shared-config profile; default AWS_PROFILE, then "default". */
  profile?: string | undefined;
  /** Requests in flight per store and thread (default 16). */
  concurrency?: number | undefined;
}

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
