/**
 * Inputs named by URL (s3://, http(s)://): a Zarr store, read in place through its store; a
 * NetCDF-4 file read in place by ranged GETs (readers/remote-source.ts) when every large variable
 * the plan copies has a chunk index our reader lists (readers/hdf5-index.ts); a GeoTIFF or COG
 * read in place by ranged GETs of its tiles or strips (readers/geotiff.ts); any other file (NetCDF
 * classic, HDF5 layouts we do not index) downloaded once into a temporary file (in bounded memory,
 * with progress) and removed when the conversion ends, however it ends.
 * docs/design.md "Object storage".
 *
 * @module
 */

import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GeoZarrError } from "../errors.js";
import type { RemoteFile } from "../readers/byte-source.js";
import { directVariable } from "../readers/hdf5-direct.js";
import { isTiffHeader } from "../readers/tiff-source.js";
import { dataTypeInfo } from "../zarr/dtype.js";
import { product } from "../zarr/metadata/model.js";
import { HttpStore } from "../zarr/store/http.js";
import { parseLocation, type RemoteOptions, s3Descriptor, storeAt } from "../zarr/store/location.js";
import { S3Store } from "../zarr/store/s3.js";
import type { StoreKey } from "../zarr/store/types.js";
import type { NodePlan } from "./execute.js";
import { objectStamp, type SourceStamp } from "./staging.js";

const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
/** Bytes per ranged GET of a download, and GETs in flight: at most 32 MiB buffered. */
const PIECE = 8 * 2 ** 20;
const IN_FLIGHT = 4;

/** The store holding the object a URL names, and its key there ("s3://b/d/x.nc": prefix d, key /x.nc). */
function objectOf(url: string, remote: RemoteOptions): { store: HttpStore | S3Store; key: StoreKey } {
  const loc = parseLocation(url);
  if (loc.kind === "s3") {
    const cut = loc.prefix.lastIndexOf("/");
    const store = new S3Store(
      s3Descriptor({ bucket: loc.bucket, prefix: cut < 0 ? "" : loc.prefix.slice(0, cut) }, remote),
    );
    return { store, key: `/${loc.prefix.slice(cut + 1)}` };
  }
  if (loc.kind === "http") {
    const u = new URL(url);
    const name = u.pathname.slice(u.pathname.lastIndexOf("/") + 1);
    u.pathname = u.pathname.slice(0, u.pathname.lastIndexOf("/") + 1);
    return {
      store: new HttpStore(u.href, { concurrency: remote.concurrency }),
      key: `/${decodeURIComponent(name)}`,
    };
  }
  throw new GeoZarrError("Usage", `${url}: not a URL`);
}

/**
 * Whether the URL is a Zarr store (a root document under it) or a file to download (by its
 * signature: NetCDF-4/HDF5, NetCDF classic, TIFF), checked before anything is downloaded.
 */
export async function detectRemoteInput(url: string, remote: RemoteOptions): Promise<"zarr" | "file"> {
  const store = storeAt(parseLocation(url), remote);
  for (const key of ["/zarr.json", "/.zgroup", "/.zarray"] as const)
    if ((await store.getRange!(key, { offset: 0, length: 1 })) !== undefined) return "zarr";
  const { store: parent, key } = objectOf(url, remote);
  const head = await parent.getRange!(key, { offset: 0, length: 8 });
  if (head && head.length === 8 && HDF5_MAGIC.every((b, i) => head[i] === b)) return "file";
  if (
    head &&
    head.length >= 4 &&
    head[0] === 0x43 &&
    head[1] === 0x44 &&
    head[2] === 0x46 &&
    [1, 2, 5].includes(head[3]!)
  )
    return "file";
  if (head && head.length >= 4 && isTiffHeader(head)) return "file";
  if (head === undefined)
    throw new GeoZarrError(
      "NotFound",
      `${url}: no such store or file (no zarr.json, .zgroup or .zarray under it, no object at it)`,
      {
        where: url,
      },
    );
  throw new GeoZarrError("Format", `${url}: not a Zarr store, NetCDF, HDF5 or TIFF file`, { where: url });
}

/** Temporary downloads of this process, removed synchronously if it exits first. */
const downloads = new Set<string>();
let hooked = false;

export interface Download {
  path: string;
  /** The file's size: the bytes downloaded. */
  size: number;
  /** The object's stamp (its URL, size and version, read before the download): what a plan records. */
  stamp: SourceStamp;
  /** Remove the temporary file (and its directory). Idempotent. */
  remove(): Promise<void>;
}

