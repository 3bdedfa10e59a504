/**
 * Zstandard for zarrita (and so for OpenLayers' GeoZarr source, which uses the same zarrita) from
 * fzstd, pure JavaScript. zarrita's default, numcodecs' Emscripten build, generates code at run
 * time (`new Function`), which the inspector's Content-Security-Policy forbids ('unsafe-eval');
 * fzstd needs nothing of the kind and also decodes frames without a content size (streamed).
 */

import { decompress } from "fzstd";
import { registry } from "zarrita";

class FzstdCodec {
  readonly kind = "bytes_to_bytes";
  static fromConfig(): FzstdCodec {
    return new FzstdCodec();
  }
  encode(): never {
    throw new Error("the inspector is read-only: no zstd encoder");
  }
  decode(bytes: Uint8Array): Uint8Array {
    return decompress(bytes);
  }
}

export function registerCodecs(): void {
  const codec = () => FzstdCodec as never;
  registry.set("zstd", codec);
  registry.set("numcodecs.zstd", codec);
}
