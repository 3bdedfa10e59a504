/**
 * Small field parsers shared by the v2 and v3 document parsers. Each names the document and the
 * field in its error, so a bad store gets a one-line message that says where to look.
 * @module
 */

import { GeoZarrError } from "../../errors.js";
import { isJsonObject, type JsonObject, showJson } from "../json.js";

export function invalid(where: string, message: string): GeoZarrError {
  return new GeoZarrError("InvalidMetadata", `${where}: ${message}`, { where });
}

export function requireObject(doc: unknown, where: string): JsonObject {
  if (!isJsonObject(doc)) throw invalid(where, "metadata document must be a JSON object");
  return doc;
}

export function intList(doc: JsonObject, key: string, where: string, min: number): number[] {
  const v = doc[key];
  if (Array.isArray(v)) {
    // Zarr allows any non-negative integer; lengths past 2^53 cannot be indexed exactly here
    // (JSON parsing keeps them as bigints, json.ts), so they are refused, not rounded.
    const big = v.findIndex(
      (x) => (typeof x === "bigint" || typeof x === "number") && x > Number.MAX_SAFE_INTEGER,
    );
    if (big >= 0) {
      throw new GeoZarrError(
        "Unsupported",
        `${where}: "${key}"[${big}] is ${String(v[big])}, more than the largest length supported here (2^53 - 1)`,
        { where },
      );
    }
  }
  if (!Array.isArray(v) || !v.every((x) => typeof x === "number" && Number.isInteger(x) && x >= min)) {
    throw invalid(where, `"${key}" must be a list of integers >= ${min}, got ${showJson(v)}`);
  }
  return v as number[];
}

export function attributesOf(v: unknown, where: string): JsonObject {
  if (v === undefined || v === null) return {};
  if (!isJsonObject(v)) throw invalid(where, "attributes must be a JSON object");
  return v;
}

/** Dimension names: a list of strings (or null in v3) as long as the shape. */
export function dimensionNamesOf(
  v: unknown,
  ndim: number,
  where: string,
  field: string,
): (string | null)[] | null {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string" || x === null)) {
    throw invalid(where, `"${field}" must be a list of strings`);
  }
  if (v.length !== ndim) throw invalid(where, `"${field}" has ${v.length} names for ${ndim} dimensions`);
  return v as (string | null)[];
}
