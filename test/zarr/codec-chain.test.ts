/**
 * checkCodecChain: the engine's answer to "can the reader build this array's codec chain?",
 * without a chunk read. Chains geozarr writes (every --codec, sharded or not, v2 and v3) build;
 * unknown codecs and configurations the codec refuses do not, with a Codec error naming the array.
 */

import { describe, expect, it } from "vitest";
import { GeoZarrError } from "../../src/errors.js";
import type { JsonObject } from "../../src/zarr/json.js";
import { type ArrayMeta, numericArray } from "../../src/zarr/metadata/model.js";
import { parseArrayV2 } from "../../src/zarr/metadata/v2.js";
import { parseArrayV3 } from "../../src/zarr/metadata/v3.js";
import { checkCodecChain } from "../../src/zarr/read/codec-chain.js";

const v3 = (codecs: unknown[], chunk = [4, 8]): ArrayMeta =>
  numericArray(
    parseArrayV3(
      {
        zarr_format: 3,
        node_type: "array",
        shape: [8, 16],
        data_type: "float32",
        chunk_grid: { name: "regular", configuration: { chunk_shape: chunk } },
        chunk_key_encoding: { name: "default" },
        fill_value: "NaN",
        codecs,
      },
      "t",
    ),
    "t",
  );
const v2 = (compressor: JsonObject | null, filters: JsonObject[] | null = null): ArrayMeta =>
  numericArray(
    parseArrayV2(
      {
        zarr_format: 2,
        shape: [8],
        chunks: [4],
        dtype: "<i2",
        compressor,
        fill_value: 0,
        order: "C",
        filters,
      },
      {},
      "t",
    ),
    "t",
  );
const BYTES = { name: "bytes", configuration: { endian: "little" } };

describe("checkCodecChain", () => {
  it.each([
    ["bytes only", v3([BYTES])],
    ["zstd", v3([BYTES, { name: "zstd", configuration: { level: 1, checksum: false } }])],
    ["gzip + crc32c", v3([BYTES, { name: "gzip", configuration: { level: 5 } }, { name: "crc32c" }])],
    [
      "blosc",
      v3([
        BYTES,
        { name: "blosc", configuration: { cname: "zstd", clevel: 5, shuffle: "shuffle", typesize: 4 } },
      ]),
    ],
    ["transpose", v3([{ name: "transpose", configuration: { order: [1, 0] } }, BYTES])],
    [
      "sharding with a zstd inner chain and a crc32c index",
      v3([
        {
          name: "sharding_indexed",
          configuration: {
            chunk_shape: [2, 4],
            codecs: [BYTES, { name: "zstd", configuration: { level: 1, checksum: false } }],
            index_codecs: [BYTES, { name: "crc32c" }],
            index_location: "end",
          },
        },
      ]),
    ],
    ["v2 zstd", v2({ id: "zstd", level: 1 })],
    [
      "v2 blosc with a shuffle filter",
      v2({ id: "blosc", cname: "lz4", clevel: 5, shuffle: 1 }, [{ id: "shuffle", elementsize: 2 }]),
    ],
    ["v2 bz2", v2({ id: "bz2", level: 9 })],
  ])("%s builds", async (_, meta) => {
    await expect(checkCodecChain(meta, "store/a")).resolves.toBeUndefined();
  });

  it.each([
    ["an unknown v3 codec", v3([BYTES, { name: "lzma" }]), 'store/a: unknown codec "lzma"'],
    ["an unknown v2 compressor", v2({ id: "lzma", preset: 6 }), 'store/a: unknown codec "lzma"'],
    ["an unknown v2 filter", v2(null, [{ id: "quantize", digits: 2 }]), 'store/a: unknown codec "quantize"'],
    [
      "an unknown codec inside a shard",
      v3([
        {
          name: "sharding_indexed",
          configuration: { chunk_shape: [2, 4], codecs: [BYTES, { name: "lzma" }] },
        },
      ]),
      'store/a: unknown codec "lzma"',
    ],
    [
      "inner chunks that do not divide the shard",
      v3([{ name: "sharding_indexed", configuration: { chunk_shape: [3, 4], codecs: [BYTES] } }]),
      'store/a: codec "sharding_indexed" cannot be built: chunk_shape [3,4] does not divide the shard shape [4, 8]',
    ],
    [
      "a shard without an inner codec list",
      v3([{ name: "sharding_indexed", configuration: { chunk_shape: [2, 4] } }]),
      'store/a: codec "sharding_indexed" cannot be built: "codecs" is not a list',
    ],
    [
      "a blosc compressor numcodecs does not have",
      v3([
        BYTES,
        { name: "blosc", configuration: { cname: "foo", clevel: 5, shuffle: "shuffle", typesize: 4 } },
      ]),
      "store/a: codec \"blosc\" cannot be built: Invalid compressor 'foo'. Valid compressors include 'blosclz', 'lz4', 'lz4hc','snappy', 'zlib', 'zstd'.",
    ],
    [
      "a cast to a type zarrita does not know",
      v3([{ name: "cast_value", configuration: { data_type: "banana" } }, BYTES]),
      'store/a: codec "cast_value" cannot be built: cast_value codec does not support encoded data type: banana',
    ],
  ])("%s does not", async (_, meta, message) => {
    const err = await checkCodecChain(meta, "store/a").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GeoZarrError);
    expect((err as GeoZarrError).tag).toBe("Codec");
    expect((err as GeoZarrError).message).toBe(message);
  });
});
