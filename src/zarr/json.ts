/**
 * Metadata JSON: lenient in, strict out.
 *
 * Zarr v2 (§fill_value) and v3 (core "Metadata": RFC 8259) both require strict JSON, where NaN and
 * the infinities are the strings "NaN", "Infinity" and "-Infinity". Some Python writers emit bare
 * `NaN`/`Infinity` tokens anyway (zarr-python#2741, #2990; xarray attributes). We read those
 * leniently, remember where they were, and always write strict JSON.
 *
 * @module
 */

import { GeoZarrError } from "../errors.js";
import { formatBytes, MAX_DOCUMENT_BYTES, MAX_JSON_DEPTH } from "./limits.js";

/**
 * A parsed JSON value. Numbers may be NaN or ±Infinity when they came from bare tokens, and integer
 * literals beyond 2^53 are bigints, so that int64/uint64 fill values keep every digit.
 */
export type JsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface LenientParse {
  value: JsonValue;
  /** JSON pointers (RFC 6901) of values that were bare NaN/Infinity/-Infinity tokens. */
  nonStandard: string[];
}

const decoder = new TextDecoder();

/**
 * Parse JSON, accepting bare `NaN`, `Infinity` and `-Infinity` where a value is expected.
 * Strict documents go through `JSON.parse` (fast path); only a failing document is re-parsed by the
 * small tokenizer below, which reports the pointers of the non-standard tokens.
 *
 * @throws GeoZarrError("InvalidMetadata") with a message naming `where` and the byte offset.
 */
export function parseJsonLenient(input: string | Uint8Array, where: string): LenientParse {
  // Hostile documents: a huge one would be decoded whole, a deeply nested one would overflow the
  // stack of every recursive walk after parsing. Both are refused before parsing.
  checkDocumentSize(input.length, where);
  const text = typeof input === "string" ? input : decoder.decode(input);
  checkDepth(text, where);
  // JSON.parse rounds integers beyond 2^53; documents with 16+ digit runs take the exact path.
  if (!/\d{16}/.test(text)) {
    try {
      return { value: JSON.parse(text) as JsonValue, nonStandard: [] };
    } catch {
      // fall through to the lenient parser, which also produces the precise error message
    }
  }
  return new LenientParser(text, where).parseDocument();
}

/** Refuse a metadata document larger than MAX_DOCUMENT_BYTES (callers check sizes before reading, too). */
export function checkDocumentSize(bytes: number, where: string): void {
  if (bytes > MAX_DOCUMENT_BYTES) {
    throw new GeoZarrError(
      "InvalidMetadata",
      `${where}: metadata document of ${formatBytes(bytes)} is larger than the ${formatBytes(MAX_DOCUMENT_BYTES)} accepted`,
      { where },
    );
  }
}

/** Refuse documents nested deeper than MAX_JSON_DEPTH (one pass, brackets inside strings skipped). */
function checkDepth(text: string, where: string): void {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // skip the string, honouring escapes
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_JSON_DEPTH) {
        throw new GeoZarrError(
          "InvalidMetadata",
          `${where}: invalid JSON: nested deeper than ${MAX_JSON_DEPTH} levels`,
          { where },
        );
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
}

class LenientParser {
  private pos = 0;
  readonly nonStandard: string[] = [];

  constructor(
    private readonly text: string,
    private readonly where: string,
  ) {}

  parseDocument(): LenientParse {
    this.skipWs();
    const value = this.parseValue("");
    this.skipWs();
    if (this.pos !== this.text.length) this.fail("unexpected content after the JSON value");
    return { value, nonStandard: this.nonStandard };
  }

  private fail(what: string): never {
    // Report line:column, which is what people look for in an editor.
    const before = this.text.slice(0, this.pos);
    const line = before.split("\n").length;
    const col = this.pos - before.lastIndexOf("\n");
    throw new GeoZarrError(
      "InvalidMetadata",
      `${this.where}: invalid JSON: ${what} at line ${line} column ${col}`,
      {
        where: this.where,
      },
    );
  }

