/**
 * Write Zarr v2 and v3 hierarchies: node documents, chunk bytes, and consolidated metadata last.
 *
 * zarrita writes v3 only, without consolidated metadata (docs/design.md), so the documents are
 * produced here from an {@link ArraySpec}, always as strict JSON (json.ts). Layouts:
 *  - v2 (zarr-specs v2.0): `.zgroup`, `.zarray`, `.zattrs` with `_ARRAY_DIMENSIONS` (xarray's
 *    convention, required by GeoZarr v0.4), chunk keys "i.j.k", consolidated `.zmetadata`.
 *  - v3 (core spec): `zarr.json` with `dimension_names`, a regular chunk grid, the default chunk key
 *    encoding ("c/i/j/k"), codecs `bytes` + compressor (or `sharding_indexed`), and consolidated
 *    metadata inline in the root `zarr.json` (core spec "Additional fields").
 *
 * @module
 */

import { GeoZarrError } from "../../errors.js";
import { type CodecChoice, v2Compressor, v3Compressors } from "../codecs/choice.js";
import { type DataType, dataTypeInfo, toV2Dtype } from "../dtype.js";
import { encodeFillValue, type FillValue } from "../fill-value.js";
import { encodeJson, type JsonObject } from "../json.js";
import { ARRAY_DIMENSIONS } from "../metadata/v2.js";
import {
  type DescribableStore,
  joinKey,
  type StoreDescriptor,
  type StoreKey,
  type WritableStore,
} from "../store/types.js";
import { type StringArraySpec, stringChunks, stringZarray, stringZarrJson } from "./strings.js";

export interface ArraySpec {
  shape: number[];
  /** Chunk shape; for a sharded v3 array, the inner chunk shape. */
  chunkShape: number[];
  /** v3 only: shard shape, a multiple of `chunkShape` along every dimension. */
  shardShape?: number[] | undefined;
  dataType: DataType;
  fillValue: FillValue;
  dimensionNames: string[] | null;
  attributes: JsonObject;
  codec: CodecChoice;
}

/** What an array's chunks came to: how many, their encoded (uncompressed) and stored bytes. */
export interface ArraySizes {
  chunks: number;
  rawBytes: number;
  storedBytes: number;
}

export class HierarchyWriter {
  /** Every document written, by store key, for consolidation. */
  readonly #docs = new Map<string, JsonObject>();

  constructor(
    readonly store: WritableStore,
    readonly zarrFormat: 2 | 3,
  ) {}

  async group(path: string, attributes: JsonObject): Promise<void> {
    if (this.zarrFormat === 2) {
      await this.#put(joinKey(path, ".zgroup"), { zarr_format: 2 });
      if (Object.keys(attributes).length > 0) await this.#put(joinKey(path, ".zattrs"), attributes);
    } else {
      await this.#put(joinKey(path, "zarr.json"), { zarr_format: 3, node_type: "group", attributes });
    }
  }

  async array(path: string, spec: ArraySpec): Promise<void> {
    checkSpec(path, spec, this.zarrFormat);
    await this.#arrayDocuments(path, spec, this.zarrFormat === 2 ? zarrayDoc(spec) : zarrJsonArrayDoc(spec));
  }

