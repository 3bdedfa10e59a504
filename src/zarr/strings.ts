/**
 * String data types: what a Zarr array of text holds, how each format spells it, and the bytes of
 * its chunks.
 *
 * - Fixed-length byte strings: v2 `"|S<n>"` (v2 spec "Data type encoding": numpy `bytes_`, each
 *   element n bytes, NUL-padded), v3 `null_terminated_bytes` (zarr-extensions, what zarr-python 3
 *   writes for `|S`).
 * - Fixed-length unicode: v2 `"<U<n>"`/`">U<n>"` (numpy `str_`: n UTF-32 code points), v3
 *   `fixed_length_utf32` (zarr-extensions; `length_bytes` is 4 n).
 * - Variable-length UTF-8: v2 `"|O"` with numcodecs' `vlen-utf8` filter (zarr-python 2's
 *   `object_codec=VLenUTF8()`, what xarray writes for `str`), v3 `string` with the `vlen-utf8`
 *   codec (zarr-extensions data-types/string and codecs/vlen-utf8).
 *
 * In memory an element is a JS string. For byte strings it is a "binary string" (one UTF-16 code
 * unit per byte, 0-255), so bytes that are not UTF-8 survive a copy; trailing NULs are stripped, as
 * numpy and the null_terminated_bytes spec do ("a trailing run of zero bytes is padding").
 *
 * @module
 */

import { GeoZarrError } from "../errors.js";
import type { Endian } from "./dtype.js";
import { isJsonObject, showJson } from "./json.js";

export type StringType =
  | { kind: "bytes"; length: number }
  | { kind: "utf32"; length: number; endian: Endian }
  | { kind: "vlen-utf8" };

const unsupported = (where: string, what: string) =>
  new GeoZarrError("Unsupported", `${where}: unsupported dtype ${what}`, { where });

/**
 * The string type of a v2 dtype, or null when the dtype is not text. `|O` is text only with
 * numcodecs' vlen-utf8 as its object codec (the first filter, as zarr-python 2 records it);
 * other object codecs (vlen-bytes, json2, pickle, msgpack) are refused by name.
 */
export function v2StringType(dtype: unknown, filters: unknown, where: string): StringType | null {
  if (typeof dtype !== "string") return null;
  const fixed = /^([<>|])([SU])(\d+)$/.exec(dtype);
  if (fixed) {
    const length = Number(fixed[3]);
    if (length < 1) throw unsupported(where, `${showJson(dtype)} (strings of length 0)`);
    return fixed[2] === "S"
      ? { kind: "bytes", length }
      : { kind: "utf32", length, endian: fixed[1] === ">" ? "big" : "little" };
  }
  if (dtype !== "|O") return null;
  const first = Array.isArray(filters) ? filters[0] : undefined;
  const id = isJsonObject(first) ? first.id : undefined;
  if (id === "vlen-utf8") return { kind: "vlen-utf8" };
  throw unsupported(
    where,
    `"|O" ${typeof id === "string" ? `with object codec ${showJson(id)} (only vlen-utf8 strings are read)` : "without an object codec"}`,
  );
}

/** The string type of a v3 `data_type`, or null when it is not one of the string types. */
export function v3StringType(dataType: unknown, where: string): StringType | null {
  if (dataType === "string") return { kind: "vlen-utf8" };
  if (!isJsonObject(dataType)) return null;
  const n = isJsonObject(dataType.configuration) ? dataType.configuration.length_bytes : undefined;
  const name = dataType.name;
  if (name !== "null_terminated_bytes" && name !== "fixed_length_utf32") return null;
  const per = name === "fixed_length_utf32" ? 4 : 1;
  if (typeof n !== "number" || !Number.isInteger(n) || n < per || n % per !== 0)
    throw new GeoZarrError(
      "InvalidMetadata",
      `${where}: data_type ${name} needs a configuration length_bytes, a positive multiple of ${per}, got ${showJson(n)}`,
      { where },
    );
  // The bytes codec's endian gives UTF-32's byte order; the caller sets it.
  return per === 1 ? { kind: "bytes", length: n } : { kind: "utf32", length: n / 4, endian: "little" };
}

