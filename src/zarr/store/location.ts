/**
 * Where a store is: a local path, an `http(s)://` URL or an `s3://bucket/prefix` URL, and the
 * store that reads (and, for directories and S3, writes) it there.
 *
 * @module
 */

import { GeoZarrError } from "../../errors.js";
import { FileSystemStore } from "./fs.js";
import { HttpStore } from "./http.js";
import { S3Store } from "./s3.js";
import type { S3Descriptor } from "./types.js";

export type StoreLocation =
  | { kind: "fs"; path: string }
  | { kind: "http"; url: string }
  | { kind: "s3"; bucket: string; prefix: string };

/**
 * Options for remote stores: those of an S3 descriptor but the location (`concurrency` applies to
 * HTTP too). Credentials come from the environment, never from here.
 */
export type RemoteOptions = Omit<S3Descriptor, "kind" | "bucket" | "prefix">;

/** Whether `s` is a store URL (s3://, http://, https://) rather than a local path. */
export function isStoreUrl(s: string): boolean {
  return /^(s3|https?):\/\//i.test(s);
}

/** Refuse a store URL where only a directory will do (a write path not built for object storage). */
export function requireLocal(path: string, why: string): void {
  if (isStoreUrl(path)) throw new GeoZarrError("Unsupported", `${path}: ${why}`, { where: path });
}

export function parseLocation(s: string): StoreLocation {
  if (/^s3:\/\//i.test(s)) {
    const rest = s.slice(5);
    const slash = rest.indexOf("/");
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    const prefix = slash < 0 ? "" : rest.slice(slash + 1).replace(/^\/+|\/+$/g, "");
    if (!bucket) throw new GeoZarrError("Usage", `${s}: an s3:// URL names a bucket (s3://bucket/prefix)`);
    if (prefix.split("/").some((p) => p === "." || p === ".."))
      throw new GeoZarrError("Usage", `${s}: "." and ".." are not allowed in an S3 prefix`);
    return { kind: "s3", bucket, prefix };
  }
  if (/^https?:\/\//i.test(s)) return { kind: "http", url: s };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s))
    throw new GeoZarrError("Usage", `${s}: unsupported URL scheme (use a path, s3:// or http(s)://)`);
  return { kind: "fs", path: s };
}

export function s3Descriptor(loc: { bucket: string; prefix: string }, o: RemoteOptions = {}): S3Descriptor {
  return { ...o, kind: "s3", bucket: loc.bucket, prefix: loc.prefix };
}

/** The store at a location (no request is made: remote stores connect on first use). */
export function storeAt(loc: StoreLocation, o: RemoteOptions = {}): FileSystemStore | HttpStore | S3Store {
  if (loc.kind === "fs") return new FileSystemStore(loc.path);
  if (loc.kind === "http") {
    if (o.anonymous !== undefined && !o.anonymous)
      throw new GeoZarrError("Usage", `${loc.url}: HTTP stores are read without credentials`);
    return new HttpStore(loc.url, { concurrency: o.concurrency });
  }
  return new S3Store(s3Descriptor(loc, o));
}