/** Download the object at `url` into a temporary file, `onProgress(done, total)` as bytes arrive. */
export async function downloadInput(
  url: string,
  remote: RemoteOptions,
  onProgress?: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<Download> {
  const { store, key } = objectOf(url, remote);
  const v = await store.objectVersion(key);
  if (v === undefined) throw new GeoZarrError("NotFound", `${url}: no such file`, { where: url });
  const { size, version } = v;
  const stamp = objectStamp({ url, store: store.descriptor as RemoteFile["store"], key, size, version });
  const dir = await mkdtemp(join(tmpdir(), "geozarr-input-"));
  downloads.add(dir);
  if (!hooked) {
    hooked = true;
    process.on("exit", () => {
      for (const d of downloads) rmSync(d, { recursive: true, force: true });
    });
  }
  const remove = async () => {
    downloads.delete(dir);
    await rm(dir, { recursive: true, force: true });
  };
  const path = join(dir, key.slice(1).replace(/[^\w.-]/g, "_") || "input");
  try {
    const fh = await open(path, "wx");
    try {
      let done = 0;
      onProgress?.(0, size);
      for (let start = 0; start < size; start += PIECE * IN_FLIGHT) {
        signal?.throwIfAborted();
        const pieces: Promise<void>[] = [];
        for (let at = start; at < Math.min(size, start + PIECE * IN_FLIGHT); at += PIECE) {
          const length = Math.min(PIECE, size - at);
          pieces.push(
            store.getRange!(key, { offset: at, length }).then(async (bytes) => {
              if (!bytes || bytes.length !== length)
                throw new GeoZarrError("IO", `${url}: changed or vanished during the download`, {
                  where: url,
                });
              await fh.write(bytes, 0, length, at);
              done += length;
              onProgress?.(done, size);
            }),
          );
        }
        await Promise.all(pieces);
      }
      // The pieces are checked for length only: an object replaced while they came (another
      // version, same size) shows in its version afterwards, never as a file of two versions.
      const after = await store.objectVersion(key);
      if (after?.size !== size || after.version !== version)
        throw new GeoZarrError(
          "IO",
          `${url}: changed during the download (its version or size); convert it again`,
          {
            where: url,
          },
        );
    } finally {
      await fh.close();
    }
  } catch (err) {
    await remove();
    throw err;
  }
  return { path, size, stamp, remove };
}

/** A file in object storage read in place, and what it is (by its signature). */
export interface RemoteInput {
  file: RemoteFile;
  format: "netcdf" | "geotiff";
}

/**
 * A NetCDF-4/HDF5 file or a TIFF at `url` (their signatures at byte 0), pinned to its size and
 * version (ETag) for reads in place; undefined for other files (downloaded).
 */
export async function remoteInPlace(url: string, remote: RemoteOptions): Promise<RemoteInput | undefined> {
  const { store, key } = objectOf(url, remote);
  const got = await store.getRangeVersioned(key, 0, 8);
  const head = got?.bytes;
  if (!head || head.length < 8) return undefined;
  const format = HDF5_MAGIC.every((b, i) => head[i] === b) ? "netcdf" : isTiffHeader(head) ? "geotiff" : null;
  if (!format) return undefined;
  // A server that ignores Range would send the whole file for every read: downloaded once instead.
  if (!got.ranged) return undefined;
  const v = await store.objectVersion(key);
  if (!v) throw new GeoZarrError("NotFound", `${url}: no such file`, { where: url });
  const desc = store.descriptor as RemoteFile["store"]; // an HttpStore's or an S3Store's
  const file: RemoteFile = {
    url,
    store: desc,
    key,
    size: v.size,
    version: v.version,
    fetched: new SharedArrayBuffer(8),
    run: randomUUID(),
  };
  return { file, format };
}

/** Bytes the threads reading `file` have fetched so far. */
export function fetchedBytes(file: RemoteFile): number {
  return file.fetched instanceof SharedArrayBuffer
    ? Number(Atomics.load(new BigInt64Array(file.fetched), 0))
    : 0;
}

/**
 * 1-D variables of at most this many bytes (coordinates, possibly compact or contiguous) may read
 * through h5wasm over the block cache when our index does not cover them, as the planner already
 * reads their values; every other variable must be indexed.
 */
const SMALL = 16 * 2 ** 20;

/**
 * Whether a plan made from a file in object storage reads in place: every data variable it copies
 * from a NetCDF-4 file (2-D and up, or large) has a chunk index our reader lists, so its chunks are
 * ranged GETs, not h5wasm's reads through the block cache (a GeoTIFF's tiles and strips always are:
 * their offsets are in its IFDs). Otherwise the caller downloads the file.
 */
export async function readsInPlace(nodes: readonly NodePlan[]): Promise<boolean> {
  for (const n of nodes) {
    if (n.kind !== "array") continue;
    const src = n.copy?.source;
    if (src?.kind !== "netcdf" || !src.remote) continue;
    if (n.spec.shape.length <= 1 && product(n.spec.shape) * dataTypeInfo(src.dataType).size <= SMALL)
      continue;
    if (!src.hdf5) return false;
    const plan = await directVariable(src.file, src.path, src.hdf5, src.remote.version, src.remote);
    if (!plan) return false;
  }
  return true;
}
