import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isGeoZarrError } from "../../src/errors.js";
import type { CodecChoice } from "../../src/zarr/codecs/choice.js";
import type { DataType } from "../../src/zarr/dtype.js";
import { decodeFillValue, encodeFillValue, sameFillValue } from "../../src/zarr/fill-value.js";
import { openHierarchy } from "../../src/zarr/hierarchy.js";
import { jsonEqual, parseJsonLenient } from "../../src/zarr/json.js";
import { numericArray } from "../../src/zarr/metadata/model.js";
import { parseArrayV2 } from "../../src/zarr/metadata/v2.js";
import { parseArrayV3 } from "../../src/zarr/metadata/v3.js";
import { MemoryStore } from "../../src/zarr/store/memory.js";
import { type ArraySpec, HierarchyWriter } from "../../src/zarr/write/writer.js";
import { arrayMeta } from "../helpers/fixtures.js";

const DTYPES: DataType[] = [
  "bool",
  "int8",
  "uint8",
  "int16",
  "uint16",
  "int32",
  "uint32",
  "int64",
  "uint64",
  "float32",
  "float64",
];

const fillFor = (dt: DataType) => {
  if (dt === "bool") return fc.boolean();
  if (dt === "float32")
    return fc.oneof(
      fc.constantFrom(Number.NaN, Infinity, -Infinity, 0, -32768),
      fc.float({ noNaN: true }).map(Math.fround),
    );
  if (dt === "float64")
    return fc.oneof(fc.constantFrom(Number.NaN, Infinity, -Infinity), fc.double({ noNaN: true }));
  if (dt === "int64") return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
  if (dt === "uint64") return fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
  const bits = Number(dt.replace(/\D/g, ""));
  return dt.startsWith("u")
    ? fc.integer({ min: 0, max: 2 ** bits - 1 })
    : fc.integer({ min: -(2 ** (bits - 1)), max: 2 ** (bits - 1) - 1 });
};

const codec: fc.Arbitrary<CodecChoice> = fc.oneof(
  fc.constant({ name: "none" } as const),
  fc.integer({ min: 1, max: 9 }).map((level) => ({ name: "zstd", level }) as const),
  fc.integer({ min: 0, max: 9 }).map((level) => ({ name: "gzip", level }) as const),
  fc
    .record({
      cname: fc.constantFrom("zstd", "lz4", "zlib"),
      clevel: fc.integer({ min: 0, max: 9 }),
      shuffle: fc.constantFrom("noshuffle", "shuffle", "bitshuffle"),
    })
    .map((b) => ({ name: "blosc", ...b }) as CodecChoice),
);

const spec: fc.Arbitrary<ArraySpec> = fc
  .tuple(fc.constantFrom(...DTYPES), fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 4 }))
  .chain(([dataType, shape]) =>
    fc.record({
      shape: fc.constant(shape),
      chunkShape: fc.tuple(...shape.map((n) => fc.integer({ min: 1, max: Math.max(1, n) }))),
      dataType: fc.constant(dataType),
      fillValue: fillFor(dataType),
      dimensionNames: fc.option(fc.tuple(...shape.map((_, i) => fc.constant(`dim${i}`))), { nil: null }),
      attributes: fc.dictionary(
        fc.string({ minLength: 1 }).filter((k) => k !== "_ARRAY_DIMENSIONS"),
        fc.jsonValue(),
      ),
      codec,
    }),
  ) as fc.Arbitrary<ArraySpec>;

