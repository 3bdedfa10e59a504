/**
 * Zarr v2 documents (zarr-specs docs/v2/v2.0.rst): `.zarray`, `.zgroup`, `.zattrs`.
 * @module
 */

import { parseV2Dtype } from "../dtype.js";
import { decodeFillValue } from "../fill-value.js";
import { isJsonObject, type JsonObject, showJson } from "../json.js";
import { decodeStringFill, v2StringType } from "../strings.js";
import { attributesOf, dimensionNamesOf, intList, invalid, requireObject } from "./fields.js";
import type { ArrayLayout, ArrayMeta, CodecSpec, GroupMeta, StringArrayMeta } from "./model.js";

/** xarray's attribute for dimension names in v2 (GeoZarr v0.4 requires it). */
export const ARRAY_DIMENSIONS = "_ARRAY_DIMENSIONS";

export function parseGroupV2(zgroup: unknown, zattrs: unknown, where: string): GroupMeta {
  const doc = requireObject(zgroup, where);
  if (doc.zarr_format !== 2)
    throw invalid(where, `"zarr_format" must be 2, got ${showJson(doc.zarr_format)}`);
  return {
    kind: "group",
    zarrFormat: 2,
    attributes: attributesOf(zattrs, where.replace(/\.zgroup$/, ".zattrs")),
  };
}

export function parseArrayV2(zarray: unknown, zattrs: unknown, where: string): ArrayMeta | StringArrayMeta {
  const doc = requireObject(zarray, where);
  if (doc.zarr_format !== 2)
    throw invalid(where, `"zarr_format" must be 2, got ${showJson(doc.zarr_format)}`);
  const shape = intList(doc, "shape", where, 0);
  const chunkShape = intList(doc, "chunks", where, 1);
  if (chunkShape.length !== shape.length) {
    throw invalid(where, `"chunks" has ${chunkShape.length} entries for ${shape.length} dimensions`);
  }
  const stringType = v2StringType(doc.dtype, doc.filters, where);
  const numeric = stringType ? null : parseV2Dtype(doc.dtype, where);
  const endian = numeric?.endian ?? (stringType?.kind === "utf32" ? stringType.endian : "little");
  const order = doc.order ?? "C";
  if (order !== "C" && order !== "F")
    throw invalid(where, `"order" must be "C" or "F", got ${showJson(order)}`);
  const sep = doc.dimension_separator ?? ".";
  if (sep !== "." && sep !== "/") throw invalid(where, `"dimension_separator" must be "." or "/"`);

  const attrsWhere = where.replace(/\.zarray$/, ".zattrs");
  const allAttrs = attributesOf(zattrs, attrsWhere);
  const { [ARRAY_DIMENSIONS]: dims, ...attributes } = allAttrs;
  const dimensionNames = dimensionNamesOf(dims, shape.length, attrsWhere, ARRAY_DIMENSIONS);

  const codecs: CodecSpec[] = [];
  // F order is a transpose before the bytes codec, as zarrita and zarr-python 3 model it.
  if (order === "F" && shape.length > 1) codecs.push({ name: "transpose", configuration: { order: "F" } });
  for (const f of filtersOf(doc.filters, where)) codecs.push(...filterCodecs(f, doc.dtype as string, where));
  if (endian === "big") codecs.push({ name: "bytes", configuration: { endian: "big" } });
  const compressor = doc.compressor ?? null;
  if (compressor !== null) codecs.push(numcodecsSpec(compressor, where, "compressor"));

  const layout: ArrayLayout = {
    zarrFormat: 2,
    shape,
    chunkShape,
    order,
    codecs,
    dimensionNames,
    attributes,
    chunkKeyEncoding: { name: "v2", separator: sep },
  };
  if (!numeric)
    return {
      kind: "strings",
      ...layout,
      stringType: stringType!,
      fillValue: decodeStringFill(doc.fill_value ?? null, stringType!, 2, where),
    };
  return {
    kind: "array",
    ...layout,
    dataType: numeric.dataType,
    endian,
    fillValue: decodeFillValue(doc.fill_value ?? null, numeric.dataType, 2, where),
  };
}

function filtersOf(v: unknown, where: string): JsonObject[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalid(where, `"filters" must be null or a list`);
  return v.map((f) => {
    if (!isJsonObject(f) || typeof f.id !== "string") throw invalid(where, `every filter needs an "id"`);
    return f;
  });
}

function numcodecsSpec(v: unknown, where: string, field: string): CodecSpec {
  if (!isJsonObject(v) || typeof v.id !== "string")
    throw invalid(where, `"${field}" must be null or an object with an "id"`);
  const { id, ...configuration } = v;
  return { name: `numcodecs.${id}`, configuration };
}

/**
 * numcodecs' fixedscaleoffset filter has no v3 equivalent of the same name; zarrita reads it as the
 * v3 `scale_offset` + `cast_value` pair (zarrita.js#395), so translate it the same way.
 */
function filterCodecs(f: JsonObject, dtype: string, where: string): CodecSpec[] {
  if (f.id !== "fixedscaleoffset") return [numcodecsSpec(f, where, "filters")];
  if (typeof f.scale !== "number" || typeof f.offset !== "number") {
    throw invalid(where, "fixedscaleoffset filter needs numeric scale and offset");
  }
  const out: CodecSpec[] = [{ name: "scale_offset", configuration: { scale: f.scale, offset: f.offset } }];
  const astype = (f.astype ?? f.dtype) as string | undefined;
  if (astype !== undefined && astype !== dtype) {
    const target = parseV2Dtype(astype, where).dataType;
    out.push({
      name: "cast_value",
      configuration: { data_type: target, rounding: "nearest-even", out_of_range: "wrap" },
    });
  }
  return out;
}
