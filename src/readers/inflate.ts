/**
 * Inflating HDF5's deflate filter (a zlib stream, H5Zdeflate.c) into a buffer kept per thread:
 * through libdeflate when the optional addon (native/inflate, built at install where libdeflate's
 * header is present) loads, otherwise through node:zlib. libdeflate is about twice as fast on MUR's
 * chunks and writes into our buffer, where node:zlib allocates a new one per chunk (page faults and
 * garbage collection on top of the inflate). Measured in bench/limits (docs/benchmarks.md).
 *
 * GEOZARR_INFLATE=zlib forces node:zlib (a diagnostic switch, and how the tests cover both paths).
 *
 * @module
 */

import { inflateSync } from "node:zlib";
import { addonLoader } from "../zarr/addons.js";

interface Addon {
  zlibInto(src: Uint8Array, dst: Uint8Array): number;
}

// GEOZARR_INFLATE=zlib: node:zlib whatever is built.
const loadAddon = addonLoader<Addon>("inflate", () => process.env.GEOZARR_INFLATE !== "zlib");

/** Which inflater this thread uses. */
export function inflateBackend(): "libdeflate" | "zlib" {
  return loadAddon() ? "libdeflate" : "zlib";
}

const RESULTS: Record<number, string> = {
  [-2]: "invalid deflate data",
  [-3]: "the stream ends early",
  [-4]: "the stream is longer than expected",
};

let out = new Uint8Array(0);

/**
 * The `size` bytes a zlib stream decompresses to: a view of a buffer reused by the next call on
 * this thread (libdeflate) or a new buffer (node:zlib). Throws an Error saying what is wrong when the
 * stream is corrupt or does not decompress to exactly `size` bytes.
 */
export function inflateChunk(src: Uint8Array, size: number): Uint8Array {
  const a = loadAddon();
  if (a) {
    if (out.length < size) out = new Uint8Array(size);
    const dst = out.subarray(0, size);
    const n = a.zlibInto(src, dst);
    if (n < 0) throw new Error(RESULTS[n] ?? `libdeflate error ${n}`);
    if (n !== size) throw new Error(`${n} bytes, expected ${size}`);
    return dst;
  }
  // One output buffer of the chunk's size (plus room to see the stream end): the default 16 KiB
  // pieces would be concatenated afterwards, a second copy of every chunk.
  const bytes = inflateSync(src, { chunkSize: size + 64, maxOutputLength: size + 64 });
  if (bytes.length !== size) throw new Error(`${bytes.length} bytes, expected ${size}`);
  return bytes;
}
