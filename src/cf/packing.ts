/**
 * How a variable's stored values map to physical ones: the values that mean "missing" (NaN, the
 * Zarr fill value, CF `_FillValue` and `missing_value`, CF 1.11 §2.5.1) and CF packing
 * (`scale_factor`, `add_offset`, CF §8.1: physical = raw * scale_factor + add_offset).
 * @module
 */

import type { JsonValue } from "../zarr/json.js";
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
