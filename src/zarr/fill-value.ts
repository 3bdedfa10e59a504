/**
 * Fill values: decode from and encode to the JSON forms of Zarr v2 (spec "fill_value") and Zarr v3
 * (data-types spec "Fill value representation").
 *
 * In memory a fill value is a number (NaN and ±Infinity included), a bigint for 64-bit integers,
 * a boolean, or null (v2 only: "no fill value"). On disk both formats write NaN and the infinities
 * as the strings "NaN", "Infinity", "-Infinity"; v3 also allows raw IEEE bits as "0x..." strings.
 *
 * @module
 */

import { GeoZarrError } from "../errors.js";
import { type DataType, dataTypeInfo, integerRange, isBigInt } from "./dtype.js";
import { showJson } from "./json.js";

export type FillValue = number | bigint | boolean | null;

const SPECIAL: Record<string, number> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  "-Infinity": Number.NEGATIVE_INFINITY,
};

/** Decode a v2 or v3 JSON fill value for `dt`. */
export function decodeFillValue(raw: unknown, dt: DataType, format: 2 | 3, where: string): FillValue {
  const info = dataTypeInfo(dt);
  const bad = (why: string): never => {
    throw new GeoZarrError("InvalidMetadata", `${where}: fill_value ${showJson(raw)} ${why}`, {
      where,
    });
  };
  if (raw === null) {
    if (format === 3) bad("must not be null in Zarr v3");
    return null;
  }
  if (info.kind === "bool") {
    if (typeof raw === "boolean") return raw;
    // zarr-python v2 writes bool fill values as JSON booleans; accept 0/1 as numpy would.
    if (raw === 0 || raw === 1) return raw === 1;
    return bad("is not a boolean");
  }
  if (info.kind === "float") {
    if (typeof raw === "number") return raw; // includes NaN/Infinity from a lenient parse
    if (typeof raw === "bigint") return Number(raw);
    if (typeof raw === "string") {
      if (raw in SPECIAL) return SPECIAL[raw]!;
      if (format === 3 && /^0x[0-9a-fA-F]+$/.test(raw)) return floatFromHex(raw, dt, bad);
    }
    return bad(`is not a valid ${dt} fill value`);
  }
  // integers
  if (typeof raw === "number") {
    if (!Number.isInteger(raw)) bad(`is not an integer (data type ${dt})`);
    const [lo, hi] = integerRange(dt)!;
    if (raw < lo || raw > hi) bad(`is out of range for ${dt}`);
    return isBigInt(dt) ? BigInt(raw) : raw;
  }
  if (typeof raw === "bigint") {
    const big =
      dt === "uint64" ? [0n, 2n ** 64n - 1n] : dt === "int64" ? [-(2n ** 63n), 2n ** 63n - 1n] : null;
    if (!big || raw < big[0]! || raw > big[1]!) bad(`is out of range for ${dt}`);
    return raw;
  }
  return bad(`is not an integer (data type ${dt})`);
}

function floatFromHex(hex: string, dt: DataType, bad: (why: string) => never): number {
  const size = dataTypeInfo(dt).size;
  const digits = hex.slice(2);
  if (digits.length !== size * 2) bad(`must have ${size * 2} hex digits for ${dt}`);
  const view = new DataView(new ArrayBuffer(size));
  if (size === 4) {
    view.setUint32(0, Number.parseInt(digits, 16));
    return view.getFloat32(0);
  }
  view.setBigUint64(0, BigInt(`0x${digits}`));
  return view.getFloat64(0);
}

/** The JSON form of a fill value (strict: NaN as "NaN"). v3 needs a value: null maps to the default. */
export function encodeFillValue(value: FillValue, dt: DataType, format: 2 | 3): unknown {
  if (value === null) {
    if (format === 2) return null;
    value = defaultFillValue(dt);
  }
  if (typeof value === "number" && !Number.isFinite(value)) {
    return Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
  }
  if (typeof value === "bigint") return value; // serialized exactly by json.ts
  return value;
}

/**
 * The fill value a v3 array gets when the source has none (a v2 `null`): NaN for floats, 0 for
 * integers, false for booleans. For floats NaN, because a missing chunk must read as missing and
 * not as a valid 0.0 (the defect of the notebook's v3 output, xarray#10646).
 */
export function defaultFillValue(dt: DataType): FillValue {
  const info = dataTypeInfo(dt);
  if (info.kind === "float") return Number.NaN;
  if (info.kind === "bool") return false;
  return isBigInt(dt) ? 0n : 0;
}

/** NaN-aware equality of two fill values. */
export function sameFillValue(a: FillValue, b: FillValue): boolean {
  if (typeof a === "number" && typeof b === "number") return a === b || (Number.isNaN(a) && Number.isNaN(b));
  if (typeof a === "bigint" || typeof b === "bigint") {
    const asBig = (v: FillValue) =>
      typeof v === "bigint" ? v : typeof v === "number" && Number.isInteger(v) ? BigInt(v) : undefined;
    const x = asBig(a);
    return x !== undefined && x === asBig(b);
  }
  return a === b;
}

/** A human form: NaN, -32768, true. */
export function formatFillValue(v: FillValue): string {
  if (v === null) return "None";
  return String(v);
}
