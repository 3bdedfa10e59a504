/**
 * String arrays in the engine (zarr/strings.ts, read/strings.ts, write/strings.ts): the types each
 * format spells, v3 arrays written by hand from the zarr-extensions texts (string + vlen-utf8,
 * null_terminated_bytes, fixed_length_utf32), our writer's chunks read back, and the size limit.
 * zarr-python's v2 stores and zarrita reading ours are in test/cli/string-arrays.test.ts.
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type GeoZarrError, isGeoZarrError } from "../../src/errors.js";
import { openHierarchy } from "../../src/zarr/hierarchy.js";
import { MAX_STRING_ELEMENTS } from "../../src/zarr/limits.js";
import type { StringArrayMeta } from "../../src/zarr/metadata/model.js";
import { parseArrayV2 } from "../../src/zarr/metadata/v2.js";
import { readStrings } from "../../src/zarr/read/strings.js";
import { MemoryStore } from "../../src/zarr/store/memory.js";
import { type StringType, v2StringType } from "../../src/zarr/strings.js";
import { encodeStringChunk } from "../../src/zarr/write/strings.js";
import { HierarchyWriter } from "../../src/zarr/write/writer.js";

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const u32 = (n: number) => [n & 255, (n >> 8) & 255, (n >> 16) & 255, n >>> 24];
const utf8 = (s: string) => [...new TextEncoder().encode(s)];
/** numcodecs' VLenUTF8 layout: the count, then each item's byte length and bytes. */
const vlen = (items: string[]) =>
  new Uint8Array([...u32(items.length), ...items.flatMap((s) => [...u32(utf8(s).length), ...utf8(s)])]);

/** A v3 store whose one array, at `path`, is written from the zarr-extensions texts by hand. */
function v3Store(
  path: string,
  a: { shape: number[]; chunk: number[]; data_type: unknown; fill_value: unknown; codecs: unknown[] },
  chunks: Record<string, Uint8Array>,
): MemoryStore {
  const doc = {
    zarr_format: 3,
    node_type: "array",
    shape: a.shape,
    data_type: a.data_type,
    chunk_grid: { name: "regular", configuration: { chunk_shape: a.chunk } },
    chunk_key_encoding: { name: "default" },
    fill_value: a.fill_value,
    codecs: a.codecs,
    attributes: {},
  };
  return new MemoryStore([
    ["/zarr.json", json({ zarr_format: 3, node_type: "group", attributes: {} })],
    [`${path}/zarr.json`, json(doc)],
    ...Object.entries(chunks).map(([k, v]) => [`${path}/${k}`, v] as [string, Uint8Array]),
  ]);
}

async function readOnly(store: MemoryStore, path: string): Promise<string[]> {
  const h = await openHierarchy(store, { name: "s" });
  const node = h.nodes.get(path)!;
  expect(node.meta.kind).toBe("strings");
  return readStrings(store, path, node.meta as StringArrayMeta, "s");
}

describe("string types as each format spells them", () => {
  it.each([
    ["|S7", null, { kind: "bytes", length: 7 }],
    ["<U5", null, { kind: "utf32", length: 5, endian: "little" }],
    [">U5", null, { kind: "utf32", length: 5, endian: "big" }],
    ["|O", [{ id: "vlen-utf8" }], { kind: "vlen-utf8" }],
    ["<f8", null, null],
  ])("v2 %s", (dtype, filters, want) => {
    expect(v2StringType(dtype, filters, "a/.zarray")).toEqual(want);
  });

  it.each([
    ["|O", [{ id: "vlen-bytes" }], /unsupported dtype "\|O" with object codec "vlen-bytes"/],
    ["|O", null, /unsupported dtype "\|O" without an object codec/],
    ["|S0", null, /strings of length 0/],
  ])("v2 %s with %j is refused, by name", (dtype, filters, message) => {
    let err: unknown;
    try {
      v2StringType(dtype, filters, "a/.zarray");
    } catch (e) {
      err = e;
    }
    expect(isGeoZarrError(err, "Unsupported")).toBe(true);
    expect((err as GeoZarrError).message).toMatch(message);
  });
});

