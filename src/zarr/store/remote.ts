/**
 * What the remote stores (http.ts, s3.ts) share: a bound on requests in flight, retries with
 * backoff, and byte-range coalescing. No `node:` imports: the HTTP store runs on `fetch` alone.
 *
 * @module
 */

import type { RangeQuery, StoreKey } from "./types.js";

/** 127.0.0.0/8 written as Node's `isIP` accepts an IPv4 address (decimal octets, no leading zeros). */
const IPV4_LOOPBACK = /^127(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/**
 * An address only this machine can reach (127.0.0.0/8, ::1, localhost; brackets of an IPv6 URL
 * host allowed): the inspector's server binds to it without a token, and S3 bodies sent to it go
 * unsigned (s3.ts), since no network lies in between.
 */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || IPV4_LOOPBACK.test(h);
}

/** Requests in flight per store and thread unless told otherwise. */
export const DEFAULT_CONCURRENCY = 16;

/** A counting semaphore: at most `limit` callers hold it at once, the rest wait in order. */
export class Limiter {
  #active = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(readonly limit: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#active >= this.limit) await new Promise<void>((r) => this.#waiting.push(r));
    else this.#active++;
    try {
      return await fn();
    } finally {
      // Hand the slot straight to the next waiter (the count stays), or free it.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#active--;
    }
  }
}

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Delay before the first retry, in ms; doubled each time, with full jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 100, maxDelayMs: 5000 };

/**
 * Statuses worth another attempt: 5xx (RFC 9110 §15.6), 429 Too Many Requests (RFC 6585 §4) and
 * 408 Request Timeout. S3 throttles with 503 SlowDown.
 */
export function retryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

/** Connection-level failures (reset, refused while a server restarts, timeouts): retried too. */
export function retryableError(err: unknown): boolean {
  if (err instanceof Error && err.name === "AbortError") return false;
  const codes = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "UND_ERR_SOCKET", "EAI_AGAIN"]);
  for (let e: unknown = err, i = 0; e && i < 4; e = (e as { cause?: unknown }).cause, i++) {
    const code = (e as { code?: string }).code;
    if (code && codes.has(code)) return true;
  }
  // fetch reports network failures as TypeError("fetch failed") with the cause above, or none.
  return err instanceof TypeError && /fetch failed|terminated|other side closed/i.test(err.message);
}

/** Full-jitter exponential backoff (the AWS Architecture Blog's "Exponential Backoff And Jitter"). */
export function backoffMs(policy: RetryPolicy, retry: number): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.random() * cap;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The bytes a range query covers in a value of `size` bytes, clipped to it (RFC 9110 §14.1.2). */
export function rangeBounds(range: RangeQuery, size: number): { start: number; end: number } {
  if ("suffixLength" in range) return { start: Math.max(0, size - range.suffixLength), end: size };
  const start = Math.min(range.offset, size);
  return { start, end: Math.min(size, range.offset + range.length) };
}

/** The Range header value for a query: `bytes=first-last` or the suffix form `bytes=-N`. */
export function rangeHeader(range: RangeQuery): string {
  if ("suffixLength" in range) return `bytes=-${range.suffixLength}`;
  return `bytes=${range.offset}-${range.offset + range.length - 1}`;
}

/**
 * An object's size and version as its server states them (ETag, else Last-Modified): reads of a
 * file in object storage are pinned to it, so bytes of two versions are never mixed.
 */
export interface ObjectVersion {
  size: number;
  version: string;
}

/** A range of an object with the version the server read it from and the object's size then. */
export interface VersionedRange {
  bytes: Uint8Array;
  version: string;
  /** The whole object's size (Content-Range's complete length), when the server gave it. */
  size: number | undefined;
  /** Whether the server answered with the range (206); false when it sent the whole object (200). */
  ranged: boolean;
}

/** The version of a response: its ETag (RFC 9110 §8.8.3), else its Last-Modified, else "". */
export function versionOf(
  etag: string | null | undefined,
  lastModified: string | Date | null | undefined,
): string {
  if (etag) return etag;
  if (lastModified)
    return `last-modified ${lastModified instanceof Date ? lastModified.toUTCString() : lastModified}`;
  return "";
}

/** The complete length of a `Content-Range: bytes first-last/complete` header, if known. */
export function completeLength(contentRange: string | null | undefined): number | undefined {
  const m = /\/(\d+)\s*$/.exec(contentRange ?? "");
  return m ? Number(m[1]) : undefined;
}

interface Wanted {
  offset: number;
  length: number;
  resolve(v: Uint8Array | undefined): void;
  reject(e: unknown): void;
}

/**
 * Byte-range coalescing: ranges of one key asked for in the same turn of the event loop (zarrita
 * reading the inner chunks of a shard, the read task's look-ahead) are sorted and merged when the
 * gap between them is at most `maxGap` bytes and the merged request stays within `maxSpan`; each
 * merged range is one request, sliced for its callers. Suffix ranges (shard indexes) pass through.
 */
export class RangeCoalescer {
  readonly #pending = new Map<StoreKey, Wanted[]>();
  #scheduled = false;

  constructor(
    readonly fetchRange: (key: StoreKey, offset: number, length: number) => Promise<Uint8Array | undefined>,
    // Small enough that many requests coalescing at once stay within a few MiB each.
    readonly maxGap = 64 * 1024,
    readonly maxSpan = 4 * 2 ** 20,
  ) {}

  get(key: StoreKey, offset: number, length: number): Promise<Uint8Array | undefined> {
    if (length === 0) return Promise.resolve(new Uint8Array(0));
    return new Promise((resolve, reject) => {
      const list = this.#pending.get(key) ?? [];
      if (list.length === 0) this.#pending.set(key, list);
      list.push({ offset, length, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setTimeout(() => this.#flush(), 0);
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const batches = [...this.#pending];
    this.#pending.clear();
    for (const [key, wanted] of batches) {
      wanted.sort((a, b) => a.offset - b.offset);
      let group: Wanted[] = [];
      let start = 0;
      let end = 0;
      const send = () => {
        if (group.length) void this.#send(key, start, end, group);
      };
      for (const w of wanted) {
        const wEnd = w.offset + w.length;
        if (group.length && w.offset - end <= this.maxGap && Math.max(end, wEnd) - start <= this.maxSpan) {
          group.push(w);
          end = Math.max(end, wEnd);
          continue;
        }
        send();
        group = [w];
        start = w.offset;
        end = wEnd;
      }
      send();
    }
  }

  async #send(key: StoreKey, start: number, end: number, group: Wanted[]): Promise<void> {
    try {
      const bytes = await this.fetchRange(key, start, end - start);
      for (const w of group) {
        if (bytes === undefined) w.resolve(undefined);
        else {
          const from = Math.min(bytes.length, w.offset - start);
          w.resolve(bytes.subarray(from, Math.min(bytes.length, from + w.length)));
        }
      }
    } catch (err) {
      for (const w of group) w.reject(err);
    }
  }
}

/** Whether a store key names a Zarr metadata document (v2 or v3), rather than a chunk. */
export function isMetadataKey(key: string): boolean {
  const name = key.slice(key.lastIndexOf("/") + 1);
  return (
    name === "zarr.json" ||
    name === ".zarray" ||
    name === ".zgroup" ||
    name === ".zattrs" ||
    name === ".zmetadata"
  );
}
