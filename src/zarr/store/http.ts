/**
 * A read-only store over HTTP(S): `https://host/path/store.zarr`, keys appended to that URL.
 *
 * - Reads are GETs; byte ranges are `Range` requests (RFC 9110 §14), coalesced per key when several
 *   arrive together (remote.ts). A server that ignores Range (200 instead of 206) is still read
 *   right: the wanted bytes are cut from the whole body.
 * - A missing key is 404 or 410, and also 403 from S3 or CloudFront, which answer 403 for a key that
 *   does not exist when listing is not allowed (the public-bucket case; OpenLayers #17602).
 * - Retries with full-jitter backoff on 5xx, 429, 408 and connection failures, honouring
 *   Retry-After; at most `concurrency` requests in flight per store and thread.
 * - HTTP has no listing: `listDir` refuses with a message saying so, and stores are opened through
 *   their consolidated metadata (hierarchy.ts reads it first).
 *
 * Only `fetch`: no `node:` imports.
 *
 * @module
 */

import { GeoZarrError, messageOf } from "../../errors.js";
import {
  backoffMs,
  completeLength,
  DEFAULT_CONCURRENCY,
  DEFAULT_RETRY,
  Limiter,
  type ObjectVersion,
  RangeCoalescer,
  type RetryPolicy,
  rangeBounds,
  rangeHeader,
  retryableError,
  retryableStatus,
  sleep,
  type VersionedRange,
  versionOf,
} from "./remote.js";
import type {
  DescribableStore,
  Listing,
  RangeQuery,
  ReadableStore,
  StoreDescriptor,
  StoreKey,
} from "./types.js";

export interface HttpStoreOptions {
  /** Requests in flight at once (per thread); default 16. */
  concurrency?: number | undefined;
  retry?: RetryPolicy | undefined;
}

/** Thrown inside an attempt to ask for another one (after `delayMs`, when the server says). */
class Retry extends Error {
  constructor(
    message: string,
    readonly delayMs?: number,
  ) {
    super(message);
  }
}

export class HttpStore implements ReadableStore, DescribableStore {
  readonly url: string;
  readonly descriptor: StoreDescriptor;
  readonly readAhead: number;
  /** Requests sent (every attempt), for benchmarks and tests. */
  requests = 0;
  readonly #limiter: Limiter;
  readonly #retry: RetryPolicy;
  readonly #coalescer = new RangeCoalescer((k, o, l) => this.#range(k, { offset: o, length: l }));
  #forbidden = 0;
  /** Sizes answered by HEAD (info asks for each chunk's, then for their sum). */
  readonly #sizes = new Map<StoreKey, number>();

  constructor(url: string, options: HttpStoreOptions = {}) {
    const u = new URL(url);
    if (u.protocol !== "http:" && u.protocol !== "https:")
      throw new GeoZarrError("Usage", `${url}: not an http(s) URL`, { where: url });
    if (u.search || u.hash)
      throw new GeoZarrError("Usage", `${url}: a store URL has no query or fragment`, { where: url });
    u.pathname = u.pathname.replace(/\/*$/, "/");
    this.url = u.href;
    const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    this.descriptor = { kind: "http", url: this.url, concurrency };
    this.readAhead = concurrency;
    this.#limiter = new Limiter(concurrency);
    this.#retry = options.retry ?? DEFAULT_RETRY;
  }

  /** The URL of a key (each segment percent-encoded, RFC 3986 §3.3). */
  urlOf(key: StoreKey): string {
    const segs = key.split("/").filter((s) => s.length > 0);
    if (segs.some((s) => s === ".." || s === "."))
      throw new GeoZarrError("NotFound", `${key}: invalid store key`, { where: key });
    return this.url + segs.map(encodeURIComponent).join("/");
  }

  async get(key: StoreKey): Promise<Uint8Array | undefined> {
    return this.#send(key, "GET", undefined, async (res) => new Uint8Array(await res.arrayBuffer()));
  }

  async getUpTo(key: StoreKey, maxBytes: number): Promise<Uint8Array | number | undefined> {
    return this.#send(key, "GET", undefined, (res) => readUpTo(res, maxBytes));
  }

  async getRange(key: StoreKey, range: RangeQuery): Promise<Uint8Array | undefined> {
    if ("suffixLength" in range) return this.#range(key, range);
    return this.#coalescer.get(key, range.offset, range.length);
  }

  async sizeOf(key: StoreKey): Promise<number | undefined> {
    if (this.#sizes.has(key)) return this.#sizes.get(key);
    return this.#send(key, "HEAD", undefined, async (res) => {
      const n = Number(res.headers.get("content-length"));
      if (this.#sizes.size >= 1_000_000) this.#sizes.clear();
      if (Number.isFinite(n)) {
        this.#sizes.set(key, n);
        return n;
      }
      throw new GeoZarrError("IO", `${this.urlOf(key)}: the server gave no Content-Length`, {
        where: this.urlOf(key),
      });
    });
  }

  /** HEAD: the object's size and version, which ranged reads of a file are pinned to. */
  async objectVersion(key: StoreKey): Promise<ObjectVersion | undefined> {
    return this.#send(key, "HEAD", undefined, async (res) => {
      const size = Number(res.headers.get("content-length"));
      if (!Number.isFinite(size))
        throw new GeoZarrError("IO", `${this.urlOf(key)}: the server gave no Content-Length`, {
          where: this.urlOf(key),
        });
      return { size, version: versionOf(res.headers.get("etag"), res.headers.get("last-modified")) };
    });
  }

