/**
 * Zstandard for Node, with two backends chosen once per thread (docs/design.md "zstd backends"):
 *
 * - native: zstd-napi, an optional dependency built from source by node-gyp at install. About 2x
 *   the WASM build both ways (docs/benchmarks.md); its decoder writes into a buffer we allocate at
 *   the exact decoded size (a copy saved per chunk), and it streams compression (ZstdStream).
 * - wasm: numcodecs' Emscripten build (already a dependency through zarrita), used when zstd-napi
 *   is absent or was never built (`npm install --ignore-scripts`, npm's allowScripts policy).
 *   Reading goes through zarrita's default registry entry (the same numcodecs codec); writing
 *   through {@link zstdCompress}. The frames are valid zstd but need not be byte-identical to the
 *   native ones (another zstd version); the decoded values are the same.
 *
 * GEOZARR_ZSTD=wasm forces the fallback (a diagnostic switch, and how the tests run both backends
 * in one install); GEOZARR_ZSTD=native refuses to fall back. Worker threads inherit the decision of
 * the thread that starts them ({@link zstdWorkerEnv}), so one conversion never mixes backends.
 * @module
 */

import { createRequire } from "node:module";
import type { Codec as WasmCodec } from "numcodecs";
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

type Native = { binding: ZstdBinding; simple: ZstdSimple };

export type ZstdBackend = "native" | "wasm";

export interface ZstdBackendInfo {
  backend: ZstdBackend;
  /** Why the native codec is not used (absent for native): forced, not installed or not built. */
  reason?: "forced" | "not-installed" | "not-built";
  /** The loader's error when zstd-napi could not be loaded. */
  detail?: string;
}

/** The environment variable that chooses the backend: unset or "auto", "native", "wasm". */
export const ZSTD_ENV = "GEOZARR_ZSTD";

let chosen: { info: ZstdBackendInfo; native: Native | null } | undefined;

function loadNative(): { native: Native } | { reason: "not-installed" | "not-built"; detail: string } {
  const require = createRequire(import.meta.url);
  try {
    return { native: { binding: require("zstd-napi/binding.js"), simple: require("zstd-napi") } };
  } catch (err) {
    let installed = true;
    try {
      require.resolve("zstd-napi/package.json");
    } catch {
      installed = false;
    }
    return { reason: installed ? "not-built" : "not-installed", detail: messageOf(err).split("\n")[0]! };
  }
}

function choose(): { info: ZstdBackendInfo; native: Native | null } {
  const want = process.env[ZSTD_ENV] ?? "";
  if (want === "wasm") return { info: { backend: "wasm", reason: "forced" }, native: null };
  if (want !== "" && want !== "auto" && want !== "native")
    throw new GeoZarrError(
      "Usage",
      `${ZSTD_ENV} must be "native", "wasm" or "auto" (or unset), got ${JSON.stringify(want)}`,
    );
  const r = loadNative();
  if ("native" in r) return { info: { backend: "native" }, native: r.native };
  if (want === "native")
    throw new GeoZarrError("Unsupported", `${ZSTD_ENV}=native but zstd-napi cannot be loaded: ${r.detail}`);
  return { info: { backend: "wasm", reason: r.reason, detail: r.detail }, native: null };
}

/** Which zstd this thread uses, and why; decided on the first call (it may load zstd-napi). */
export function zstdBackend(): ZstdBackendInfo {
  chosen ??= choose();
  return chosen.info;
}

/** The native binding, or null when this thread uses the WASM backend. */
export function nativeZstd(): Native | null {
  chosen ??= choose();
  return chosen.native;
}

/** The environment a worker thread starts with, so that it picks this thread's backend. */
export function zstdWorkerEnv(): Record<string, string> {
  return { [ZSTD_ENV]: zstdBackend().backend };
}

// One compression and one decompression context per thread, reused: creating contexts per chunk
// costs allocations of several MB at level 1.
let cctx: InstanceType<ZstdBinding["CCtx"]> | undefined;
let dctx: InstanceType<ZstdBinding["DCtx"]> | undefined;
let scratch = new Uint8Array(0);

