/**
 * Small HTTP helpers for the inspector server: JSON and error responses, content types, the
 * error-tag to status table, byte ranges.
 * @module
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import { type ErrorTag, isGeoZarrError } from "../errors.js";
import { toStrictJson } from "../zarr/json.js";

/** One table from error tag to HTTP status (an unexpected error is a 500). */
export const STATUS: Record<ErrorTag, number> = {
  NotFound: 404,
  Usage: 400,
  InvalidMetadata: 422,
  Codec: 422,
  ChunkSize: 422,
  Format: 422,
  Unsupported: 422,
  Exists: 409,
  IO: 500,
};

export const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".wasm": "application/wasm",
};

/** Headers every response carries: no framing, no MIME sniffing, same-origin resources only. */
export const SECURITY_HEADERS: Record<string, string> = {
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Content-Security-Policy":
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
};

export function send(
  res: ServerResponse,
  status: number,
  body: string | Uint8Array,
  type: string,
  extra: Record<string, string> = {},
): void {
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    "Content-Type": type,
    "Content-Length": String(bytes.length),
    ...extra,
  });
  res.end(res.req.method === "HEAD" ? undefined : bytes);
}

export function sendJson(res: ServerResponse, value: unknown, status = 200): void {
  send(res, status, toStrictJson(value, 0), "application/json", { "Cache-Control": "no-store" });
}

/** Answer a failed request: a GeoZarrError by its tag; anything else is a bug, logged with its stack. */
export function sendError(res: ServerResponse, err: unknown, log: (line: string) => void): void {
  const known = isGeoZarrError(err);
  if (!known) log(`geozarr: internal error: ${(err as Error)?.stack ?? String(err)}`);
  // A failure once the response is under way: the client sees a short body.
  if (res.headersSent) res.destroy();
  else if (known) sendJson(res, { error: err.message, tag: err.tag }, STATUS[err.tag]);
  else sendJson(res, { error: "internal error" }, 500);
}

/**
 * The byte range of a `Range` header (RFC 9110 section 14): one "bytes=a-b", "bytes=a-" or
 * "bytes=-n". Null when absent, or when it is not one valid bytes range (several ranges, another
 * unit, last < first, garbage): a server may ignore such a header and send the whole file
 * (section 14.2). "unsatisfiable" (416) when the range starts at or beyond the end.
 */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | "unsatisfiable" | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return null;
  if (m[1] === "") {
    // Suffix: the last n bytes (all of them when n exceeds the size); none is unsatisfiable.
    const n = Number(m[2]);
    if (n === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const last = m[2] === "" ? Number.POSITIVE_INFINITY : Number(m[2]);
  if (last < start) return null;
  if (start >= size) return "unsatisfiable";
  return { start, end: Math.min(last, size - 1) };
}

/**
 * Answer the head of a GET or HEAD for a value of `size` bytes, whole or the request's byte range
 * (RFC 9110 §14): the bytes [start, end] the body is to carry next, or null when the answer is
 * complete already (416 for an unsatisfiable range, a HEAD, an empty value).
 */
export function startBody(
  req: IncomingMessage,
  res: ServerResponse,
  size: number,
  type: string,
  headers: Record<string, string> = {},
): { start: number; end: number } | null {
  const range = parseRange(req.headers.range, size);
  if (range === "unsatisfiable") {
    send(res, 416, "", "text/plain", { "Content-Range": `bytes */${size}` });
    return null;
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? size - 1;
  res.writeHead(range ? 206 : 200, {
    ...SECURITY_HEADERS,
    "Content-Type": type,
    "Content-Length": String(end - start + 1),
    "Accept-Ranges": "bytes",
    ...(range ? { "Content-Range": `bytes ${start}-${end}/${size}` } : {}),
    ...headers,
  });
  if (req.method === "HEAD" || size === 0) {
    res.end();
    return null;
  }
  return { start, end };
}

/** Longest request target (path and query) answered; longer ones get 414. */
export const MAX_TARGET = 8192;

/**
 * The decoded path and the query of a request target, or the 4xx to answer. Only the origin form
 * ("/path?query") is accepted; a malformed percent-escape in the path is a 400, not an exception.
 * Dot segments are not resolved here: the routes refuse them (files.ts `safeSegments`).
 */
export function parseTarget(
  target: string | undefined,
): { path: string; query: URLSearchParams } | { status: number; error: string } {
  const t = target ?? "";
  if (t.length > MAX_TARGET)
    return { status: 414, error: `request target longer than ${MAX_TARGET} characters` };
  if (!t.startsWith("/")) return { status: 400, error: "the request target must be a path starting with /" };
  const q = t.indexOf("?");
  const raw = q < 0 ? t : t.slice(0, q);
  try {
    return { path: decodeURIComponent(raw), query: new URLSearchParams(q < 0 ? "" : t.slice(q + 1)) };
  } catch {
    return {
      status: 400,
      error: `malformed percent-escape in the path ${JSON.stringify(raw.slice(0, 200))}`,
    };
  }
}

export function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return undefined;
}
