/**
 * The compression a writer applies, chosen by the user ("zstd:1", "gzip:5",
 * "blosc:zstd:5:shuffle", "none"), and how it is recorded in v2 and v3 metadata.
 *
 * v2: the numcodecs `compressor` object (numcodecs 0.11 configs, which every zarr-python reads).
 * v3: the bytes-to-bytes codecs after `bytes` (zarr-specs codecs/{zstd,gzip,blosc}).
 *
 * @module
 */

import { GeoZarrError } from "../../errors.js";
import type { JsonObject } from "../json.js";
import type { CodecSpec } from "../metadata/model.js";
import { type BloscCname, type BloscShuffle, bloscEncode } from "./blosc.js";
import { gzipEncode, zlibEncode } from "./deflate.js";
import { checkWasmZstdLevel, nativeZstd, zstdCompress } from "./zstd.js";

export type CodecChoice =
  | { name: "none" }
  | { name: "zstd"; level: number }
  | { name: "gzip"; level: number }
  | { name: "zlib"; level: number }
  | { name: "blosc"; cname: BloscCname; clevel: number; shuffle: BloscShuffle };

export const DEFAULT_CODEC: CodecChoice = { name: "zstd", level: 1 };

const usage = (s: string, why: string) =>
  new GeoZarrError(
    "Usage",
    `--codec ${s}: ${why} (expected zstd:LEVEL, gzip:LEVEL, zlib:LEVEL, blosc:CNAME:LEVEL:SHUFFLE or none)`,
  );

function level(s: string, raw: string | undefined, lo: number, hi: number, fallback: number): number {
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < lo || n > hi)
    throw usage(s, `level must be an integer from ${lo} to ${hi}`);
  return n;
}

export function parseCodecChoice(s: string): CodecChoice {
  const [name, ...rest] = s.split(":");
  switch (name) {
    case "none":
      if (rest.length) throw usage(s, "none takes no parameters");
      return { name: "none" };
    case "zstd":
      return { name: "zstd", level: level(s, rest[0], -131072, 22, 1) };
    case "gzip":
    case "zlib":
      return { name, level: level(s, rest[0], 0, 9, 5) };
    case "blosc": {
      const [cname = "zstd", clevel, shuffle = "shuffle"] = rest;
      if (cname !== "zstd" && cname !== "zlib" && cname !== "lz4")
        throw usage(s, `blosc compressor must be zstd, zlib or lz4`);
      if (shuffle !== "noshuffle" && shuffle !== "shuffle" && shuffle !== "bitshuffle") {
        throw usage(s, "blosc shuffle must be noshuffle, shuffle or bitshuffle");
      }
      return { name: "blosc", cname, clevel: level(s, clevel, 0, 9, 5), shuffle };
    }
    default:
      throw usage(s, `unknown codec ${JSON.stringify(name)}`);
  }
}

/**
 * An option given as a spec string ("zstd:1") or already parsed; zstd level 1 when absent. A level
 * the WASM zstd backend cannot write (negative) is refused here, before anything is read.
 */
export function codecChoiceOf(c: CodecChoice | string | undefined): CodecChoice {
  const choice = typeof c === "string" ? parseCodecChoice(c) : (c ?? DEFAULT_CODEC);
  if (choice.name === "zstd" && nativeZstd() === null) checkWasmZstdLevel(choice.level);
  return choice;
}

export function formatCodecChoice(c: CodecChoice): string {
  switch (c.name) {
    case "none":
      return "none";
    case "blosc":
      return `blosc:${c.cname}:${c.clevel}:${c.shuffle}`;
    default:
      return `${c.name}:${c.level}`;
  }
}

/** Compress encoded chunk bytes. `typesize` is the element size (Blosc shuffles by it). */
export async function compressBytes(
  c: CodecChoice,
  bytes: Uint8Array,
  typesize: number,
): Promise<Uint8Array> {
  switch (c.name) {
    case "none":
      return bytes.slice(); // callers own the result; `bytes` may be a reused buffer
    case "zstd":
      return zstdCompress(bytes, c.level);
    case "gzip":
      return gzipEncode(bytes, c.level);
    case "zlib":
      return zlibEncode(bytes, c.level);
    case "blosc":
      return bloscEncode(bytes, { cname: c.cname, clevel: c.clevel, shuffle: c.shuffle, typesize });
  }
}

const BLOSC_SHUFFLE_V2: Record<BloscShuffle, number> = { noshuffle: 0, shuffle: 1, bitshuffle: 2 };

/** The v2 `compressor` document. */
export function v2Compressor(c: CodecChoice): JsonObject | null {
  switch (c.name) {
    case "none":
      return null;
    case "blosc":
      return {
        id: "blosc",
        cname: c.cname,
        clevel: c.clevel,
        shuffle: BLOSC_SHUFFLE_V2[c.shuffle],
        blocksize: 0,
      };
    default:
      return { id: c.name, level: c.level };
  }
}

/** The v3 bytes-to-bytes codecs that follow `bytes`. */
export function v3Compressors(c: CodecChoice, typesize: number): CodecSpec[] {
  switch (c.name) {
    case "none":
      return [];
    case "zstd":
      return [{ name: "zstd", configuration: { level: c.level, checksum: false } }];
    case "gzip":
      return [{ name: "gzip", configuration: { level: c.level } }];
    case "zlib":
      throw new GeoZarrError(
        "Usage",
        "--codec zlib: Zarr v3 has no zlib codec; use gzip (the same DEFLATE stream)",
      );
    case "blosc":
      return [
        {
          name: "blosc",
          configuration: { cname: c.cname, clevel: c.clevel, shuffle: c.shuffle, typesize, blocksize: 0 },
        },
      ];
  }
}

/**
 * The choice an array's own codec chain records (what an append keeps writing with), or null when
 * it is not one geozarr writes: the inverse of {@link v2Compressor} and {@link v3Compressors}.
 */
export function codecChoiceOfChain(codecs: readonly CodecSpec[]): CodecChoice | null {
  const rest = codecs.filter((c) => c.name !== "bytes" && c.name !== "transpose");
  if (rest.length === 0) return { name: "none" };
  if (rest.length !== 1) return null;
  const c = rest[0]!;
  const cfg = c.configuration ?? {};
  const num = (v: unknown, d: number) => (typeof v === "number" ? v : d);
  switch (c.name.replace(/^numcodecs\./, "")) {
    case "zstd":
      return { name: "zstd", level: num(cfg.level, 0) };
    case "gzip":
      return { name: "gzip", level: num(cfg.level, 5) };
    case "zlib":
      return { name: "zlib", level: num(cfg.level, 5) };
    case "blosc": {
      const cname = cfg.cname;
      if (cname !== "zstd" && cname !== "zlib" && cname !== "lz4") return null;
      // v2 (numcodecs) numbers the shuffle 0/1/2, v3 names it.
      const sh = cfg.shuffle;
      const shuffle =
        sh === 0 || sh === "noshuffle"
          ? "noshuffle"
          : sh === 2 || sh === "bitshuffle"
            ? "bitshuffle"
            : "shuffle";
      return { name: "blosc", cname, clevel: num(cfg.clevel, 5), shuffle };
    }
    default:
      return null;
  }
}
