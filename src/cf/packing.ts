/**
 * How a variable's stored values map to physical ones: the values that mean "missing" (NaN, the
 * Zarr fill value, CF `_FillValue` and `missing_value`, CF 1.11 §2.5.1) and CF packing
 * (`scale_factor`, `add_offset`, CF §8.1: physical = raw * scale_factor + add_offset).
 * @module
 */

import { type DataType, dataTypeInfo, integerRange, isFloat } from "../zarr/dtype.js";
import type { JsonObject, JsonValue } from "../zarr/json.js";
import type { ArrayMeta } from "../zarr/metadata/model.js";

export function numbersOf(v: JsonValue | undefined): number[] {
  if (typeof v === "number") return [v];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === "number");
  return [];
}

/**
 * Stored values, other than NaN, that mean missing: what CF declares (`_FillValue`,
 * `missing_value`, CF 1.11 §2.5.1), plus, in Zarr v2, the `fill_value` (xarray's v2 convention
 * carries `_FillValue` there and masks it). A v3 `fill_value` alone is not "missing": it is what
 * unwritten chunks hold, and current xarray masks only the `_FillValue` attribute
 * (`use_zarr_fill_value_as_mask=False`): counting it would call real zeros missing.
 */
export function missingValues(meta: ArrayMeta): number[] {
  const missing = new Set<number>();
  if (meta.zarrFormat === 2) {
    if (typeof meta.fillValue === "number" && !Number.isNaN(meta.fillValue)) missing.add(meta.fillValue);
    if (typeof meta.fillValue === "bigint") missing.add(Number(meta.fillValue));
  }
  const fill = attributeFill(meta.attributes._FillValue);
  if (fill !== undefined && !Number.isNaN(Number(fill))) missing.add(Number(fill));
  for (const v of numbersOf(meta.attributes.missing_value)) if (!Number.isNaN(v)) missing.add(v);
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

/**
 * netCDF-C's default fill values (netcdf.h NC_FILL_*): what unwritten data holds in a NetCDF
 * file without `_FillValue`. Used as the Zarr v3 `fill_value` of such integer variables, so a
 * missing chunk never reads as a plausible 0.
 */
export const NETCDF_DEFAULT_FILL: Record<DataType, number | bigint | boolean> = {
  bool: false,
  int8: -127,
  uint8: 255,
  int16: -32767,
  uint16: 65535,
  int32: -2147483647,
  uint32: 4294967295,
  int64: -9223372036854775806n,
  uint64: 18446744073709551614n,
  float32: 9.969209968386869e36,
  float64: 9.969209968386869e36,
};

/**
 * A `missing_value` element as a value of the variable's type (CF 1.11 §2.5.1: "of the same type
 * as the variable"), cast as xarray's encoder casts it (`dtype.type(mv)`): a number or numeric text
 * (GDAL's missing_value_text_numeric.nc has "12" on a byte) that an integer type holds exactly, any
 * finite number or numeric text for a float type (rounded to float32 as numpy does). Undefined when
 * the type cannot hold it (1e20 on int32, "12.5" or "not_numeric" on int8, netcdf4-python's
 * "-1.e+34f"): no value of the variable equals it, and xarray refuses to write it.
 */
export function valueOfType(v: JsonValue, dataType: DataType): number | bigint | undefined {
  const text = typeof v === "string" ? v.trim() : undefined;
  if (isFloat(dataType)) {
    // Python's float() reads "nan" and numbers; Number() alone would call any text NaN.
    let x: number | undefined;
    if (typeof v === "number") x = v;
    else if (text !== undefined && /^[+-]?nan$/i.test(text)) x = Number.NaN;
    else if (text !== undefined && text !== "" && Number.isFinite(Number(text))) x = Number(text);
    if (x === undefined) return undefined;
    return dataType === "float32" ? Math.fround(x) : x;
  }
  const range = integerRange(dataType);
  if (!range) return undefined;
  // Integer text as Python's int() reads it: digits only ("12.0" is refused, as numpy refuses it).
  const big =
    typeof v === "bigint"
      ? v
      : typeof v === "number" && Number.isInteger(v)
        ? BigInt(v)
        : text !== undefined && /^[+-]?\d+$/.test(text)
          ? BigInt(text)
          : undefined;
  if (big === undefined) return undefined;
  // 64-bit bounds exactly (integerRange is exact only up to 2^53).
  const bits = BigInt(dataTypeInfo(dataType).size * 8);
  const [lo, hi] =
    dataType === "int64"
      ? [-(2n ** (bits - 1n)), 2n ** (bits - 1n) - 1n]
      : dataType === "uint64"
        ? [0n, 2n ** bits - 1n]
        : [BigInt(range[0]), BigInt(range[1])];
  if (big < lo || big > hi) return undefined;
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

/** A numeric attribute value as a number or (64-bit integers beyond 2^53) a bigint. */
export function scalarOf(v: JsonValue | undefined): number | bigint | undefined {
  if (typeof v === "number" || typeof v === "bigint") return v;
  if (Array.isArray(v) && (typeof v[0] === "number" || typeof v[0] === "bigint")) return v[0];
  return undefined;
}

/**
 * A CF `_FillValue` attribute of a Zarr v3 array as current xarray writes and reads it (its Zarr
 * backend's fill-value coder): integers as numbers, floats as the base64 of a little-endian
 * float64. Plain numbers and "NaN" are accepted too.
 */
export function attributeFill(v: JsonValue | undefined): number | bigint | undefined {
  if (typeof v === "string") {
    if (v === "NaN") return Number.NaN;
    if (!/^[A-Za-z0-9+/]{11}=$/.test(v) && !/^[A-Za-z0-9+/]{6}==$/.test(v)) return undefined;
    const bytes = Uint8Array.from(atob(v), (c) => c.charCodeAt(0));
    const view = new DataView(bytes.buffer);
    return bytes.length === 8 ? view.getFloat64(0, true) : view.getFloat32(0, true);
  }
  return scalarOf(v);
}

/** The v3 `_FillValue` attribute for a float fill, in xarray's encoding (base64 of a float64). */
export function encodeAttributeFill(v: number | bigint, dataType: DataType): JsonValue {
  if (typeof v === "bigint" || dataTypeInfo(dataType).kind !== "float") return v;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v, true);
  return btoa(String.fromCharCode(...new Uint8Array(view.buffer)));
}
