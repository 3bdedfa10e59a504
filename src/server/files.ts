/**
 * Files served from disk (the store's files, the page, overviews in the disk cache), streamed.
 *
 * A file is never read whole: its bytes go from a read stream (64 KiB at a time, the byte range
 * only) into the response with backpressure, so memory per request stays at a buffer or two
 * whatever the file size (200 concurrent requests for a 32 MB chunk once took the server to
 * 3.5 GB when each file was read into memory). A client that goes away destroys the stream,
 * which closes the file.
 *
 * Confinement: the path is built from checked segments (no "..", ".", NUL or backslash), resolved
 * with realpath and must stay under the (real) root, so a symlink inside the root cannot lead out;
 * the resolved file is opened with O_NOFOLLOW and must be a regular file.
 *
 * @module
 */

import { constants, createReadStream } from "node:fs";
import { type FileHandle, open, realpath } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import { startBody } from "./http-util.js";

/** Segments of a request path, or null when one would leave the root ("..", "."). */
export function safeSegments(path: string): string[] | null {
  const segs = path.split("/").filter((s) => s.length > 0);
  return segs.some((s) => s === ".." || s === "." || s.includes("\0") || s.includes("\\")) ? null : segs;
}

/** The real path of `segs` under `root` (itself a real path), or null when missing or outside. */
export async function confined(root: string, segs: readonly string[]): Promise<string | null> {
  const real = await realpath(join(root, ...segs)).catch(() => null);
  return real && (real === root || real.startsWith(root + sep)) ? real : null;
}

/**
 * Send the file `segs` under `root`, whole or the request's byte range; false (nothing sent)
 * when there is no such regular file inside the root.
 */
export async function serveFile(
  req: IncomingMessage,
  res: ServerResponse,
  root: string,
  segs: readonly string[],
  type: string,
  headers: Record<string, string> = {},
): Promise<boolean> {
  const real = await confined(root, segs);
  if (!real) return false;
  let fh: FileHandle;
  try {
    fh = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return false;
  }
  let streaming = false;
  try {
    const st = await fh.stat();
    if (!st.isFile()) return false;
    const body = startBody(req, res, st.size, type, headers);
    if (!body) return true;
    const { start, end } = body;
    streaming = true;
    // The stream owns the handle from here: it closes it at the end, on error and when destroyed.
    const stream = createReadStream(real, { fd: fh, start, end, highWaterMark: 64 * 1024 });
    // A client that disconnects (or a read error mid-way) rejects the pipeline after both ends
    // are destroyed; the response is already under way, so there is nothing left to answer.
    await pipeline(stream, res).catch(() => undefined);
    return true;
  } finally {
    if (!streaming) await fh.close();
  }
}
