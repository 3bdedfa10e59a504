/**
 * A file's bytes read synchronously at any position: the one way the HDF5 readers (hdf5-index.ts,
 * hdf5-direct.ts, and h5wasm on a remote file: netcdf4.ts) reach a NetCDF-4 file, whether it is on
 * local disk (an fd and `pread`) or an object in S3 or behind HTTP (remote-source.ts: ranged GETs
 * run on a helper thread while the caller waits). Synchronous because h5wasm's file system is:
 * HDF5 reads its structure through POSIX-style `read` calls (docs/design.md "Object storage").
 *
 * @module
 */

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { fsError } from "../errors.js";
import type { S3Descriptor, StoreDescriptor, StoreKey } from "../zarr/store/types.js";
import { Kept } from "./kept.js";

export interface ByteSource {
  /** The path or URL, as messages name it. */
  readonly name: string;
  readonly size: number;
  /** The version the bytes are read from (kept.ts keys what a thread keeps of the file by it). */
  readonly version: string;
  /** Fill `into` from `position`; returns the bytes read (fewer only at the end of the file). */
  read(into: Uint8Array, position: number): number;
  /**
   * Fill each part's buffer from its position, all in one call: a remote source asks for them
   * together (in parallel, adjacent ranges merged), not one round trip each. Returns bytes read per part.
   */
  readParts(parts: readonly { position: number; into: Uint8Array }[]): number[];
  /**
   * Stored bytes worth asking for in one `readParts` call: 0 locally (a part at a time, one chunk
   * buffered, as a `pread` costs no round trip), more for a remote source.
   */
  readonly batchBytes: number;
  close(): void;
}

/**
 * A file in object storage as worker threads re-open it: the store holding it, its key there, and
 * the size and version it was planned from (every read is checked against them). Plain data but
 * `fetched`, a counter every thread adds its fetched bytes to (shared by postMessage, `{}` in JSON).
 */
export interface RemoteFile {
  url: string;
  store: Extract<StoreDescriptor, { kind: "http" }> | S3Descriptor;
  key: StoreKey;
  size: number;
  version: string;
  fetched?: SharedArrayBuffer | undefined;
  /**
   * This run's reading of the file (a random id): what threads keep of it (open sources, h5wasm
   * files) is kept under it too, so a later run in the same process counts its own fetches.
   */
  run?: string | undefined;
}

/** What a thread keeps of a remote file is kept under this (kept.ts): its version and its run. */
export function keptVersion(file: RemoteFile): string {
  return `${file.version}\0${file.run ?? ""}`;
}

/**
 * Sources open per thread: a bounded number, the least recently used closed beyond it, so that
 * a long series (thousands of granules, each read once) does not run into the process's limit of
 * open files. Readers look a source up by file for each read (hdf5-direct.ts, geotiff.ts), never
 * keep it.
 */
const files = new Kept<ByteSource>((f) => f.close(), 64);

/** The byte source of a local file or of one in object storage (remote-source.ts, loaded then only). */
export async function byteSource(file: string, version: string, remote?: RemoteFile): Promise<ByteSource> {
  const key = remote ? keptVersion(remote) : version;
  const kept = files.lookup(file, key);
  if (kept) return kept;
  if (!remote) return files.keep(file, key, localSource(file, version));
  const { remoteSource } = await import("./remote-source.js");
  return files.keep(file, key, remoteSource(remote));
}

/**
 * Where the batch of parts starting at `first` ends (exclusive), for one `readParts` call: the
 * first part, then the next ones while the batch stays within `batchBytes` (0, a local file: one
 * part per call). `sizeOf(i)` is part i's length; there are `count` parts.
 */
export function batchEnd(
  sizeOf: (i: number) => number,
  first: number,
  count: number,
  batchBytes: number,
): number {
  let last = first + 1;
  let bytes = sizeOf(first);
  while (last < count && bytes + sizeOf(last) <= batchBytes) bytes += sizeOf(last++);
  return last;
}

/** Close the byte sources this thread opened. */
export function closeByteSources(): void {
  files.clear();
}

/** A local file through its descriptor. */
export function localSource(path: string, version: string): ByteSource {
  let fd: number;
  let size: number;
  try {
    fd = openSync(path, "r");
    size = fstatSync(fd).size;
  } catch (err) {
    throw fsError(err, path, "open");
  }
  const read = (into: Uint8Array, position: number) => readSync(fd, into, 0, into.length, position);
  return {
    name: path,
    size,
    version,
    read,
    readParts: (parts) => parts.map((p) => read(p.into, p.position)),
    batchBytes: 0,
    close: () => closeSync(fd),
  };
}

/** Read `n` bytes at `position` (fewer at the end of the file). */
export function readAt(src: ByteSource, position: number, n: number): Uint8Array {
  const bytes = new Uint8Array(Math.max(0, Math.min(n, src.size - position)));
  const got = bytes.length > 0 ? src.read(bytes, position) : 0;
  return got === bytes.length ? bytes : bytes.subarray(0, got);
}