  private skipWs(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
      else break;
    }
  }

  private parseValue(pointer: string): JsonValue {
    const t = this.text;
    const c = t[this.pos];
    if (c === "{") return this.parseObject(pointer);
    if (c === "[") return this.parseArray(pointer);
    if (c === '"') return this.parseString();
    if (t.startsWith("true", this.pos)) return this.literal(4, true);
    if (t.startsWith("false", this.pos)) return this.literal(5, false);
    if (t.startsWith("null", this.pos)) return this.literal(4, null);
    if (t.startsWith("NaN", this.pos)) return this.bare(3, Number.NaN, pointer);
    if (t.startsWith("Infinity", this.pos)) return this.bare(8, Number.POSITIVE_INFINITY, pointer);
    if (t.startsWith("-Infinity", this.pos)) return this.bare(9, Number.NEGATIVE_INFINITY, pointer);
    if (c !== undefined && (c === "-" || (c >= "0" && c <= "9"))) return this.parseNumber();
    this.fail(c === undefined ? "unexpected end of input" : `unexpected character ${JSON.stringify(c)}`);
  }

  private literal<T extends JsonValue>(len: number, value: T): T {
    this.pos += len;
    return value;
  }

  private bare(len: number, value: number, pointer: string): number {
    this.nonStandard.push(pointer);
    this.pos += len;
    return value;
  }

  private parseNumber(): number | bigint {
    const m = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.pos, this.pos + 400));
    if (!m) this.fail("invalid number");
    this.pos += m[0].length;
    const n = Number(m[0]);
    if (m[1] === undefined && m[2] === undefined && !Number.isSafeInteger(n)) return BigInt(m[0]);
    return n;
  }

  private parseString(): string {
    // Find the closing quote, honouring escapes, then let JSON.parse decode the escapes.
    const t = this.text;
    let i = this.pos + 1;
    while (i < t.length) {
      const c = t.charCodeAt(i);
      if (c === 0x22) break;
      if (c === 0x5c) i += 2;
      else i++;
    }
    if (i >= t.length) this.fail("unterminated string");
    const raw = t.slice(this.pos, i + 1);
    this.pos = i + 1;
    try {
      return JSON.parse(raw) as string;
    } catch {
      this.pos -= raw.length;
      this.fail("invalid string escape");
    }
  }

  private parseArray(pointer: string): JsonValue[] {
    this.pos++; // [
    const out: JsonValue[] = [];
    this.skipWs();
    if (this.text[this.pos] === "]") {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWs();
      out.push(this.parseValue(`${pointer}/${out.length}`));
      this.skipWs();
      const c = this.text[this.pos];
      if (c === ",") {
        this.pos++;
        continue;
      }
      if (c === "]") {
        this.pos++;
        return out;
      }
      this.fail("expected ',' or ']'");
    }
  }

  private parseObject(pointer: string): JsonObject {
    this.pos++; // {
    const out: JsonObject = {};
    this.skipWs();
    if (this.text[this.pos] === "}") {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWs();
      if (this.text[this.pos] !== '"') this.fail("expected a quoted key");
      const key = this.parseString();
      this.skipWs();
      if (this.text[this.pos] !== ":") this.fail("expected ':'");
      this.pos++;
      this.skipWs();
      const value = this.parseValue(`${pointer}/${escapePointer(key)}`);
      // An own property, as JSON.parse makes it: plain assignment of "__proto__" would set the prototype.
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      this.skipWs();
      const c = this.text[this.pos];
      if (c === ",") {
        this.pos++;
        continue;
      }
      if (c === "}") {
        this.pos++;
        return out;
      }
      this.fail("expected ',' or '}'");
    }
  }
}

/** Escape one JSON-pointer reference token (RFC 6901 §3). */
export function escapePointer(token: string): string {
  return token.replace(/~/g, "~0").replace(/\//g, "~1");
}

/** A value from a document, shown in a message: strict JSON (bigints exact), at most 200 characters. */
export function showJson(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = toStrictJson(value, 0);
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

/**
 * Serialize to strict JSON: NaN, Infinity and -Infinity become the strings the Zarr specs use;
 * bigint values become JSON integers, numbers beyond 2^53 floats with an exponent. Indented with 4 spaces, as zarr-python writes metadata.
 */
export function toStrictJson(value: unknown, indent: number | undefined = 4): string {
  return JSON.stringify(value, strictReplacer, indent)
    .replace(BIGINT_RE, "$1")
    .replace(NON_ASCII, escapeChar);
}

// Non-ASCII characters escaped as \uXXXX, as zarr-python writes metadata (json ensure_ascii): some
// readers decode metadata files as ASCII. They can only occur inside strings, where this is exact.
const NON_ASCII = /[\u007f-\uffff]/g;
const escapeChar = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;

function strictReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "number" && !Number.isFinite(value)) {
    return Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
  }
  if (typeof value === "bigint") {
    // JSON.stringify cannot emit bigints and numbers beyond 2^53 lose precision: emit a marker string
    // that `toStrictJson` replaces with the exact digits.
    return `\u0001raw:${value.toString()}`;
  }
  // A float that happens to be an integer beyond 2^53 (a missing_value of 1e20): JSON.stringify
  // writes it as digits ("100000000000000000000"), which every reader, this one included, takes
  // for an integer; an exponent keeps it a float (Python's json, numpy, xarray).
  if (typeof value === "number" && Number.isInteger(value) && Math.abs(value) > Number.MAX_SAFE_INTEGER) {
    return `\u0001raw:${value.toExponential()}`;
  }
  return value;
}

const BIGINT_RE = /"\\u0001raw:(-?[\d.e+-]+)"/g;

/** Strict JSON bytes (UTF-8) for a metadata document, exact for bigint integers. */
export function encodeJson(value: unknown, indent = 4): Uint8Array {
  return new TextEncoder().encode(toStrictJson(value, indent));
}

/** Structural equality for parsed JSON, with NaN equal to NaN (used to compare documents). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (typeof a === "number" && typeof b === "number") return a === b || (Number.isNaN(a) && Number.isNaN(b));
  if (typeof a === "bigint" || typeof b === "bigint") {
    return (
      (typeof a === "bigint" || typeof a === "number") &&
      (typeof b === "bigint" || typeof b === "number") &&
      Number(a) === Number(b)
    );
  }
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => jsonEqual(v, bb[i]));
  }
  const ak = Object.keys(a);
  const bo = b as Record<string, unknown>;
  if (ak.length !== Object.keys(bo).length) return false;
  return ak.every((k) => k in bo && jsonEqual((a as Record<string, unknown>)[k], bo[k]));
}

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
