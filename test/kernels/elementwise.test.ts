/**
 * The element loops of decoding (kernels/elementwise.ts: HDF5 un-shuffle, CF table decode, TIFF
 * horizontal predictor): the C addon and the JavaScript loops give the same bits for every source
 * type, item size, stride and target type, the addon refuses a call that would reach outside its
 * buffers, and conversions of NetCDF-4 and GeoTIFF inputs write the same stores through either
 * (the GEOZARR_KERNELS=js switch, in a child process).
 */

import { join, resolve } from "node:path";
import { describe, expect, inject, it } from "vitest";
import {
  accumulateRows,
  copyRowsInto,
  elementwiseBackend,
  jsLoops,
  lookupInto,
  type TableSource,
  unshuffleInto,
} from "../../src/kernels/elementwise.js";
import { runCliProcess, treeFingerprint } from "../helpers/processes.js";
import { tmpDir } from "../helpers/tmp.js";

const tmp = tmpDir("elementwise");

/** Deterministic bytes (a linear congruential generator): the same values on every run. */
function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const hex = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("hex");

describe("element loops", () => {
  it("use the native addon where it is built (npm install builds it with node-gyp)", () => {
    expect(elementwiseBackend()).toBe("native");
  });

  it("un-shuffle blocks of rows like the JavaScript loop, for item sizes 1 to 8, at any offset and stride", () => {
    const n = 1000;
    for (const size of [1, 2, 3, 4, 8]) {
      const src = bytes(n * size, size);
      // [so, srcStride, doff, dstStride, len, rows]
      for (const [so, ss, doff, ds, len, rows] of [
        [0, 0, 0, 0, n, 1],
        [17, 0, 5, 0, 500, 1],
        [999, 0, 0, 0, 1, 1],
        [3, 0, 997, 0, 0, 1],
        [10, 100, 3, 40, 33, 9], // rows of a chunk (stride 100) into rows of a band (stride 40)
        [0, 0, 0, 0, 10, 0],
      ] as const) {
        const end = rows === 0 ? 0 : doff + (rows - 1) * ds + len;
        const a = new Uint8Array((end + 3) * size).fill(0xee);
        const b = a.slice();
        unshuffleInto(src, n, size, so, ss, a, doff, ds, len, rows);
        jsLoops.unshuffleInto(src, n, size, so, ss, b, doff, ds, len, rows);
        expect(hex(a)).toBe(hex(b));
        // Values, not only agreement: element j of row r holds byte k of element so + r ss + j,
        // stored at k n + so + r ss + j.
        for (let r = 0; r < rows && len > 0; r++)
          for (let k = 0; k < size; k++) {
            expect(a[(doff + r * ds) * size + k]).toBe(src[k * n + so + r * ss]);
            expect(a[(doff + r * ds + len - 1) * size + k]).toBe(src[k * n + so + r * ss + len - 1]);
          }
        // Nothing outside the elements asked for is touched.
        expect(a[end * size]).toBe(0xee);
        if (rows > 1 && ds > len) expect(a[(doff + len) * size]).toBe(0xee);
      }
    }
  });

  it("copy blocks of rows like the JavaScript loop, touching nothing between the rows", () => {
    const src = bytes(4000, 9);
    for (const [so, ss, doff, ds, len, rows] of [
      [0, 0, 0, 0, 4000, 1],
      [7, 409, 11, 1000, 409, 9],
      [5, 3, 0, 3, 3, 100], // contiguous rows, as a whole-row box gives
    ] as const) {
      const a = new Uint8Array(doff + (rows - 1) * ds + len + 5).fill(0xee);
      const b = a.slice();
      copyRowsInto(src, so, ss, a, doff, ds, len, rows);
      jsLoops.copyRowsInto(src, so, ss, b, doff, ds, len, rows);
      expect(hex(a)).toBe(hex(b));
      for (let r = 0; r < rows; r++)
        expect(hex(a.subarray(doff + r * ds, doff + r * ds + len))).toBe(
          hex(src.subarray(so + r * ss, so + r * ss + len)),
        );
      if (ds > len) expect(a[doff + len]).toBe(0xee);
    }
  });

  it("look values up like the JavaScript loop, for every 8- and 16-bit type into float64 and float32", () => {
    const kinds: [new (b: ArrayBuffer) => TableSource, number, number][] = [
      [Int8Array, 256, -128],
      [Uint8Array, 256, 0],
      [Int16Array, 65536, -32768],
      [Uint16Array, 65536, 0],
    ];
    for (const [Src, entries, first] of kinds) {
      // A table as convert/transform.ts builds it: NaN for the missing value, scaled values else.
      const table = new Float64Array(entries).map((_, i) =>
        i === 7 ? Number.NaN : (first + i) * 0.001 + 273.15,
      );
      const src = new Src(bytes(4096, entries).buffer as ArrayBuffer);
      for (const Dst of [Float64Array, Float32Array]) {
        const a = new Dst(src.length + 10).fill(-1);
        const b = a.slice();
        lookupInto(src, 3, a, 10, src.length - 3, table);
        jsLoops.lookupInto(src, 3, b, 10, src.length - 3, table);
        expect(hex(a)).toBe(hex(b));
        expect(a[9]).toBe(-1);
        expect(a[10]).toBe(
          Dst === Float64Array ? table[src[3]! - first] : Math.fround(table[src[3]! - first]!),
        );
      }
      // The missing value's entry: NaN through both.
      const one = new Src(new ArrayBuffer(src.BYTES_PER_ELEMENT));
      one[0] = first + 7;
      const out = new Float64Array(1);
      lookupInto(one, 0, out, 0, 1, table);
      expect(out[0]).toBeNaN();
    }
  });

  it("undo the horizontal predictor like the JavaScript loop, for 1- to 8-byte samples and strides 1 and 3", () => {
    for (const size of [1, 2, 4, 8]) {
      for (const stride of [1, 3]) {
        const rows = 5;
        const n = 33 * stride;
        const block = bytes(rows * n * size, size * 10 + stride);
        const a = block.slice();
        const b = block.slice();
        accumulateRows(a, rows, n, stride, size);
        jsLoops.accumulateRows(b, rows, n, stride, size);
        expect(hex(a)).toBe(hex(b));
        // Values: in each row, sample i is the running sum (modulo 2^(8 size)) along its stride.
        if (size <= 4) {
          const Ctor = size === 1 ? Uint8Array : size === 2 ? Uint16Array : Uint32Array;
          const raw = new Ctor(block.buffer as ArrayBuffer);
          const out = new Ctor(a.buffer as ArrayBuffer);
          const row = 3;
          const i = row * n + 2 * stride + 1;
          let sum = 0;
          for (let j = i; j >= row * n; j -= stride) sum += raw[j]!;
          const want = sum % 2 ** (8 * size);
          expect(out[i]).toBe(want);
          expect(out[row * n]).toBe(raw[row * n]); // the first sample of a row is kept
        }
      }
    }
  });

  it("refuse calls reaching outside their buffers instead of writing there", () => {
    const src = new Uint8Array(200);
    const dst = new Uint8Array(200);
    for (const [name, unshuffle, copyRows] of [
      ["native", unshuffleInto, copyRowsInto],
      ["js", jsLoops.unshuffleInto, jsLoops.copyRowsInto],
    ] as const) {
      const why = `${name} loops`;
      expect(() => unshuffle(src, 100, 2, 60, 0, dst, 0, 0, 50, 1), why).toThrow(RangeError); // past the chunk
      expect(() => unshuffle(src, 100, 2, 0, 30, dst, 0, 10, 20, 4), why).toThrow(RangeError); // last row past it
      expect(() => unshuffle(src, 101, 2, 0, 0, dst, 0, 0, 10, 1), why).toThrow(RangeError); // chunk larger than src
      expect(() => unshuffle(src, 100, 2, 0, 0, dst, 60, 0, 50, 1), why).toThrow(RangeError); // past the target
      expect(() => unshuffle(src, 100, 2, 0, 10, dst, 0, 31, 10, 4), why).toThrow(RangeError); // last row past it
      expect(() => unshuffle(src, 100, 2, -1, 0, dst, 0, 0, 1, 1), why).toThrow(RangeError);
      expect(() => unshuffle(src, 100, 2, 0.5, 0, dst, 0, 0, 1, 1), why).toThrow(RangeError);
      expect(() => copyRows(src, 0, 100, dst, 0, 10, 10, 3), why).toThrow(RangeError); // source rows past the end
      expect(() => copyRows(src, 0, 10, dst, 195, 10, 10, 1), why).toThrow(RangeError); // past the target
      expect(() => copyRows(src, 0, -1, dst, 0, 10, 10, 2), why).toThrow(RangeError);
      expect(
        dst.every((x) => x === 0),
        why,
      ).toBe(true);
    }
    const table = new Float64Array(256);
    const s8 = new Int8Array(100);
    expect(() => lookupInto(s8, 50, new Float64Array(100), 0, 51, table)).toThrow(RangeError);
    expect(() => lookupInto(s8, 0, new Float64Array(100), 50, 51, table)).toThrow(RangeError);
    expect(() => lookupInto(s8, 0, new Float64Array(100), 0, 10, new Float64Array(255))).toThrow(RangeError);
    expect(() => lookupInto(new Int16Array(10), 0, new Float64Array(10), 0, 10, table)).toThrow(RangeError);
    expect(() =>
      lookupInto(new Int32Array(10) as unknown as Int8Array, 0, new Float64Array(10), 0, 10, table),
    ).toThrow(RangeError);
    const block = new Uint8Array(64);
    expect(() => accumulateRows(block, 2, 17, 1, 2)).toThrow(RangeError); // 68 bytes in 64
    expect(() => accumulateRows(block, 1, 8, 9, 1)).toThrow(RangeError); // stride past the row
    expect(() => accumulateRows(block, 1, 8, 1, 3)).toThrow(RangeError); // no 3-byte samples
    expect(() => accumulateRows(block.subarray(1), 1, 8, 1, 2)).toThrow(RangeError); // misaligned
  });

  it("a conversion writes the same store through the addon and through the JavaScript loops", async () => {
    const sample = resolve("examples/data/mur_small.nc");
    for (const unpack of ["float64", "float32", undefined]) {
      const args = unpack ? ["--zarr-format", "2", "--unpack", unpack] : [];
      const a = join(tmp, `native-${unpack}.zarr`);
      const b = join(tmp, `js-${unpack}.zarr`);
      expect((await runCliProcess(["convert", sample, a, ...args])).code).toBe(0);
      expect((await runCliProcess(["convert", sample, b, ...args], { GEOZARR_KERNELS: "js" })).code).toBe(0);
      // The documents name the output (history); the chunks must be the same bytes.
      const chunks = (m: Map<string, string>) =>
        new Map([...m].filter(([k]) => !/(zarr\.json|\.zattrs|\.zmetadata|\.zarray|\.zgroup)$/.test(k)));
      const fa = chunks(treeFingerprint(a));
      expect(fa.size).toBeGreaterThan(5);
      expect(chunks(treeFingerprint(b))).toEqual(fa);
    }
  });

  it("a GeoTIFF conversion (horizontal predictor, 8-, 16- and 32-bit, pixel-interleaved) is the same through either", async () => {
    const dir = inject("geotiffs");
    for (const name of ["rgb_pixel_deflate.tif", "int16_deflate_pred2.tif", "int32_lzw_pred2.tif"]) {
      const a = join(tmp, `native-${name}.zarr`);
      const b = join(tmp, `js-${name}.zarr`);
      expect((await runCliProcess(["convert", join(dir, name), a])).code).toBe(0);
      expect((await runCliProcess(["convert", join(dir, name), b], { GEOZARR_KERNELS: "js" })).code).toBe(0);
      const chunks = (m: Map<string, string>) => new Map([...m].filter(([k]) => !k.endsWith("zarr.json")));
      const fa = chunks(treeFingerprint(a));
      expect(fa.size).toBeGreaterThan(2);
      expect(chunks(treeFingerprint(b))).toEqual(fa);
    }
  });
});
