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

export function sendError(res: ServerResponse, err: unknown): void {
  if (isGeoZarrError(err)) {
    sendJson(res, { error: err.message, tag: err.tag }, STATUS[err.tag]);
    return;
  }
  sendJson(res, { error: "internal error" }, 500);
  console.error(err);
}

/** A single "bytes=a-b" / "bytes=a-" / "bytes=-n" range, or null (absent, multiple, or unsatisfiable). */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | "invalid" | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return "invalid";
  let start: number;
  let end: number;
  if (m[1] === "") {
    const n = Number(m[2]);
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) return "invalid";
  return { start, end };
}

export function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return undefined;
}
