/**
 * CRC-32C (Castagnoli), the checksum of the v3 `crc32c` codec (zarr-specs codecs/crc32c), used on
 * shard indexes. Table-driven, slicing-by-1: shard indexes are small.
 * @module
 */

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Append the little-endian CRC-32C of `data` (the codec's encoded form). */
export function appendCrc32c(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 4);
  out.set(data);
  new DataView(out.buffer).setUint32(data.length, crc32c(data), true);
  return out;
}

/**
 * The `crc32c` codec's decode (zarr-specs codecs/crc32c): check the trailing little-endian CRC-32C
 * and return the bytes before it. A mismatch means corrupt data (a shard index whose entries were
 * swapped would otherwise read as wrong values): it throws, naming both checksums.
 */
export function stripCrc32c(data: Uint8Array): Uint8Array {
  if (data.length < 4) throw new Error(`crc32c: ${data.length} bytes, too short to hold a checksum`);
  const body = data.subarray(0, data.length - 4);
  const stored = new DataView(data.buffer, data.byteOffset + body.length, 4).getUint32(0, true);
  const computed = crc32c(body);
  if (stored !== computed) {
    const hex = (n: number) => `0x${n.toString(16).padStart(8, "0")}`;
    throw new Error(
      `crc32c checksum mismatch (stored ${hex(stored)}, computed ${hex(computed)}): the bytes are corrupt`,
    );
  }
  return body;
}
