/**
 * The two zstd backends (src/zarr/codecs/zstd.ts): this process runs the native one (zstd-napi is
 * built by `npm install`); the WASM encoder is called directly, and numcodecs' WASM decoder (what
 * zarrita uses without the native codec) reads the native frames.
 */

import Zstd from "numcodecs/zstd";
import { describe, expect, it } from "vitest";
import { isGeoZarrError } from "../../src/errors.js";
import { codecChoiceOf } from "../../src/zarr/codecs/choice.js";
import {
  checkWasmZstdLevel,
  nativeZstd,
  wasmZstdCompress,
  ZstdStream,
  zstdBackend,
  zstdCompress,
  zstdDecompress,
  zstdWorkerEnv,
} from "../../src/zarr/codecs/zstd.js";

/** 1 MiB of float64: a smooth field quantised to 0.001 plus a little noise (MUR-like, compressible). */
const field = (() => {
  let x = 2463534242;
  const a = Float64Array.from({ length: 1 << 17 }, (_, i) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return Math.round((280 + 10 * Math.sin(i / 700) + ((x >>> 0) % 50) / 1000) * 1000) / 1000;
  });
  return new Uint8Array(a.buffer);
})();

/** Byte equality without vitest's element-by-element deep equality (slow on MBs). */
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

const wasmDecode = async (b: Uint8Array) => Zstd.fromConfig({ id: "zstd", level: 1 }).decode(b);

describe("zstd backends", () => {
  it("this test process runs the native backend, and tells its workers so", () => {
    expect(process.env.GEOZARR_ZSTD ?? "").toBe("");
    expect(zstdBackend()).toEqual({ backend: "native" });
    expect(nativeZstd()).not.toBeNull();
    expect(zstdWorkerEnv()).toEqual({ GEOZARR_ZSTD: "native" });
  });

  it("the WASM encoder honours levels: 19 is smaller than 1, 0 is zstd's default (3)", async () => {
    const l1 = await wasmZstdCompress(field, 1);
    const l19 = await wasmZstdCompress(field, 19);
    expect(l19.length).toBeLessThan(l1.length * 0.95);
    expect(same(await wasmZstdCompress(field, 0), await wasmZstdCompress(field, 3))).toBe(true);
    expect((await wasmZstdCompress(field, 3)).length).not.toBe(l1.length);
    // Both decode natively to the input.
    expect(same(zstdDecompress(l1, new Uint8Array(field.length)), field)).toBe(true);
    expect(same(zstdDecompress(l19), field)).toBe(true);
  });

  it("frames cross backends: native one-shot and streamed frames decode with numcodecs' WASM", async () => {
    const oneShot = await zstdCompress(field, 1);
    expect(same(await wasmDecode(oneShot), field)).toBe(true);
    const s = new ZstdStream();
    s.begin(field.length, 3);
    for (let i = 0; i < field.length; i += 1 << 18) s.write(field.subarray(i, i + (1 << 18)));
    expect(same(await wasmDecode(s.end()), field)).toBe(true);
  });

  it("the WASM encoder refuses negative levels instead of writing another level", async () => {
    for (const level of [-1, -131072, 23]) {
      const err = await wasmZstdCompress(field, level).catch((e: unknown) => e);
      expect(isGeoZarrError(err, "Unsupported")).toBe(true);
      expect((err as Error).message).toBe(
        `zstd level ${level} needs the native zstd codec (zstd-napi); the WebAssembly fallback writes levels 0 to 22`,
      );
    }
    expect(checkWasmZstdLevel(22)).toBe(22);
    // With the native backend the same level is accepted up front and written.
    expect(codecChoiceOf("zstd:-5")).toEqual({ name: "zstd", level: -5 });
    expect(same(zstdDecompress(await zstdCompress(field, -5)), field)).toBe(true);
  });
});