/** Compress one zstd frame (one shot) with this thread's backend. */
export async function zstdCompress(src: Uint8Array, level: number): Promise<Uint8Array> {
  const n = nativeZstd();
  if (!n) return wasmZstdCompress(src, level);
  cctx ??= new n.binding.CCtx();
  const bound = n.binding.compressBound(src.length);
  if (scratch.length < bound) scratch = new Uint8Array(bound);
  const size = cctx.compress(scratch, src, level);
  return scratch.slice(0, size);
}

let wasmCodecs: Promise<(level: number) => WasmCodec> | undefined;

/** zstd's default level (ZSTD_CLEVEL_DEFAULT), what level 0 means to the zstd library. */
const ZSTD_DEFAULT_LEVEL = 3;

/**
 * The levels the WASM encoder honours. numcodecs.js maps levels <= 0 to its default (1) and has no
 * negative (fast) levels; level 0 is sent as zstd's own default (3), as the native library reads
 * it, and negative levels are refused rather than silently written at another level.
 */
export function checkWasmZstdLevel(level: number): number {
  if (level === 0) return ZSTD_DEFAULT_LEVEL;
  if (!Number.isInteger(level) || level < 1 || level > 22)
    throw new GeoZarrError(
      "Unsupported",
      `zstd level ${level} needs the native zstd codec (zstd-napi); the WebAssembly fallback writes levels 0 to 22`,
    );
  return level;
}

function wasmCodec(): Promise<(level: number) => WasmCodec> {
  // Loaded once per thread (a 750 KB module with its WASM inline); the codec objects are trivial.
  wasmCodecs ??= import("numcodecs/zstd").then(
    (m) => (level: number) => m.default.fromConfig({ id: "zstd", level }),
  );
  return wasmCodecs;
}

/** One zstd frame through numcodecs' WASM build: the fallback's encoder. */
export async function wasmZstdCompress(src: Uint8Array, level: number): Promise<Uint8Array> {
  const codec = (await wasmCodec())(checkWasmZstdLevel(level));
  return codec.encode(src);
}

/**
 * Decompress one zstd frame natively; into `dst` when given (it must be exactly the decoded size).
 * Native only: with the WASM backend, chunks are decoded by zarrita's numcodecs codec instead.
 */
export function zstdDecompress(src: Uint8Array, dst?: Uint8Array): Uint8Array {
  const n = nativeZstd();
  if (!n) throw new GeoZarrError("Unsupported", "zstdDecompress needs the native zstd backend");
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
 * (numcodecs' decoder requires it). Not reentrant: one stream per thread at a time. Native only:
 * with the WASM backend, chunks are compressed whole (encode-task.ts).
 */
export class ZstdStream {
  #out = new Uint8Array(0);
  #used = 0;
  #ctx: ZstdCCtx;
  #b: ZstdBinding;

  constructor() {
    const n = nativeZstd();
    if (!n) throw new GeoZarrError("Unsupported", "ZstdStream needs the native zstd backend");
    this.#b = n.binding;
    this.#ctx = new n.binding.CCtx();
  }

  begin(totalBytes: number, level: number): void {
    // Room for the whole frame up front: the pages of a fresh buffer are only faulted in as the
    // frame is written, whereas growing by doubling copied (and faulted) every smaller buffer
    // first: 1 + 2 + ... + 32 MiB per worker for MUR's largest chunks.
    const bound = this.#b.compressBound(totalBytes);
    if (this.#out.length < bound) this.#out = new Uint8Array(bound);
    this.#ctx.reset(this.#b.ResetDirective.sessionAndParameters);
    this.#ctx.setParameter(this.#b.CParameter.compressionLevel, level);
    this.#ctx.setPledgedSrcSize(totalBytes);
    this.#used = 0;
  }

  #run(src: Uint8Array, end: boolean): void {
    let input = src;
    for (;;) {
      // Never with the bound reserved in begin; kept so no frame can outgrow the buffer.
      if (this.#used === this.#out.length) {
        const bigger = new Uint8Array(Math.max(1 << 20, this.#out.length * 2));
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

  /**
   * Finish the frame: a copy the caller owns, or with `copy` false a view of the stream's buffer,
   * valid until the next `begin` (a caller that writes the frame at once saves the copy).
   */
  end(copy = true): Uint8Array {
    this.#run(new Uint8Array(0), true);
    return copy ? this.#out.slice(0, this.#used) : this.#out.subarray(0, this.#used);
  }
}
