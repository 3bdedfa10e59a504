/**
 * The encode task: large zstd chunks are streamed slab by slab into one frame, with the same bytes
 * after decompression as the whole chunk cut, padded and transformed at once.
 */

import { describe, expect, it } from "vitest";
import { type Encoded, run, slabsOf } from "../../src/convert/encode-task.js";
import { zstdDecompress } from "../../src/zarr/codecs/zstd.js";
import { product } from "../../src/zarr/metadata/model.js";
import { copyBox } from "../../src/zarr/ndarray.js";

/** The bytes an encode task returned (it was given no store to write to). */
function bytesOf(out: Encoded): Uint8Array {
  if (!out || !("bytes" in out)) throw new Error("expected the encoded bytes");
  return out.bytes;
}

describe("slabsOf", () => {
  it("covers a C-ordered chunk in order with contiguous slabs of bounded size", () => {
    for (const [shape, size, max] of [
      [[1, 4096, 4096], 8, 4 << 20],
      [[3, 5, 7], 4, 40],
      [[10], 8, 16],
      [[2, 3], 1, 1000],
      [[], 8, 16],
    ] as const) {
      const slabs = slabsOf([...shape], size, max);
      let offset = 0;
      const strides = shape.map((_, d) => product(shape.slice(d + 1)));
      for (const s of slabs) {
        const first = s.start.reduce((o, x, d) => o + x * strides[d]!, 0);
        expect(first).toBe(offset);
        offset += product(s.shape);
        if (product(shape.slice(-1)) * size <= max) expect(product(s.shape) * size).toBeLessThanOrEqual(max);
      }
      expect(offset).toBe(product(shape));
    }
    expect(slabsOf([1, 4096, 4096], 8, 4 << 20)).toHaveLength(32);
  });
});

describe("streamed zstd encoding", () => {
  it("equals cutting, padding and unpacking the whole chunk at once", async () => {
    // an int16 band, an edge chunk of 1 x 1200 x 1100 float64 (10 MB: streamed), partly outside the array
    const band = { box: { start: [0, 1024, 0], shape: [1, 476, 1400] }, dataType: "int16" as const };
    const values = Int16Array.from({ length: product(band.box.shape) }, (_, i) => (i % 7919) - 3000);
    values[5] = -32768;
    const chunkShape = [1, 1200, 1100];
    const box = { start: [0, 1024, 1100], shape: [1, 476, 300] }; // clipped by the array's edge
    const transform = { kind: "unpack" as const, scale: 0.001, offset: 298.15, missing: [-32768] };
    const encoding = {
      dataType: "float64" as const,
      fillValue: Number.NaN,
      codec: { name: "zstd" as const, level: 1 },
    };
    const out = await run({
      band: { ...band, buffer: values.buffer },
      box,
      chunkShape,
      sourceFill: -32768,
      transform,
      encoding,
    });
    const got = new Float64Array(zstdDecompress(bytesOf(out.output)).buffer);

    const cut = new Int16Array(product(chunkShape)).fill(-32768);
    copyBox(values, band.box.shape, [0, 0, 1100], cut, chunkShape, [0, 0, 0], box.shape);
    const want = Float64Array.from(cut, (v) => (v === -32768 ? Number.NaN : v * 0.001 + 298.15));
    expect(got.length).toBe(want.length);
    let diff = -1;
    for (let i = 0; i < want.length && diff < 0; i++)
      if (!(got[i] === want[i] || (Number.isNaN(got[i]) && Number.isNaN(want[i])))) diff = i;
    expect(diff).toBe(-1);
  });

  it("transforms interior chunks straight from the band (no padding) to the same values", async () => {
    const band = { box: { start: [0, 0], shape: [1100, 3000] }, dataType: "int8" as const };
    const values = Int8Array.from({ length: 1100 * 3000 }, (_, i) => (i % 251) - 125);
    values[3000 * 7 + 1200] = -128;
    const box = { start: [0, 1000], shape: [1100, 1000] }; // fully inside: every slab is whole
    const out = await run({
      band: { ...band, buffer: values.buffer },
      box,
      chunkShape: [1100, 1000],
      sourceFill: -128,
      transform: { kind: "unpack", scale: 0.01, offset: 0, missing: [-128], float32: true },
      encoding: { dataType: "float32", fillValue: Number.NaN, codec: { name: "zstd", level: 3 } },
    });
    const got = new Float32Array(zstdDecompress(bytesOf(out.output)).buffer);
    const f = Math.fround;
    for (let r = 0; r < 1100; r++) {
      for (let c = 0; c < 1000; c++) {
        const v = values[r * 3000 + 1000 + c]!;
        const want = v === -128 ? Number.NaN : f(f(f(v) * f(0.01)) + f(0));
        if (!(got[r * 1000 + c] === want || (Number.isNaN(want) && Number.isNaN(got[r * 1000 + c]!)))) {
          expect([r, c, got[r * 1000 + c]]).toEqual([r, c, want]);
        }
      }
    }
    expect(got[7 * 1000 + 200]).toBeNaN();
  });

  it("compresses a chunk that is its whole band in place, to the bytes of the same chunk cut from a wider band", async () => {
    // uint16 chunks of 1 x 2100 x 2100 (8.8 MB: streamed), as a GeoTIFF's units are: the chunk
    // alone in its band (every slab one run of it: no copy), and the same values as the second
    // chunk of a band twice as wide (each slab cut row by row into the slab buffer).
    const chunkShape = [1, 2100, 2100];
    const wide = { start: [0, 0, 0], shape: [1, 2100, 4200] };
    const values = Uint16Array.from({ length: product(wide.shape) }, (_, i) => (i * 2654435761) >>> 20);
    const alone = new Uint16Array(product(chunkShape));
    copyBox(values, wide.shape, [0, 0, 2100], alone, chunkShape, [0, 0, 0], chunkShape);
    const encoding = {
      dataType: "uint16" as const,
      fillValue: 0,
      codec: { name: "zstd" as const, level: 1 },
    };
    const common = { chunkShape, sourceFill: 0, transform: { kind: "identity" as const }, encoding };
    const inPlace = bytesOf(
      (
        await run({
          ...common,
          band: { box: { start: [0, 0, 2100], shape: chunkShape }, dataType: "uint16", buffer: alone.buffer },
          box: { start: [0, 0, 2100], shape: chunkShape },
        })
      ).output,
    );
    const cut = bytesOf(
      (
        await run({
          ...common,
          band: { box: wide, dataType: "uint16", buffer: values.buffer },
          box: { start: [0, 0, 2100], shape: chunkShape },
        })
      ).output,
    );
    expect(Buffer.from(inPlace).equals(Buffer.from(cut))).toBe(true);
    expect(Buffer.from(zstdDecompress(inPlace)).equals(Buffer.from(alone.buffer))).toBe(true);
  });

  it("returns nothing for a chunk that is entirely fill", async () => {
    const band = {
      box: { start: [0, 0], shape: [2000, 2000] },
      dataType: "float64" as const,
      buffer: new Float64Array(4e6).fill(Number.NaN).buffer,
    };
    const out = await run({
      band,
      box: { start: [0, 0], shape: [2000, 2000] },
      chunkShape: [2000, 2000],
      sourceFill: Number.NaN,
      transform: { kind: "identity" },
      encoding: { dataType: "float64", fillValue: Number.NaN, codec: { name: "zstd", level: 1 } },
    });
    expect(out.output).toBeNull();
  });
});