describe("v3 string arrays written from the zarr-extensions texts", () => {
  it("string + vlen-utf8 in shards: inner chunks (views into the shard) decode, a missing one is the fill", async () => {
    // 2 shards of 4, inner chunks of 2; shard 0's second inner chunk is absent.
    const inner = [vlen(["α", "bb"]), vlen(["ccc", ""])];
    const shard = (parts: (Uint8Array | null)[]) => {
      let offset = 0;
      const index: bigint[] = [];
      const body: number[] = [];
      for (const p of parts) {
        if (!p) index.push(2n ** 64n - 1n, 2n ** 64n - 1n);
        else {
          index.push(BigInt(offset), BigInt(p.length));
          body.push(...p);
          offset += p.length;
        }
      }
      return new Uint8Array([...body, ...new Uint8Array(new BigUint64Array(index).buffer)]);
    };
    const store = v3Store(
      "/names",
      {
        shape: [8],
        chunk: [4],
        data_type: "string",
        fill_value: "none",
        codecs: [
          {
            name: "sharding_indexed",
            configuration: {
              chunk_shape: [2],
              codecs: [{ name: "vlen-utf8" }],
              index_codecs: [{ name: "bytes", configuration: { endian: "little" } }],
              index_location: "end",
            },
          },
        ],
      },
      { "c/0": shard([inner[0]!, null]), "c/1": shard([inner[1]!, vlen(["é", "👍"])]) },
    );
    expect(await readOnly(store, "/names")).toEqual(["α", "bb", "none", "none", "ccc", "", "é", "👍"]);
  });

  it("null_terminated_bytes: NUL padding stripped, the base64 fill in unwritten chunks", async () => {
    const store = v3Store(
      "/b",
      // fill_value: b"Hi", the spec's example
      {
        shape: [4],
        chunk: [2],
        data_type: { name: "null_terminated_bytes", configuration: { length_bytes: 3 } },
        fill_value: "SGk=",
        codecs: [{ name: "bytes" }],
      },
      { "c/0": new Uint8Array([0x61, 0, 0, 0x62, 0x63, 0x64]) },
    );
    expect(await readOnly(store, "/b")).toEqual(["a", "bcd", "Hi", "Hi"]);
  });

  it("fixed_length_utf32 with a big-endian bytes codec", async () => {
    const be = (cps: number[]) => cps.flatMap((c) => [c >>> 24, (c >> 16) & 255, (c >> 8) & 255, c & 255]);
    const store = v3Store(
      "/u",
      {
        shape: [2],
        chunk: [2],
        data_type: { name: "fixed_length_utf32", configuration: { length_bytes: 8 } },
        fill_value: "",
        codecs: [{ name: "bytes", configuration: { endian: "big" } }],
      },
      { "c/0": new Uint8Array(be([0xe9, 0, 0x1f44d, 0x78])) },
    );
    expect(await readOnly(store, "/u")).toEqual(["é", "👍x"]);
  });

  it("a string data type with a malformed configuration is a metadata error naming the document", async () => {
    const store = v3Store(
      "/u",
      {
        shape: [2],
        chunk: [2],
        data_type: { name: "fixed_length_utf32", configuration: { length_bytes: 6 } },
        fill_value: "",
        codecs: [{ name: "bytes" }],
      },
      {},
    );
    await expect(openHierarchy(store, { name: "s" })).rejects.toThrow(
      "s/u/zarr.json: data_type fixed_length_utf32 needs a configuration length_bytes, a positive multiple of 4, got 6",
    );
  });
});

describe("our writer's chunks", () => {
  it("vlen-utf8 chunks have numcodecs' layout, byte for byte", () => {
    expect([...encodeStringChunk(["a", "bc", "é"], { kind: "vlen-utf8" }, "x")]).toEqual([
      ...[3, 0, 0, 0],
      ...[1, 0, 0, 0, 0x61],
      ...[2, 0, 0, 0, 0x62, 0x63],
      ...[2, 0, 0, 0, 0xc3, 0xa9],
    ]);
  });

  const text = fc.string({ unit: "grapheme", maxLength: 6 });
  // <U12 holds 12 code points; 6 graphemes can be more (combining marks, emoji sequences), which
  // the writer refuses (next test), so this property draws only strings that fit.
  const text12 = text.filter((t) => [...t].length <= 12);

  it("refuses a string of more code points than a <U type holds, naming the array", () => {
    const seven = "a\u0301".repeat(7); // 7 graphemes, 14 code points
    expect(() => encodeStringChunk([seven], { kind: "utf32", length: 12, endian: "little" }, "/s")).toThrow(
      /\/s: .* does not fit in utf32 of length 12/,
    );
    expect(
      encodeStringChunk(["a\u0301".repeat(6)], { kind: "utf32", length: 12, endian: "little" }, "/s").length,
    ).toBe(48);
  });
  // Byte strings end in a non-NUL byte (trailing NULs are padding, as in numpy).
  const bytes = fc
    .uint8Array({ minLength: 0, maxLength: 6 })
    .map((b) => String.fromCharCode(...b).replace(/\0+$/, ""));

  it.each<[string, 2 | 3, StringType, fc.Arbitrary<string>]>([
    ["v2 |S6", 2, { kind: "bytes", length: 6 }, bytes],
    ["v2 <U12", 2, { kind: "utf32", length: 12, endian: "little" }, text12],
    ["v2 |O vlen-utf8", 2, { kind: "vlen-utf8" }, text],
    ["v3 string", 3, { kind: "vlen-utf8" }, text],
  ])("%s: what the writer writes reads back, any shape and chunking", async (_, format, stringType, item) => {
    await fc.assert(
      fc.asyncProperty(
        fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 4 })),
        fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
        fc.array(item, { minLength: 20, maxLength: 20 }),
        async (shape, chunks, pool) => {
          const store = new MemoryStore();
          const w = new HierarchyWriter(store, format);
          await w.group("/", {});
          const n = shape[0] * shape[1];
          const values = pool.slice(0, n);
          while (values.length < n) values.push("");
          const sizes = await w.strings(
            "/s",
            {
              shape,
              chunkShape: chunks,
              stringType,
              fillValue: format === 3 ? "" : null,
              dimensionNames: ["y", "x"],
              attributes: { long_name: "labels" },
              codec: { name: "zstd", level: 1 },
            },
            values,
          );
          await w.consolidate();
          expect(sizes.chunks).toBe(Math.ceil(shape[0] / chunks[0]) * Math.ceil(shape[1] / chunks[1]));
          expect(await readOnly(store, "/s")).toEqual(values);
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe("string arrays too large to read whole", () => {
  it("are refused with their size and the limit, before any chunk is read", async () => {
    const meta = parseArrayV2(
      {
        zarr_format: 2,
        shape: [MAX_STRING_ELEMENTS + 1],
        chunks: [1000],
        dtype: "|S4",
        compressor: null,
        fill_value: null,
        order: "C",
        filters: null,
      },
      {},
      "s/big/.zarray",
    ) as StringArrayMeta;
    const err = await readStrings(new MemoryStore(), "/big", meta, "s").catch((e: unknown) => e);
    expect(isGeoZarrError(err, "Unsupported")).toBe(true);
    expect((err as Error).message).toBe(
      "s/big: a string array of (1048577) is 1048577 strings (4.0 MiB), more than the 1048576 strings (64 MiB) a string array may have here",
    );
  });
});
