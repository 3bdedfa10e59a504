/**
 * bzip2 decoding for numcodecs' BZ2 compressor (zarr-python v2 stores), through seek-bzip (pure JS).
 * Decode only: we never write bz2, it is slow and has no v3 codec.
 * @module
 */

import { createRequire } from "node:module";

interface SeekBzip {
  decode(input: Uint8Array, output?: Uint8Array, multistream?: boolean): Uint8Array;
}

let bunzip: SeekBzip | undefined;

export function bz2Decode(src: Uint8Array): Uint8Array {
  bunzip ??= createRequire(import.meta.url)("seek-bzip") as SeekBzip;
  // numcodecs writes one stream per chunk; multistream also accepts concatenated ones.
  const out = bunzip.decode(Buffer.from(src.buffer, src.byteOffset, src.byteLength), undefined, true);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
