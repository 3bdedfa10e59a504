/**
 * How a variable's stored values map to physical ones: the values that mean "missing" (NaN, the
 * Zarr fill value, CF `_FillValue` and `missing_value`, CF 1.11 §2.5.1) and CF packing
 * (`scale_factor`, `add_offset`, CF §8.1: physical = raw * scale_factor + add_offset).
 * @module
 */

import { type DataType, dataTypeInfo } from "../zarr/dtype.js";
import type { JsonObject, JsonValue } from "../zarr/json.js";
import type { ArrayMeta } from "../zarr/metadata/model.js";

export function numbersOf(v: JsonValue | undefined): number[] {
  if (typeof v === "number") return [v];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === "number");
  return [];
}

/** Stored values, other than NaN, that mean missing. */
export function missingValues(meta: ArrayMeta): number[] {
  const missing = new Set<number>();
  if (typeof meta.fillValue === "number" && !Number.isNaN(meta.fillValue)) missing.add(meta.fillValue);
  if (typeof meta.fillValue === "bigint") missing.add(Number(meta.fillValue));
  for (const k of ["_FillValue", "missing_value"])
    for (const v of numbersOf(meta.attributes[k])) if (!Number.isNaN(v)) missing.add(v);
  return [...missing];
}

export interface Packing {
  scale: number;
  offset: number;
}

/** The CF packing of a variable, or null when it is not packed. */
export function packingOf(meta: ArrayMeta): Packing | null {
  const scale = numbersOf(meta.attributes.scale_factor)[0];
  const offset = numbersOf(meta.attributes.add_offset)[0];
  if (scale === undefined && offset === undefined) return null;
  return { scale: scale ?? 1, offset: offset ?? 0 };
}

/**
 * Whether signed storage holds unsigned values (`_Unsigned = "true"`, the NetCDF User Guide's
 * convention for NetCDF-3, which has no unsigned types: GOES-R ABI, GDAL's Byte rasters).
 */
export function isUnsignedHint(attrs: JsonObject, dataType: DataType): boolean {
  const u = attrs._Unsigned;
  return typeof u === "string" && u.trim().toLowerCase() === "true" && dataTypeInfo(dataType).kind === "int";
}

/** The unsigned type of the same size (int16 -> uint16). */
export function unsignedOf(dataType: DataType): DataType {
  return dataType.startsWith("int") ? (`u${dataType}` as DataType) : dataType;
}

/** A signed value read as the unsigned one it stores (-1 -> 65535 for int16). */
export function asUnsigned(v: number, dataType: DataType): number {
  return v < 0 ? v + 2 ** (dataTypeInfo(dataType).size * 8) : v;
}

/**
 * CF-decoded values of a small variable (coordinates): `_Unsigned` first, then
 * `raw * scale_factor + add_offset` (CF §8.1). Missing values are not masked: coordinates have none.
 */
export function decodeValues(
  values: ArrayLike<number | bigint>,
  dataType: DataType,
  attrs: JsonObject,
): Float64Array {
  const unsigned = isUnsignedHint(attrs, dataType);
  const scale = numbersOf(attrs.scale_factor)[0] ?? 1;
  const offset = numbersOf(attrs.add_offset)[0] ?? 0;
  return Float64Array.from(values as ArrayLike<number>, (x) => {
    const v = Number(x);
    return (unsigned ? asUnsigned(v, dataType) : v) * scale + offset;
  });
}
