/**
 * What geozarr writes reads back right in real other implementations:
 * - Zarr v2: zarr-python (Debian's python3-zarr) reads every store and gets the same values;
 * - Zarr v3 (Debian has no v3 reader): the documents follow the v3 core spec, and zarrita's own
 *   `open` + `get` (not our hierarchy layer) reads the values back.
 */

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { convert } from "../../src/node.js";
import { FileSystemStore } from "../../src/zarr/store/fs.js";
import { expectedValues, firstDifference, zarrPythonDir, zarrPythonManifest } from "../helpers/fixtures.js";
import { pythonJson } from "../helpers/python.js";
import { tmpDir } from "../helpers/tmp.js";

const manifest = zarrPythonManifest();
const dir = tmpDir("write");
const stores = [...new Set(manifest.map((m) => m.store))].filter((s) => !s.startsWith("bare-nan"));

const CHECK_V2 = `
import json, sys, numpy as np, zarr
res = {}
for e in json.loads(sys.argv[1]):
    a = zarr.open(e["out"], mode="r")[e["path"]]
    want = np.fromfile(e["bin"], dtype=np.dtype(e["np"]).newbyteorder("<")).reshape(e["shape"])
    got = a[...]
    res[e["out"] + e["path"]] = bool(np.array_equal(got, want, equal_nan=want.dtype.kind == "f")) and got.dtype == want.dtype
print(json.dumps(res))
`;
const NP: Record<string, string> = {
  bool: "?",
  int8: "i1",
  uint8: "u1",
  int16: "i2",
  uint16: "u2",
  int32: "i4",
  uint32: "u4",
  int64: "i8",
  uint64: "u8",
  float32: "f4",
  float64: "f8",
};

describe.each([
  "zstd:1",
  "gzip:5",
  "zlib:3",
  "blosc:lz4:5:shuffle",
  "blosc:zstd:3:bitshuffle",
  "blosc:zlib:1:noshuffle",
  "none",
])("Zarr v2 written with --codec %s", (codec) => {
  it("is read by zarr-python with the same values", async () => {
    const checks = [];
    for (const store of stores) {
      const out = join(dir, `${codec.replace(/:/g, "_")}-${store}`);
      // Workers for a few stores (the pool path), inline for the rest (faster to start).
      await convert(join(zarrPythonDir(), store), out, {
        zarrFormat: 2,
        codec,
        workers: store.startsWith("zstd") ? 2 : 0,
      });
      for (const e of manifest.filter((m) => m.store === store)) {
        checks.push({
          out,
          path: e.path,
          bin: join(zarrPythonDir(), e.bin),
          np: NP[e.dtype],
          shape: e.shape,
        });
      }
    }
    const res = pythonJson<Record<string, boolean>>(CHECK_V2, [JSON.stringify(checks)]);
    const failed = Object.entries(res)
      .filter(([, ok]) => !ok)
      .map(([k]) => k);
    expect(failed).toEqual([]);
    expect(Object.keys(res)).toHaveLength(checks.length);
  });
});

describe("Zarr v3 output", () => {
  const out = join(dir, "v3-rechunked.zarr");

  it("reads back with zarrita's own open/get", async () => {
    for (const store of stores) {
      const o = join(dir, `v3-${store}`);
      await convert(join(zarrPythonDir(), store), o, {
        zarrFormat: 3,
        workers: store.startsWith("zstd") ? 2 : 0,
      });
      const root = zarr.root(new FileSystemStore(o));
      for (const e of manifest.filter((m) => m.store === store)) {
        const arr = await zarr.open.v3(root.resolve(e.path.slice(1)), { kind: "array" });
        const result = await zarr.get(arr);
        // zarrita returns a 0-d array's value itself
        const got =
          e.shape.length === 0 ? { shape: [], data: [result] } : (result as zarr.Chunk<zarr.DataType>);
        expect(got.shape).toEqual(e.shape);
        // zarrita returns booleans as its BoolArray; compare them as 0/1 like the fixture bytes.
        const data =
          got.data instanceof zarr.BoolArray
            ? Array.from({ length: got.data.length }, (_, i) => Number((got.data as zarr.BoolArray).get(i)))
            : Array.from(got.data as ArrayLike<unknown>, (v) => (typeof v === "bigint" ? v : v));
        expect(firstDifference(data as ArrayLike<unknown>, expectedValues(e)), `${store}${e.path}`).toBe(-1);
      }
    }
  });

  it("writes documents that follow the v3 core spec", async () => {
    await convert(join(zarrPythonDir(), "zstd.f8.zarr"), out, {
      zarrFormat: 3,
      chunks: { d0: 8, d1: 8 },
      codec: "zstd:1",
    });
    const doc = JSON.parse(readFileSync(join(out, "data", "zarr.json"), "utf8"));
    expect(doc).toEqual({
      zarr_format: 3,
      node_type: "array",
      shape: [37, 53],
      data_type: "float64",
      chunk_grid: { name: "regular", configuration: { chunk_shape: [8, 8] } },
      chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
      fill_value: "NaN",
      codecs: [
        { name: "bytes", configuration: { endian: "little" } },
        { name: "zstd", configuration: { level: 1, checksum: false } },
      ],
      attributes: {},
      dimension_names: ["d0", "d1"],
    });
    const root = JSON.parse(readFileSync(join(out, "zarr.json"), "utf8"));
    expect(root.node_type).toBe("group");
    expect(root.attributes).toEqual({ title: "zstd.f8" });
    expect(root.consolidated_metadata).toEqual({
      kind: "inline",
      must_understand: false,
      metadata: { data: doc },
    });
    // default chunk key encoding: c/i/j
    expect(existsSync(join(out, "data", "c", "4", "6"))).toBe(true);
    expect(existsSync(join(out, "data", "c", "5"))).toBe(false);
  });

  it("does not store chunks that are entirely fill_value", async () => {
    const o = join(dir, "v3-fill.zarr");
    await convert(join(zarrPythonDir(), "fill-nan.f4.zarr"), o, { zarrFormat: 3 });
    expect(existsSync(join(o, "data", "c", "0", "0"))).toBe(true);
    for (const k of ["0/1", "0/2", "1/0", "1/1", "1/2"])
      expect(existsSync(join(o, "data", "c", ...k.split("/")))).toBe(false);
  });

  it("writes sharded arrays that zarrita reads", async () => {
    const o = join(dir, "v3-sharded.zarr");
    await convert(join(zarrPythonDir(), "zstd.f8.zarr"), o, {
      zarrFormat: 3,
      chunks: "d0=5,d1=4",
      shards: "d0=10,d1=16",
    });
    const doc = JSON.parse(readFileSync(join(o, "data", "zarr.json"), "utf8"));
    expect(doc.chunk_grid.configuration.chunk_shape).toEqual([10, 16]);
    expect(doc.codecs[0]).toEqual({
      name: "sharding_indexed",
      configuration: {
        chunk_shape: [5, 4],
        codecs: [
          { name: "bytes", configuration: { endian: "little" } },
          { name: "zstd", configuration: { level: 1, checksum: false } },
        ],
        index_codecs: [{ name: "bytes", configuration: { endian: "little" } }, { name: "crc32c" }],
        index_location: "end",
      },
    });
    const arr = await zarr.open.v3(zarr.root(new FileSystemStore(o)).resolve("data"), { kind: "array" });
    const got = await zarr.get(arr);
    const e = manifest.find((m) => m.store === "zstd.f8.zarr")!;
    expect(firstDifference(got.data as Float64Array, expectedValues(e))).toBe(-1);
  });
});
