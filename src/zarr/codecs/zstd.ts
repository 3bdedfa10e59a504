/**
 * Zstandard for Node: the native library through zstd-napi (built from source at install), with the
 * numcodecs WASM build as the fallback when the native addon is unavailable. Native is about 2x
 * faster in both directions (docs/benchmarks.md), and its decoder writes into a buffer we allocate
 * at the exact decoded size, which saves a copy per chunk.
 * @module
 */

import { createRequire } from "node:module";
import { GeoZarrError, messageOf } from "../../errors.js";

interface ZstdCCtx {
  compress(dst: Uint8Array, src: Uint8Array, level: number): number;
  setParameter(param: number, value: number): void;
  setPledgedSrcSize(size: number): void;
  reset(directive: number): void;
  compressStream2(dst: Uint8Array, src: Uint8Array, end: number): [number, number, number];
}

interface ZstdBinding {
  CCtx: new () => ZstdCCtx;
  CParameter: { compressionLevel: number };
  EndDirective: { continue: number; end: number };
  ResetDirective: { sessionAndParameters: number };
  DCtx: new () => { decompress(dst: Uint8Array, src: Uint8Array): number };
  getFrameContentSize(frame: Uint8Array): number | null;
  compressBound(size: number): number;
}
interface ZstdSimple {
  decompress(src: Uint8Array): Uint8Array;
}

/** A frame whose decoded size is not the size the caller expects (a chunk of the wrong size). */
export class SizeMismatch extends Error {
  constructor(
    readonly got: number,
    readonly expected: number,
  ) {
    super(`decodes to ${got} bytes, expected ${expected}`);
  }
}

let native: { binding: ZstdBinding; simple: ZstdSimple } | null | undefined;

/** The native binding, or null when zstd-napi did not build on this machine. */
export function nativeZstd(): { binding: ZstdBinding; simple: ZstdSimple } | null {
  if (native === undefined) {
    try {
      const require = createRequire(import.meta.url);
      native = { binding: require("zstd-napi/binding.js"), simple: require("zstd-napi") };
    } catch {
      native = null;
    }
  }
  return native;
}

// One compression and one decompression context per thread, reused: creating contexts per chunk
// costs allocations of several MB at level 1.
let cctx: InstanceType<ZstdBinding["CCtx"]> | undefined;
let dctx: InstanceType<ZstdBinding["DCtx"]> | undefined;
let scratch = new Uint8Array(0);

export function zstdCompress(src: Uint8Array, level: number): Uint8Array {
  const n = nativeZstd();
  if (!n) throw new GeoZarrError("Unsupported", "native zstd is not available (zstd-napi failed to build)");
  cctx ??= new n.binding.CCtx();
  const bound = n.binding.compressBound(src.length);
  if (scratch.length < bound) scratch = new Uint8Array(bound);
  const size = cctx.compress(scratch, src, level);
  return scratch.slice(0, size);
}

/** Decompress one zstd frame; into `dst` when given (it must be exactly the decoded size). */
export function zstdDecompress(src: Uint8Array, dst?: Uint8Array): Uint8Array {
  const n = nativeZstd();
  if (!n) throw new GeoZarrError("Unsupported", "native zstd is not available (zstd-napi failed to build)");
  const size = n.binding.getFrameContentSize(src);
  if (size === null) {
    // Streamed frames do not record their size; the simple API grows its output as needed.
    const out = n.simple.decompress(src);
    if (dst) {
      if (out.length !== dst.length) throw new SizeMismatch(out.length, dst.length);
      dst.set(out);
      return dst;
    }
    return out;
  }
  if (dst && dst.length !== size) throw new SizeMismatch(size, dst.length);
  const out = dst ?? new Uint8Array(size);
  dctx ??= new n.binding.DCtx();
  try {
    dctx.decompress(out, src);
  } catch (err) {
    throw new Error(`zstd: ${messageOf(err)}`);
  }
  return out;
}

/**
 * One zstd frame written in pieces (ZSTD_compressStream2), so a chunk can be compressed while it
 * is being produced, without holding it whole: a 4096 x 4096 float64 chunk is 128 MiB, its pieces
 * a few MiB. The total size is pledged up front, so the frame header records the content size
 * (numcodecs' decoder requires it). Not reentrant: one stream per thread at a time.
 */
export class ZstdStream {
  #out = new Uint8Array(1 << 20);
  #used = 0;
  #ctx: ZstdCCtx;
  #b: ZstdBinding;

  constructor() {
    const n = nativeZstd();
    if (!n) throw new GeoZarrError("Unsupported", "native zstd is not available (zstd-napi failed to build)");
    this.#b = n.binding;
    this.#ctx = new n.binding.CCtx();
  }

  begin(totalBytes: number, level: number): void {
    this.#ctx.reset(this.#b.ResetDirective.sessionAndParameters);
    this.#ctx.setParameter(this.#b.CParameter.compressionLevel, level);
    this.#ctx.setPledgedSrcSize(totalBytes);
    this.#used = 0;
  }

  #run(src: Uint8Array, end: boolean): void {
    let input = src;
    for (;;) {
      if (this.#out.length - this.#used < 1 << 17) {
        const bigger = new Uint8Array(this.#out.length * 2);
        bigger.set(this.#out.subarray(0, this.#used));
        this.#out = bigger;
      }
      const [remaining, written, consumed] = this.#ctx.compressStream2(
        this.#out.subarray(this.#used),
        input,
        end ? this.#b.EndDirective.end : this.#b.EndDirective.continue,
      );
      this.#used += written;
      input = input.subarray(consumed);
      if (end ? remaining === 0 : input.length === 0) return;
    }
  }

  write(src: Uint8Array): void {
    if (src.length > 0) this.#run(src, false);
  }

  /** Finish the frame; the result is a copy the caller owns. */
  end(): Uint8Array {
    this.#run(new Uint8Array(0), true);
    return this.#out.slice(0, this.#used);
  }
}
