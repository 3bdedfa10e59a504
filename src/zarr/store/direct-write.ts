/**
 * Chunk files written past the page cache with O_DIRECT (the optional addon native/directio,
 * Linux), when `GEOZARR_DIRECT_IO=1`. Why: on the virtual machines geozarr is measured on, the
 * kernel's copy of a conversion's output into freshly allocated page-cache pages cost 0.4-2 CPU s
 * per 700 MB (dd; docs/benchmarks.md "Convert"), a tenth of the full-size MUR conversion's CPU;
 * a DMA write from a reused aligned buffer costs a memcpy. Opt-in, because the write then waits for
 * the disk: on a slow disk a buffered write returns sooner (the kernel writes it back later).
 *
 * Read once per thread (the worker threads inherit the environment).
 *
 * @module
 */

import { getSystemErrorName } from "node:util";
import { addonLoader } from "../addons.js";

interface Addon {
  writeDirect(path: string, bytes: Uint8Array): number;
}

/** Smaller files go through the page cache: padding and the aligned copy would cost more. */
export const DIRECT_MIN_BYTES = 1 << 20;

const EINVAL = 22;

// Off unless GEOZARR_DIRECT_IO=1; not built (or not Linux): buffered writes.
const loadAddon = addonLoader<Addon>("directio", () => process.env.GEOZARR_DIRECT_IO === "1");

/** Whether this thread writes large files with O_DIRECT. */
export function directWrites(): boolean {
  return loadAddon() !== null;
}

/**
 * Write `bytes` to the file `path` (created or truncated) with O_DIRECT. False when not done (off,
 * not built, too small, or a file system without O_DIRECT): the caller writes it the usual way.
 * Throws an Error with `code` (ENOSPC, EIO, ...) when the write failed.
 */
export function writeDirect(path: string, bytes: Uint8Array): boolean {
  const a = loadAddon();
  if (!a || bytes.length < DIRECT_MIN_BYTES) return false;
  const r = a.writeDirect(path, bytes);
  if (r === 0) return true;
  if (r === -EINVAL) return false;
  const code = getSystemErrorName(r);
  throw Object.assign(new Error(`${code}: write failed`), { errno: r, code });
}