/** Bytes per element of a fixed-width type; undefined for variable-length strings. */
export function itemSize(t: StringType): number | undefined {
  return t.kind === "bytes" ? t.length : t.kind === "utf32" ? 4 * t.length : undefined;
}

/** The name tree/info print: the v2 dtype for fixed widths ("|S7", "<U5"), "string" for vlen-utf8. */
export function displayStringType(t: StringType): string {
  if (t.kind === "vlen-utf8") return "string";
  return t.kind === "bytes" ? `|S${t.length}` : `${t.endian === "big" ? ">" : "<"}U${t.length}`;
}

/** zarrita's name for the type it decodes chunks of this type into (its `v2:S<n>`/`v2:U<n>` arrays, `string`). */
export function zarritaStringType(t: StringType, zarrFormat: 2 | 3): string {
  if (t.kind === "vlen-utf8") return zarrFormat === 2 ? "v2:object" : "string";
  return `v2:${t.kind === "bytes" ? "S" : "U"}${t.length}`;
}

/** A binary string (one code unit per byte) as bytes. */
export function binaryToBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Bytes as a binary string, without the trailing NUL padding. */
export function bytesToBinary(b: Uint8Array): string {
  let end = b.length;
  while (end > 0 && b[end - 1] === 0) end--;
  let s = "";
  for (let i = 0; i < end; i += 8192) s += String.fromCharCode(...b.subarray(i, Math.min(end, i + 8192)));
  return s;
}

/** The text of a byte string, or undefined when its bytes are not UTF-8 (or the label's encoding). */
export function decodeBytes(s: string, encoding = "utf-8"): string | undefined {
  try {
    return new TextDecoder(encoding, { fatal: true }).decode(binaryToBytes(s));
  } catch {
    return undefined;
  }
}

/** A text as a byte string (UTF-8). */
export function encodeUtf8(s: string): string {
  return bytesToBinary(new TextEncoder().encode(s));
}

/**
 * Decode a string array's fill value: v2 `|S` fill values are base64 (v2 spec "fill_value"),
 * `<U` ones the text; v3 null_terminated_bytes base64, fixed_length_utf32 and string the text.
 * zarr-python 2 writes `0` for `|O` arrays: not text, so no fill (null), as xarray writes it.
 */
export function decodeStringFill(raw: unknown, t: StringType, format: 2 | 3, where: string): string | null {
  const bad = (why: string): never => {
    throw new GeoZarrError("InvalidMetadata", `${where}: fill_value ${showJson(raw)} ${why}`, { where });
  };
  if (raw === null || raw === undefined) {
    if (format === 3) bad("must not be null in Zarr v3");
    return null;
  }
  if (t.kind === "vlen-utf8" && format === 2) return typeof raw === "string" ? raw : null;
  if (typeof raw !== "string") return bad("is not a string");
  if (t.kind !== "bytes") {
    if (t.kind === "utf32" && [...raw].length > t.length) bad(`is longer than ${t.length} characters`);
    return raw;
  }
  let bytes: string;
  try {
    bytes = atob(raw);
  } catch {
    return bad("is not base64");
  }
  if (bytes.length > t.length) bad(`decodes to more than ${t.length} bytes`);
  return bytes.replace(/\0+$/, "");
}

/** The JSON form of a string fill value (the inverse of {@link decodeStringFill}). */
export function encodeStringFill(value: string | null, t: StringType, format: 2 | 3): string | null {
  if (value === null) return format === 3 ? "" : null;
  return t.kind === "bytes" ? btoa(value) : value;
}

/** The text of a fill value for messages (byte strings shown as UTF-8 where they are). */
export function formatStringFill(value: string | null, t: StringType): string {
  if (value === null) return "None";
  return JSON.stringify(t.kind === "bytes" ? (decodeBytes(value) ?? value) : value);
}
