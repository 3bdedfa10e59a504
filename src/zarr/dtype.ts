/**
 * Data types: the Zarr v3 names (core spec "Data types") are the internal vocabulary; Zarr v2 dtype
 * strings (numpy typestr, v2 spec "Data type encoding") are translated on the way in and out.
 *
 * @module
 */

import { GeoZarrError } from "../errors.js";
import { showJson } from "./json.js";

export type DataType =
  | "bool"
  | "int8"
  | "uint8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "uint64"
  | "float32"
  | "float64";

export type Endian = "little" | "big";

export type NumberArray =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array;
export type BigIntArray = BigInt64Array | BigUint64Array;
export type AnyTypedArray = NumberArray | BigIntArray;

interface TypedArrayCtor<T extends AnyTypedArray = AnyTypedArray> {
  new (length: number): T;
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): T;
  readonly BYTES_PER_ELEMENT: number;
}

export interface DataTypeInfo {
  name: DataType;
  size: number;
  kind: "bool" | "int" | "uint" | "float";
  /** The numpy typestr body without byte order: "f8", "i2", "b1". */
  v2Code: string;
  ctor: TypedArrayCtor;
}

const TABLE: Record<DataType, DataTypeInfo> = {
  bool: { name: "bool", size: 1, kind: "bool", v2Code: "b1", ctor: Uint8Array },
  int8: { name: "int8", size: 1, kind: "int", v2Code: "i1", ctor: Int8Array },
  uint8: { name: "uint8", size: 1, kind: "uint", v2Code: "u1", ctor: Uint8Array },
  int16: { name: "int16", size: 2, kind: "int", v2Code: "i2", ctor: Int16Array },
  uint16: { name: "uint16", size: 2, kind: "uint", v2Code: "u2", ctor: Uint16Array },
  int32: { name: "int32", size: 4, kind: "int", v2Code: "i4", ctor: Int32Array },
  uint32: { name: "uint32", size: 4, kind: "uint", v2Code: "u4", ctor: Uint32Array },
  int64: { name: "int64", size: 8, kind: "int", v2Code: "i8", ctor: BigInt64Array },
  uint64: { name: "uint64", size: 8, kind: "uint", v2Code: "u8", ctor: BigUint64Array },
  float32: { name: "float32", size: 4, kind: "float", v2Code: "f4", ctor: Float32Array },
  float64: { name: "float64", size: 8, kind: "float", v2Code: "f8", ctor: Float64Array },
};

const BY_V2_CODE = new Map(Object.values(TABLE).map((t) => [t.v2Code, t]));

export function isDataType(s: unknown): s is DataType {
  return typeof s === "string" && Object.hasOwn(TABLE, s);
}

export function dataTypeInfo(dt: DataType): DataTypeInfo {
  return TABLE[dt];
}

export function isFloat(dt: DataType): boolean {
  return TABLE[dt].kind === "float";
}

export function isBigInt(dt: DataType): boolean {
  return dt === "int64" || dt === "uint64";
}

/** Integer range of a data type as numbers (exact up to 2^53, which is all the checks need). */
export function integerRange(dt: DataType): [number, number] | null {
  const t = TABLE[dt];
  if (t.kind === "int") return [-(2 ** (t.size * 8 - 1)), 2 ** (t.size * 8 - 1) - 1];
  if (t.kind === "uint") return [0, 2 ** (t.size * 8) - 1];
  if (t.kind === "bool") return [0, 1];
  return null;
}

/** A typed array of `length` elements for a data type. */
export function allocate(dt: DataType, length: number): AnyTypedArray {
  return new TABLE[dt].ctor(length);
}

/** A typed-array view of `bytes` (which must be aligned to the element size) as `dt`. */
export function viewAs(dt: DataType, bytes: Uint8Array): AnyTypedArray {
  const t = TABLE[dt];
  return new t.ctor(bytes.buffer, bytes.byteOffset, bytes.byteLength / t.size);
}

/**
 * Parse a v2 dtype string such as "<f8", ">i2", "|u1" or "|b1".
 * The byte-order character is required by the v2 spec; structured and string dtypes are not
 * numeric rasters and are reported as unsupported.
 */
export function parseV2Dtype(dtype: unknown, where: string): { dataType: DataType; endian: Endian } {
  if (typeof dtype !== "string") {
    throw new GeoZarrError(
      Array.isArray(dtype) ? "Unsupported" : "InvalidMetadata",
      Array.isArray(dtype)
        ? `${where}: structured dtypes are not supported`
        : `${where}: "dtype" must be a string, got ${showJson(dtype)}`,
      { where },
    );
  }
  const m = /^([<>|])([a-zA-Z]\d+)$/.exec(dtype);
  const info = m ? BY_V2_CODE.get(m[2]!) : undefined;
  if (!m || !info) {
    const tag = /^[<>|][SUOVmM]/.test(dtype) ? "Unsupported" : "InvalidMetadata";
    throw new GeoZarrError(tag, `${where}: unsupported dtype ${showJson(dtype)}`, { where });
  }
  return { dataType: info.name, endian: m[1] === ">" ? "big" : "little" };
}

/** The v2 dtype string for a data type ("|" for single-byte types, as numpy writes them). */
export function toV2Dtype(dt: DataType, endian: Endian = "little"): string {
  const t = TABLE[dt];
  const order = t.size === 1 ? "|" : endian === "big" ? ">" : "<";
  return `${order}${t.v2Code}`;
}

/** The name zarr-python prints for a dtype: numpy's name, with the byte order when it is not native. */
export function displayDtype(dt: DataType, endian: Endian = "little"): string {
  return endian === "big" && TABLE[dt].size > 1 ? toV2Dtype(dt, "big") : dt;
}
