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

/** Options for remote stores (S3; `concurrency` for HTTP too). Credentials come from the environment. */
export interface RemoteOptions {
  /** Unsigned S3 requests (public buckets); no credentials are looked up. */
  anonymous?: boolean | undefined;
  /** An S3-compatible endpoint; default AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL. */
  endpoint?: string | undefined;
  region?: string | undefined;
  /** Path-style S3 addressing; default true when an endpoint is set. */
  pathStyle?: boolean | undefined;
  /** Shared-config profile; default AWS_PROFILE. */
  profile?: string | undefined;
  /** Requests in flight per thread (default 16). */
  concurrency?: number | undefined;
}

/** Whether `s` is a store URL (s3://, http://, https://) rather than a local path. */
export function isStoreUrl(s: string): boolean {
  return /^(s3|https?):\/\//i.test(s);
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
  return {
    kind: "s3",
    bucket: loc.bucket,
    prefix: loc.prefix,
    anonymous: o.anonymous,
    endpoint: o.endpoint,
    region: o.region,
    pathStyle: o.pathStyle,
    profile: o.profile,
    concurrency: o.concurrency,
  };
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
