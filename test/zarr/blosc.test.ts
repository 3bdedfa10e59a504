import Blosc from "numcodecs/blosc";
import { describe, expect, it } from "vitest";
import { bitShuffle, bloscEncode, byteShuffle } from "../../src/zarr/codecs/blosc.js";

const floats = Float64Array.from({ length: 5000 }, (_, i) => 280 + Math.sin(i / 50) * 10);
const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

describe("Blosc encoder", () => {
  it.each([
    ["zstd", "shuffle", 0x01],
    ["lz4", "bitshuffle", 0x04],
    ["zlib", "noshuffle", 0x00],
  ] as const)(
    "records typesize 8 and the %s / %s flags in the header, and c-blosc decodes it",
    async (cname, shuffle, flag) => {
      const enc = await bloscEncode(bytesOf(floats), { cname, clevel: 5, shuffle, typesize: 8 });
      expect(enc[0]).toBe(2); // format version
      expect(enc[3]).toBe(8); // typesize
      expect(enc[2]! & 0x07).toBe(flag);
      expect(enc[2]! >> 5).toBe({ lz4: 1, zlib: 3, zstd: 4 }[cname]);
      expect(new DataView(enc.buffer).getUint32(4, true)).toBe(floats.byteLength);
      expect(new DataView(enc.buffer).getUint32(12, true)).toBe(enc.length);
      // numcodecs' WASM build of c-blosc decodes it
      const dec = await Blosc.fromConfig({}).decode(enc);
      expect(new Float64Array(dec.buffer, dec.byteOffset, floats.length)).toEqual(floats);
    },
  );

  it("stores incompressible data as a memcpy'd frame", async () => {
    let x = 2463534242;
    const noise = Uint8Array.from({ length: 4096 }, () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return x & 255; // xorshift32: incompressible
    });
    const enc = await bloscEncode(noise, { cname: "zstd", clevel: 1, shuffle: "noshuffle", typesize: 1 });
    expect(enc[2]! & 0x02).toBe(0x02);
    expect(enc.length).toBe(16 + 4096);
    expect(await Blosc.fromConfig({}).decode(enc)).toEqual(noise);
  });

  it("byte-shuffles by element bytes, leaving trailing bytes in place", () => {
    const src = Uint8Array.of(1, 2, 3, 4, 5, 6, 7);
    expect(Array.from(byteShuffle(src, 2, new Uint8Array(7)))).toEqual([1, 3, 5, 2, 4, 6, 7]);
  });

  it("bit-shuffles as c-blosc: one bit plane per element bit, 8 elements per byte", () => {
    // 8 uint8 elements: element m has only bit (m % 8) set, so plane k's byte is 1 << k.
    const src = Uint8Array.from({ length: 8 }, (_, m) => 1 << m);
    expect(Array.from(bitShuffle(src, 1, new Uint8Array(8)))).toEqual([1, 2, 4, 8, 16, 32, 64, 128]);
    // element counts that are not a multiple of 8 are copied unchanged
    const odd = Uint8Array.of(9, 8, 7);
    expect(Array.from(bitShuffle(odd, 1, new Uint8Array(3)))).toEqual([9, 8, 7]);
  });
});
