/**
 * Zarr v3 documents (zarr-specs docs/v3/core/index.rst): `zarr.json` for arrays and groups.
 * @module
 */

import { GeoZarrError } from "../../errors.js";
import { isDataType } from "../dtype.js";
import { decodeFillValue } from "../fill-value.js";
import { isJsonObject, type JsonObject, showJson } from "../json.js";
import { decodeStringFill, type StringType, v3StringType } from "../strings.js";
import { attributesOf, dimensionNamesOf, intList, invalid, requireObject } from "./fields.js";
import type {
  ArrayLayout,
  ArrayMeta,
  ChunkKeyEncoding,
  CodecSpec,
  GroupMeta,
  StringArrayMeta,
} from "./model.js";

const ARRAY_KEYS = new Set([
  "zarr_format",
  "node_type",
  "shape",
  "data_type",
  "chunk_grid",
  "chunk_key_encoding",
  "fill_value",
  "codecs",
  "attributes",
  "dimension_names",
  "storage_transformers",
]);
const GROUP_KEYS = new Set(["zarr_format", "node_type", "attributes", "consolidated_metadata"]);

export function nodeTypeV3(doc: unknown, where: string): "array" | "group" {
  const d = requireObject(doc, where);
  if (d.zarr_format !== 3) throw invalid(where, `"zarr_format" must be 3, got ${showJson(d.zarr_format)}`);
  if (d.node_type !== "array" && d.node_type !== "group") {
    throw invalid(where, `"node_type" must be "array" or "group", got ${showJson(d.node_type)}`);
  }
  return d.node_type;
}

/**
 * Core spec "Extensions": an implementation must fail on unknown top-level fields unless they are
 * objects carrying `"must_understand": false`.
 */
function checkUnknownKeys(doc: JsonObject, known: Set<string>, where: string): void {
  for (const [k, v] of Object.entries(doc)) {
    if (known.has(k)) continue;
    if (isJsonObject(v) && v.must_understand === false) continue;
    throw invalid(where, `unknown field "${k}" without "must_understand": false`);
  }
}

export function parseGroupV3(doc: unknown, where: string): GroupMeta {
  const d = requireObject(doc, where);
  nodeTypeV3(d, where);
  checkUnknownKeys(d, GROUP_KEYS, where);
  return { kind: "group", zarrFormat: 3, attributes: attributesOf(d.attributes, where) };
}

export function parseArrayV3(doc: unknown, where: string): ArrayMeta | StringArrayMeta {
  const d = requireObject(doc, where);
  nodeTypeV3(d, where);
  checkUnknownKeys(d, ARRAY_KEYS, where);
  const shape = intList(d, "shape", where, 0);
  const stringType = v3StringType(d.data_type, where);
  if (!stringType && !isDataType(d.data_type)) {
    throw new GeoZarrError("Unsupported", `${where}: unsupported data_type ${showJson(d.data_type)}`, {
      where,
    });
  }
  const grid = d.chunk_grid;
  if (!isJsonObject(grid) || grid.name !== "regular" || !isJsonObject(grid.configuration)) {
    throw invalid(where, `"chunk_grid" must be {"name": "regular", "configuration": {"chunk_shape": [...]}}`);
  }
  const chunkShape = intList(grid.configuration, "chunk_shape", `${where} chunk_grid`, 1);
  if (chunkShape.length !== shape.length) {
    throw invalid(where, `chunk_shape has ${chunkShape.length} entries for ${shape.length} dimensions`);
  }
  if (Array.isArray(d.storage_transformers) && d.storage_transformers.length > 0) {
    throw new GeoZarrError("Unsupported", `${where}: storage_transformers are not supported`, { where });
  }
  const codecs = codecsOf(d.codecs, where);
  const bytes = innermostBytes(codecs);
  const endian = bytes?.configuration?.endian === "big" ? "big" : "little";
  const transpose = codecs.find((c) => c.name === "transpose");
  const order = isReversal(transpose?.configuration?.order, shape.length) ? "F" : "C";
  if (d.fill_value === undefined) throw invalid(where, `"fill_value" is required`);
  const layout: ArrayLayout = {
    zarrFormat: 3,
    shape,
    chunkShape,
    order,
    codecs,
    dimensionNames: dimensionNamesOf(d.dimension_names, shape.length, where, "dimension_names"),
    attributes: attributesOf(d.attributes, where),
    chunkKeyEncoding: chunkKeyEncodingOf(d.chunk_key_encoding, where),
  };
  if (stringType) {
    // UTF-32's byte order is the bytes codec's (fixed_length_utf32: "compatible with any codec
    // that supports fixed-sized data types").
    const type: StringType = stringType.kind === "utf32" ? { ...stringType, endian } : stringType;
    return {
      kind: "strings",
      ...layout,
      stringType: type,
      fillValue: decodeStringFill(d.fill_value, type, 3, where),
    };
  }
  const dataType = d.data_type as ArrayMeta["dataType"];
  return {
    kind: "array",
    ...layout,
    dataType,
    endian,
    fillValue: decodeFillValue(d.fill_value, dataType, 3, where),
  };
}

/** Codecs may be {name, configuration} objects or, since v3.1, bare names. */
function codecsOf(v: unknown, where: string): CodecSpec[] {
  if (!Array.isArray(v) || v.length === 0) throw invalid(where, `"codecs" must be a non-empty list`);
  return v.map((c) => {
    if (typeof c === "string") return { name: c };
    if (!isJsonObject(c) || typeof c.name !== "string") throw invalid(where, `every codec needs a "name"`);
    const spec: CodecSpec = { name: c.name };
    if (c.configuration !== undefined) {
      if (!isJsonObject(c.configuration))
        throw invalid(where, `codec "${c.name}" configuration must be an object`);
      spec.configuration = c.configuration;
    }
    return spec;
  });
}

function innermostBytes(codecs: CodecSpec[]): CodecSpec | undefined {
  const shard = codecs.find((c) => c.name === "sharding_indexed");
  if (shard?.configuration && Array.isArray(shard.configuration.codecs)) {
    return innermostBytes(shard.configuration.codecs as unknown as CodecSpec[]);
  }
  return codecs.find((c) => c.name === "bytes");
}

function isReversal(order: unknown, ndim: number): boolean {
  if (order === "F") return ndim > 1;
  return (
    Array.isArray(order) && ndim > 1 && order.length === ndim && order.every((x, i) => x === ndim - 1 - i)
  );
}

function chunkKeyEncodingOf(v: unknown, where: string): ChunkKeyEncoding {
  if (!isJsonObject(v)) throw invalid(where, `"chunk_key_encoding" must be an object`);
  const name = v.name;
  if (name !== "default" && name !== "v2")
    throw invalid(where, `unknown chunk_key_encoding ${showJson(name)}`);
  const sep = isJsonObject(v.configuration) ? v.configuration.separator : undefined;
  const separator = sep ?? (name === "default" ? "/" : ".");
  if (separator !== "/" && separator !== ".")
    throw invalid(where, `chunk_key_encoding separator must be "/" or "."`);
  return { name, separator };
}
