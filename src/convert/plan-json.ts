/**
 * Plans as JSON, exactly: a plan holds fill values and transforms (NaN, infinities, 64-bit
 * integers as bigints) that plain JSON cannot carry, so they are written as tagged objects
 * (`{"$number": "NaN"}`, `{"$bigint": "18446744073709551615"}`) and turned back on reading. For
 * ids the text is canonical (object keys sorted), so equal plans have equal ids; a plan stored for
 * other processes keeps its keys' order (attributes are written in the order they have).
 * @module
 */

import { createHash } from "node:crypto";
import { GeoZarrError } from "../errors.js";

function tag(value: unknown, sort: boolean): unknown {
  if (typeof value === "number" && !Number.isFinite(value)) {
    return { $number: Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity" };
  }
  if (typeof value === "bigint") return { $bigint: value.toString() };
  if (Array.isArray(value)) return value.map((v) => tag(v, sort));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    const keys = Object.keys(value);
    for (const k of sort ? keys.sort() : keys) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = tag(v, sort);
    }
    return out;
  }
  return value;
}

function untag(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(untag);
  if (value !== null && typeof value === "object") {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && typeof o.$number === "string") return Number(o.$number);
    if (keys.length === 1 && typeof o.$bigint === "string") return BigInt(o.$bigint);
    const out: Record<string, unknown> = {};
    for (const k of keys)
      Object.defineProperty(out, k, {
        value: untag(o[k]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    return out;
  }
  return value;
}

/**
 * JSON text of a plan (or any plain data with NaN and bigints). `canonical` sorts object keys (for
 * ids and digests); otherwise keys keep their order, which attributes must keep in the output.
 */
export function planToJson(value: unknown, canonical = true): string {
  return JSON.stringify(tag(value, canonical));
}

/** The plan a text of {@link planToJson} describes; `where` names the text in errors. */
export function planFromJson<T>(text: string, where: string): T {
  try {
    return untag(JSON.parse(text)) as T;
  } catch (err) {
    throw new GeoZarrError("InvalidMetadata", `${where}: not a geozarr plan (${(err as Error).message})`, {
      where,
    });
  }
}

/** A short content hash of plain data: equal data, equal id. */
export function contentId(value: unknown): string {
  return createHash("sha256").update(planToJson(value)).digest("hex").slice(0, 16);
}
