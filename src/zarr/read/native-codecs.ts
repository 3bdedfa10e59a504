/**
 * Native codecs for zarrita on Node: zstd through zstd-napi, gzip and zlib through node:zlib, and a
 * bzip2 decoder for numcodecs' BZ2. zarrita's own registry entries (numcodecs WASM, and
 * DecompressionStream for gzip/zlib) stay the browser path, and zarrita's numcodecs zstd is the
 * WASM backend's decoder (codecs/zstd.ts): zstd is registered only when the native backend is in
 * use. Registration is explicit and idempotent: nothing happens at import time.
 *
 * @module
 */

import * as zarr from "zarrita";
import { bz2Decode } from "../codecs/bz2.js";
import { appendCrc32c, stripCrc32c } from "../codecs/crc32c.js";
import { gzipDecode, gzipEncode, zlibDecode, zlibEncode } from "../codecs/deflate.js";
import { nativeZstd, zstdCompress, zstdDecompress } from "../codecs/zstd.js";

type Bytes = Uint8Array;

function bytesCodec(
  decode: (b: Bytes) => Bytes,
  encode?: (b: Bytes, level: number) => Bytes | Promise<Bytes>,
  defaultLevel = 1,
): { fromConfig(config?: { level?: number }): unknown } {
  return class {
    readonly kind = "bytes_to_bytes";
    readonly level: number;
    constructor(level: number) {
      this.level = level;
    }
    static fromConfig(config?: { level?: number }) {
      return new this(config?.level ?? defaultLevel);
    }
    async encode(b: Bytes): Promise<Bytes> {
      if (!encode) throw new Error("encoding is not supported");
      return encode(b, this.level);
    }
    async decode(b: Bytes): Promise<Bytes> {
      return decode(b);
    }
  };
}

let registered = false;

export function registerNativeCodecs(): void {
  if (registered) return;
  registered = true;
  const set = (names: string[], codec: ReturnType<typeof bytesCodec>) => {
    for (const n of names) zarr.registry.set(n, async () => codec as never);
  };
  if (nativeZstd())
    set(
      ["zstd", "numcodecs.zstd"],
      bytesCodec((b) => zstdDecompress(b), zstdCompress),
    );
  set(["gzip", "numcodecs.gzip"], bytesCodec(gzipDecode, gzipEncode, 5));
  set(["zlib", "numcodecs.zlib"], bytesCodec(zlibDecode, zlibEncode, 5));
  set(["numcodecs.bz2"], bytesCodec(bz2Decode));
  // zarrita's crc32c only strips the checksum; ours checks it (shard indexes, chunks).
  zarr.registry.set("crc32c", async () => Crc32cCodec as never);
  // zarrita's vlen-utf8 reads its input's whole ArrayBuffer from byte 0 (`new DataView(bytes.buffer)`),
  // so bytes that are a view into a larger buffer (an inner chunk of a shard) decode to nothing:
  // hand it bytes of their own.
  const vlen = zarr.registry.get("vlen-utf8");
  if (vlen) {
    const owned = async () => {
      const Inner = (await vlen()) as unknown as ArrayToBytes;
      return {
        fromConfig(config: unknown, meta: unknown) {
          const inner = Inner.fromConfig(config, meta);
          return {
            kind: "array_to_bytes",
            encode: (a: unknown) => inner.encode(a),
            decode: (b: Bytes) =>
              inner.decode(b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b : b.slice()),
          };
        },
      } as never;
    };
    for (const n of ["vlen-utf8", "numcodecs.vlen-utf8"]) zarr.registry.set(n, owned);
  }
}

interface ArrayToBytes {
  fromConfig(config: unknown, meta: unknown): { encode(a: unknown): unknown; decode(b: Bytes): unknown };
}

class Crc32cCodec {
  readonly kind = "bytes_to_bytes";
  static fromConfig() {
    return new Crc32cCodec();
  }
  async encode(b: Bytes): Promise<Bytes> {
    return appendCrc32c(b);
  }
  async decode(b: Bytes): Promise<Bytes> {
    return stripCrc32c(b);
  }
  computeEncodedSize(decodedSize: number): number {
    return decodedSize + 4;
  }
}
