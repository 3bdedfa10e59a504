/**
 * Attribute values from file formats to JSON: one-element numeric arrays become scalars (as
 * netCDF4-python and xarray present them), longer ones lists, 64-bit integers numbers when exact.
 * @module
 */

import type { JsonValue } from "../zarr/json.js";

export function attributeValue(v: unknown): JsonValue | undefined {
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    const items = Array.from(v as unknown as ArrayLike<number | bigint>, (x) => attributeValue(x)!);
    return items.length === 1 ? items[0]! : items;
  }
  if (Array.isArray(v)) {
    const items = v.map(attributeValue).filter((x): x is JsonValue => x !== undefined);
    return items.length === 1 && typeof items[0] !== "string" ? items[0]! : items;
  }
  return undefined;
}