  /** An array's documents: v2 its .zarray and .zattrs (with `_ARRAY_DIMENSIONS`), v3 its zarr.json. */
  async #arrayDocuments(
    path: string,
    spec: Pick<ArraySpec, "attributes" | "dimensionNames">,
    doc: JsonObject,
  ): Promise<void> {
    if (this.zarrFormat === 3) return this.#put(joinKey(path, "zarr.json"), doc);
    await this.#put(joinKey(path, ".zarray"), doc);
    const attrs: JsonObject = { ...spec.attributes };
    if (spec.dimensionNames) attrs[ARRAY_DIMENSIONS] = spec.dimensionNames;
    if (Object.keys(attrs).length > 0) await this.#put(joinKey(path, ".zattrs"), attrs);
  }

  /**
   * A string array: its documents and all its chunks at once (string arrays are written whole,
   * write/strings.ts). Returns the chunks' stored bytes.
   */
  async strings(path: string, spec: StringArraySpec, values: readonly string[]): Promise<ArraySizes> {
    checkSpec(path, spec, this.zarrFormat);
    await this.#arrayDocuments(
      path,
      spec,
      this.zarrFormat === 2 ? stringZarray(spec) : stringZarrJson(path, spec),
    );
    const sizes: ArraySizes = { chunks: 0, rawBytes: 0, storedBytes: 0 };
    for await (const { coords, raw, bytes } of stringChunks(spec, values, path)) {
      await this.chunk(path, coords, bytes);
      sizes.chunks++;
      sizes.rawBytes += raw;
      sizes.storedBytes += bytes.length;
    }
    return sizes;
  }

  /** Write a node document as it is (copied from another store), tracked for consolidation. */
  async document(key: StoreKey, doc: JsonObject): Promise<void> {
    await this.#put(key, doc);
  }

  /** A ref worker threads can open this writer's store by, to write chunks themselves; undefined when they cannot. */
  workerRef(): StoreDescriptor | undefined {
    return (this.store as Partial<DescribableStore>).descriptor;
  }

  /** The store key of a chunk (a shard, for sharded arrays). */
  chunkKey(path: string, coords: readonly number[]): StoreKey {
    if (this.zarrFormat === 2) return joinKey(path, coords.length === 0 ? "0" : coords.join("."));
    return joinKey(path, "c", ...coords.map(String));
  }

  async chunk(path: string, coords: readonly number[], bytes: Uint8Array): Promise<void> {
    await this.store.set(this.chunkKey(path, coords), bytes);
  }

  /** Write consolidated metadata covering every node written so far. Call once, at the end. */
  async consolidate(): Promise<JsonObject> {
    if (this.zarrFormat === 2) {
      const metadata: JsonObject = {};
      for (const [key, doc] of [...this.#docs].sort(([a], [b]) => (a < b ? -1 : 1)))
        metadata[key.slice(1)] = doc;
      const doc = { metadata, zarr_consolidated_format: 1 };
      await this.store.set("/.zmetadata", encodeJson(doc));
      return doc;
    }
    const root = this.#docs.get("/zarr.json");
    if (root?.node_type !== "group") {
      throw new GeoZarrError("Usage", "v3 consolidated metadata needs a group at the root");
    }
    const metadata: JsonObject = {};
    for (const [key, doc] of [...this.#docs].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (key === "/zarr.json") continue;
      metadata[key.slice(1, -"/zarr.json".length)] = doc;
    }
    const doc = { ...root, consolidated_metadata: { kind: "inline", must_understand: false, metadata } };
    await this.store.set("/zarr.json", encodeJson(doc));
    return doc;
  }

  async #put(key: StoreKey, doc: JsonObject): Promise<void> {
    this.#docs.set(key, doc);
    await this.store.set(key, encodeJson(doc));
  }
}

function checkSpec(
  path: string,
  spec: Pick<ArraySpec, "shape" | "chunkShape" | "dimensionNames" | "shardShape">,
  format: 2 | 3,
): void {
  const bad = (why: string) => new GeoZarrError("Usage", `${path}: ${why}`, { where: path });
  if (spec.chunkShape.length !== spec.shape.length) throw bad("chunk shape and shape differ in length");
  if (spec.chunkShape.some((c) => !Number.isInteger(c) || c < 1))
    throw bad("chunk sizes must be positive integers");
  if (spec.dimensionNames && spec.dimensionNames.length !== spec.shape.length)
    throw bad("one dimension name per dimension");
  if (spec.shardShape) {
    if (format === 2) throw bad("sharding needs Zarr v3");
    if (spec.shardShape.some((s, d) => s % spec.chunkShape[d]! !== 0)) {
      throw bad(
        `shard shape [${spec.shardShape}] must be a multiple of the chunk shape [${spec.chunkShape}]`,
      );
    }
  }
}

function zarrayDoc(spec: ArraySpec): JsonObject {
  // Keys in zarr-python's (sorted) order.
  return {
    chunks: spec.chunkShape,
    compressor: v2Compressor(spec.codec),
    dimension_separator: ".",
    dtype: toV2Dtype(spec.dataType),
    fill_value: encodeFillValue(spec.fillValue, spec.dataType, 2) as JsonObject[string],
    filters: null,
    order: "C",
    shape: spec.shape,
    zarr_format: 2,
  };
}

function zarrJsonArrayDoc(spec: ArraySpec): JsonObject {
  const typesize = dataTypeInfo(spec.dataType).size;
  const bytes = { name: "bytes", configuration: { endian: "little" } };
  const inner = [bytes, ...v3Compressors(spec.codec, typesize)];
  const codecs = spec.shardShape
    ? [
        {
          name: "sharding_indexed",
          configuration: {
            chunk_shape: spec.chunkShape,
            codecs: inner,
            index_codecs: [{ name: "bytes", configuration: { endian: "little" } }, { name: "crc32c" }],
            index_location: "end",
          },
        },
      ]
    : inner;
  const doc: JsonObject = {
    zarr_format: 3,
    node_type: "array",
    shape: spec.shape,
    data_type: spec.dataType,
    chunk_grid: { name: "regular", configuration: { chunk_shape: spec.shardShape ?? spec.chunkShape } },
    chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
    fill_value: encodeFillValue(spec.fillValue, spec.dataType, 3) as JsonObject[string],
    codecs: codecs as unknown as JsonObject[string],
    attributes: spec.attributes,
  };
  if (spec.dimensionNames) doc.dimension_names = spec.dimensionNames;
  return doc;
}