describe("metadata documents round-trip (property)", () => {
  for (const format of [2, 3] as const) {
    it(`v${format}: what the writer writes parses back to the same array`, async () => {
      await fc.assert(
        fc.asyncProperty(spec, async (s) => {
          const store = new MemoryStore();
          const w = new HierarchyWriter(store, format);
          await w.group("/", {});
          await w.array("/a", s);
          await w.consolidate();
          for (const consolidated of ["auto", "ignore"] as const) {
            const h = await openHierarchy(store, { consolidated });
            const m = arrayMeta(h, "/a");
            expect(m.shape).toEqual(s.shape);
            expect(m.chunkShape).toEqual(s.chunkShape);
            expect(m.dataType).toBe(s.dataType);
            expect(sameFillValue(m.fillValue, s.fillValue), `${m.fillValue} vs ${s.fillValue}`).toBe(true);
            expect(m.dimensionNames).toEqual(s.dimensionNames);
            expect(jsonEqual(m.attributes, s.attributes)).toBe(true);
            expect(h.nonStandardJson).toEqual([]);
          }
        }),
        { numRuns: 150 },
      );
    });
  }

  it("fill values survive encode/decode in both formats (property)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...DTYPES).chain((dt) => fc.tuple(fc.constant(dt), fillFor(dt))),
        ([dt, v]) => {
          for (const format of [2, 3] as const) {
            const json = JSON.parse(
              JSON.stringify(encodeFillValue(v, dt, format), (_k, x) =>
                typeof x === "bigint" ? x.toString() : x,
              ),
            );
            const back = decodeFillValue(
              typeof json === "string" && /^-?\d+$/.test(json) ? BigInt(json) : json,
              dt,
              format,
              "t",
            );
            if (!sameFillValue(back, v)) return false;
          }
          return true;
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("metadata parsing", () => {
  const zarray = {
    zarr_format: 2,
    shape: [10, 20],
    chunks: [5, 5],
    dtype: "<f8",
    compressor: { id: "zstd", level: 1 },
    fill_value: "NaN",
    order: "C",
    filters: null,
  };

  it("reads v3 hex fill values and v2 F order / big endian into the model", () => {
    const v3 = {
      zarr_format: 3,
      node_type: "array",
      shape: [4],
      data_type: "float32",
      chunk_grid: { name: "regular", configuration: { chunk_shape: [2] } },
      chunk_key_encoding: { name: "default" },
      fill_value: "0x7fc00000",
      codecs: [{ name: "bytes", configuration: { endian: "big" } }],
    };
    const m = numericArray(parseArrayV3(v3, "t"), "t");
    expect(m.fillValue).toBeNaN();
    expect(m.endian).toBe("big");
    expect(m.chunkKeyEncoding).toEqual({ name: "default", separator: "/" });
    const m2 = parseArrayV2(
      { ...zarray, dtype: ">i2", fill_value: -32768, order: "F" },
      { _ARRAY_DIMENSIONS: ["y", "x"], u: 1 },
      "t",
    );
    expect(m2).toMatchObject({
      dataType: "int16",
      endian: "big",
      order: "F",
      fillValue: -32768,
      dimensionNames: ["y", "x"],
      attributes: { u: 1 },
    });
    expect(m2.codecs.map((c) => c.name)).toEqual(["transpose", "bytes", "numcodecs.zstd"]);
  });

  it.each([
    [{ ...zarray, shape: [10] }, `"chunks" has 2 entries for 1 dimensions`],
    [{ ...zarray, dtype: "float64" }, `unsupported dtype "float64"`],
    [{ ...zarray, fill_value: "nan" }, `fill_value "nan" is not a valid float64 fill value`],
    [{ ...zarray, order: "X" }, `"order" must be "C" or "F", got "X"`],
    [{ ...zarray, zarr_format: 3 }, `"zarr_format" must be 2, got 3`],
    [{ ...zarray, compressor: { level: 1 } }, `"compressor" must be null or an object with an "id"`],
  ])("rejects a bad .zarray with a message naming the problem", (doc, message) => {
    try {
      parseArrayV2(doc, undefined, "s.zarr/a/.zarray");
      expect.unreachable();
    } catch (err) {
      expect(isGeoZarrError(err, "InvalidMetadata", "Unsupported")).toBe(true);
      expect((err as Error).message).toBe(`s.zarr/a/.zarray: ${message}`);
    }
  });

  it("rejects unknown v3 fields unless must_understand is false (core spec, extensions)", () => {
    const base = {
      zarr_format: 3,
      node_type: "array",
      shape: [1],
      data_type: "int8",
      chunk_grid: { name: "regular", configuration: { chunk_shape: [1] } },
      chunk_key_encoding: { name: "default" },
      fill_value: 0,
      codecs: [{ name: "bytes" }],
    };
    expect(() => parseArrayV3({ ...base, foo: 1 }, "z")).toThrow(
      `z: unknown field "foo" without "must_understand": false`,
    );
    expect(parseArrayV3({ ...base, foo: { must_understand: false } }, "z").shape).toEqual([1]);
  });

  it("parses the documents a lenient reader needs", () => {
    expect(parseJsonLenient('{"fill_value": NaN}', "x").nonStandard).toEqual(["/fill_value"]);
  });
});