  /**
   * One range with the version it was read from (not coalesced: the caller batches its ranges);
   * a server that ignores Range is cut as for getRange.
   */
  async getRangeVersioned(
    key: StoreKey,
    offset: number,
    length: number,
  ): Promise<VersionedRange | undefined> {
    return this.#send(key, "GET", rangeHeader({ offset, length }), async (res) => {
      const body = new Uint8Array(await res.arrayBuffer());
      const version = versionOf(res.headers.get("etag"), res.headers.get("last-modified"));
      const size = completeLength(res.headers.get("content-range"));
      if (res.status === 206) return { bytes: body, version, size, ranged: true };
      if (res.status === 416) return { bytes: new Uint8Array(0), version, size, ranged: true };
      const { start, end } = rangeBounds({ offset, length }, body.length);
      return { bytes: body.subarray(start, end), version, size: body.length, ranged: false };
    });
  }

  async listDir(prefix: StoreKey): Promise<Listing> {
    const where = this.urlOf(prefix);
    throw new GeoZarrError(
      "Unsupported",
      `${where}: cannot list a store over plain HTTP (HTTP has no directory listing); this needs consolidated metadata (v2 .zmetadata or the v3 root zarr.json's consolidated_metadata: zarr-python's consolidate_metadata, or geozarr convert), or the store's s3:// URL`,
      { where },
    );
  }

  explainMissing(): string | undefined {
    return this.#forbidden
      ? `${this.#forbidden} request(s) answered 403 Forbidden, read as missing keys (S3/CloudFront answer 403 for a key that is missing, or that these permissions do not show)`
      : undefined;
  }

  async #range(key: StoreKey, range: RangeQuery): Promise<Uint8Array | undefined> {
    return this.#send(key, "GET", rangeHeader(range), async (res) => {
      const body = new Uint8Array(await res.arrayBuffer());
      if (res.status === 206) return body;
      if (res.status === 416) return new Uint8Array(0); // the value exists; the range is past its end
      // 200: the server ignored Range (allowed, RFC 9110 §14.2); take the part asked for.
      const { start, end } = rangeBounds(range, body.length);
      return body.subarray(start, end);
    });
  }

  /** One request with retries; `read` runs inside the attempt, so a body cut short is retried too. */
  async #send<T>(
    key: StoreKey,
    method: "GET" | "HEAD",
    range: string | undefined,
    read: (res: Response) => Promise<T>,
  ): Promise<T | undefined> {
    const url = this.urlOf(key);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#limiter.run(async () => {
          this.requests++;
          let res: Response;
          try {
            res = await fetch(url, { method, headers: range ? { range } : {}, redirect: "follow" });
          } catch (err) {
            if (retryableError(err)) throw new Retry(`cannot connect: ${causeOf(err)}`);
            throw new GeoZarrError("IO", `${url}: cannot connect: ${causeOf(err)}`, {
              where: url,
              cause: err,
            });
          }
          if (res.status === 404 || res.status === 410 || (res.status === 403 && fromS3(res))) {
            await res.body?.cancel();
            if (res.status === 403) this.#forbidden++;
            return undefined;
          }
          if (retryableStatus(res.status)) {
            await res.body?.cancel();
            throw new Retry(`${res.status} ${res.statusText}`, retryAfterMs(res));
          }
          if (!res.ok && res.status !== 416) {
            await res.body?.cancel();
            throw new GeoZarrError("IO", `${url}: ${res.status} ${res.statusText}${hintFor(res.status)}`, {
              where: url,
            });
          }
          try {
            return await read(res);
          } catch (err) {
            if (err instanceof GeoZarrError) throw err;
            throw new Retry(`the response was cut short: ${causeOf(err)}`);
          }
        });
      } catch (err) {
        if (!(err instanceof Retry)) throw err;
        if (attempt >= this.#retry.attempts)
          throw new GeoZarrError("IO", `${url}: ${err.message} (after ${attempt} attempts)`, { where: url });
        await sleep(err.delayMs ?? backoffMs(this.#retry, attempt - 1));
      }
    }
  }
}

/** S3 and CloudFront mark their responses; their 403 for a missing key is read as missing. */
function fromS3(res: Response): boolean {
  const h = res.headers;
  return (
    h.has("x-amz-request-id") || h.has("x-amz-cf-id") || /AmazonS3|CloudFront/i.test(h.get("server") ?? "")
  );
}

function hintFor(status: number): string {
  if (status === 401 || status === 403) return " (the server refuses access to it)";
  return "";
}

/** Retry-After in seconds (RFC 9110 §10.2.3), capped; dates are left to the backoff. */
function retryAfterMs(res: Response): number | undefined {
  const v = Number(res.headers.get("retry-after"));
  return Number.isFinite(v) && v >= 0 ? Math.min(v, 30) * 1000 : undefined;
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: unknown }).cause;
  const code = (cause as { code?: string } | undefined)?.code;
  return code ?? messageOf(cause ?? err);
}

/** The body when at most `max` bytes, else its size (Content-Length, or what was read past `max`). */
async function readUpTo(res: Response, max: number): Promise<Uint8Array | number> {
  const declared = Number(res.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel();
    return declared;
  }
  if (!res.body) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let total = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > max) {
      await reader.cancel();
      return total;
    }
    parts.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
