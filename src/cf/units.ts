/**
 * A UDUNITS-2 units parser, enough of it to check CF `units` attributes.
 *
 * CF 1.11 §3.1 requires `units` to be "recognizable by the UDUNITS package" and a standard name's
 * canonical units to be convertible to them, so "valid units" means whatever UDUNITS-2 accepts.
 * Binding libudunits2 or spawning udunits2 would make validation depend on a native install,
 * hence this reimplementation: the grammar follows UDUNITS 2.2.28's scanner.l and parser.y
 * (longest-match tokens, "m2" = m^2, "s-1" = s^-1, juxtaposition, "per", "@"/"since" shifts,
 * "lg(re ...)"), and the vocabulary is UDUNITS' own XML database, vendored as
 * data/units/udunits2.json by scripts/data/gen_units_table.py. Definitions in that table stay
 * UDUNITS expressions and go through this same parser, so the database exercises the grammar;
 * test/cf/units.test.ts checks every name and symbol in it against the udunits2 program.
 *
 * Where UDUNITS 2.2.28 is looser than a checker should be, this module is stricter, on purpose:
 * - reference times after "since" must be well-formed (month 1-12, day 1-31, hour 0-23, minute
 *   0-59, second < 61, zone offset under 24 h, a zone only after a clock); UDUNITS 2.2.28 reads
 *   "2000-13-01" as a date and drops a word after a date. Days are not checked against a
 *   calendar: CF calendars differ (360_day has 30 February).
 * - convertibility means equal dimensions. UDUNITS also calls reciprocal units convertible
 *   ("s" and "Hz"), which is not physical equivalence.
 * - only a unit of time can have a "since" origin (UDUNITS also accepts "Hz since ...").
 * - a stray closing parenthesis is an error (UDUNITS accepts "m)").
 * Like UDUNITS, radians are dimensionless for convertibility ("degree_north" converts to "1",
 * "sr" to "rad"); `dims[7]` still counts them, and `strictAngles` makes them count. Not
 * supported: the logarithm of a logarithmic unit ("lg(re dBZ)"), and Latin-1 byte strings
 * (JavaScript strings are Unicode; UDUNITS' UTF-8 mode is what is reproduced).
 * @module
 */

import { readFileSync } from "node:fs";

/** Names of the entries of {@link ParsedUnit.dims}: the SI base units, then the radian. */
export const DIMENSIONS = ["m", "kg", "s", "A", "K", "mol", "cd", "rad"] as const;

/**
 * A parsed unit: a value x in it is x * scale + offset in the SI base units of `dims` (for a
 * reference-time unit, a duration of x * scale seconds since the reference time).
 */
export interface ParsedUnit {
  /** Exponents of {@link DIMENSIONS}. */
  dims: number[];
  scale: number;
  offset: number;
  /** For "<time unit> since <reference time>": the two parts as written. */
  since?: { base: string; reference: string };
  /**
   * For logarithmic units ("dBZ", "lg(re 1 mW)"): the logarithm's base and the reference level in
   * SI units. `dims` are the reference's, as UDUNITS compares them, and `scale` multiplies the
   * logarithm (0.1 for the "d" of "dBZ").
   */
  log?: { base: number; reference: number };
}

interface TableUnit {
  base?: number;
  def?: string;
  names: string[];
  symbols: string[];
}

interface Vocabulary {
  units: TableUnit[];
  resolved: (ParsedUnit | null | undefined)[];
  names: Map<string, number>;
  symbols: Map<string, number>;
  namePrefixes: Prefixes;
  symbolPrefixes: Prefixes;
}

interface Prefixes {
  values: Map<string, number>;
  /** Every leading part of every prefix, to replay UDUNITS' trie walk (prefix.c, ptvmFind). */
  stems: Set<string>;
  fold: (s: string) => string;
}

const NO_DIMS = [0, 0, 0, 0, 0, 0, 0, 0];
const ONE: ParsedUnit = { dims: NO_DIMS, scale: 1, offset: 0 };
/** UDUNITS compares names with strcasecmp in the C locale: ASCII letters only. */
const foldAscii = (s: string) => s.replace(/[A-Z]+/g, (c) => c.toLowerCase());
const same = (s: string) => s;

let vocabulary: Vocabulary | undefined;

function prefixes(values: Record<string, number>, fold: (s: string) => string): Prefixes {
  const map = new Map(Object.entries(values).map(([k, v]) => [fold(k), v]));
  const stems = new Set([...map.keys()].flatMap((k) => [...k].map((_, i) => k.slice(0, i + 1))));
  return { values: map, stems, fold };
}

function vocab(): Vocabulary {
  if (vocabulary) return vocabulary;
  const table = JSON.parse(
    readFileSync(new URL("../../data/units/udunits2.json", import.meta.url), "utf8"),
  ) as { prefixes: { names: Record<string, number>; symbols: Record<string, number> }; units: TableUnit[] };
  const names = new Map<string, number>();
  const symbols = new Map<string, number>();
  table.units.forEach((u, i) => {
    for (const n of u.names) names.set(foldAscii(n), i);
    for (const s of u.symbols) symbols.set(s, i);
  });
  vocabulary = {
    units: table.units,
    resolved: [],
    names,
    symbols,
    namePrefixes: prefixes(table.prefixes.names, foldAscii),
    symbolPrefixes: prefixes(table.prefixes.symbols, same),
  };
  return vocabulary;
}

class Invalid extends Error {}

function fail(): never {
  throw new Invalid();
}

// Unit arithmetic, with UDUNITS' rules for offsets, origins and logarithms (unitcore.c): a
// product or power keeps neither an offset nor a time origin; a logarithmic unit may only be
// scaled by a dimensionless factor.

/** UDUNITS refuses a unit whose factor underflows to zero ("e30", the elementary charge to the 30th). */
function nonZero(scale: number): number {
  return scale === 0 ? fail() : scale;
}

function isDimensionless(u: ParsedUnit): boolean {
  return u.dims.every((d, i) => d === 0 || i === 7);
}

function multiply(a: ParsedUnit, b: ParsedUnit): ParsedUnit {
  if (a.log || b.log) {
    const [l, o] = a.log ? [a, b] : [b, a];
    if (o.log || !isDimensionless(o)) fail();
    return { ...l, scale: nonZero(l.scale * o.scale) };
  }
  return { dims: a.dims.map((d, i) => d + b.dims[i]!), scale: nonZero(a.scale * b.scale), offset: 0 };
}

function raise(u: ParsedUnit, n: number): ParsedUnit {
  if (!Number.isInteger(n) || n < -255 || n > 255) fail();
  if (n === 0) return ONE;
  if (n === 1) return u;
  if (u.log) fail();
  return { dims: u.dims.map((d) => d * n || 0), scale: nonZero(u.scale ** n), offset: 0 };
}

function scaleBy(factor: number, u: ParsedUnit): ParsedUnit {
  if (factor === 0 || !Number.isFinite(factor)) fail();
  return factor === 1 ? u : { ...u, scale: u.scale * factor };
}

function isTime(u: ParsedUnit): boolean {
  return !u.log && !u.since && u.dims.every((d, i) => d === (i === 2 ? 1 : 0) || i === 7);
}

// The scanner: UDUNITS' flex rules in file order. Flex takes the longest match and, on a tie,
// the earlier rule; each rule is active in some start states only ("I" initial, "D" after an
// identifier). The timestamp states are replaced by a stricter reader, readReference().

type Kind = "SHIFT" | "DIVIDE" | "MULTIPLY" | "EXPONENT" | "REAL" | "INT" | "LOGREF" | "ID" | "CHAR" | "END";
interface Token {
  kind: Kind;
  text: string;
  start: number;
  value: number;
}

const SP = "[ \\t\\r\\f\\v]";
const LETTER =
  "[_a-zA-Z\\u00A0\\u00AD\\u00B0\\u00B5\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u00FF\\u0200-\\uFFFF]";
const ALNUM = `(?:${LETTER}|[0-9])`;
const REAL = "[+-]?(?:\\d+[eE][+-]?\\d+|(?:\\d+\\.\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?)";
const SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹";

interface Rule {
  kind: Kind;
  re: RegExp;
  states: string;
  /** State after the match; undefined leaves it unchanged. */
  next?: "I" | "D";
}

const rule = (kind: Kind, re: string, states: string, next?: "I" | "D"): Rule => ({
  kind,
  re: new RegExp(re, "uy"),
  states,
  next,
});

const RULES: Rule[] = [
  rule(
    "SHIFT",
    `${SP}*(?:@|[Aa][Ff][Tt][Ee][Rr]|[Ff][Rr][Oo][Mm]|[Rr][Ee][Ff]|[Ss][Ii][Nn][Cc][Ee])${SP}*`,
    "ID",
  ),
  rule("DIVIDE", `${SP}*(?:[Pp][Ee][Rr]|/)${SP}*`, "ID", "I"),
  rule("MULTIPLY", `-|\\.|\\*|\\u00B7|${SP}+`, "ID", "I"),
  rule("EXPONENT", "(?:\\^|\\*\\*)[+-]?\\d+", "ID"),
  rule("EXPONENT", `[⁺⁻]?[${SUPERSCRIPTS}]+`, "ID", "I"),
  rule("REAL", REAL, "I", "I"),
  rule("INT", "[+-]?\\d+", "ID", "I"),
  rule("LOGREF", `(?:log|lg|ln|lb)${SP}*\\(${SP}*[Rr][Ee](?::${SP})?${SP}*`, "ID"),
  rule("ID", `%|'|"|${LETTER}(?:${ALNUM}*${LETTER})?`, "I", "D"),
  rule("CHAR", "[^\\n]", "ID", "I"),
];

class Scanner {
  pos = 0;
  private state: "I" | "D" = "I";
  private ahead: Token | undefined;

  constructor(readonly text: string) {}

  peek(): Token {
    this.ahead ??= this.scan();
    return this.ahead;
  }

  take(): Token {
    const t = this.peek();
    this.ahead = undefined;
    return t;
  }

  /** Continues after text read by other means (a shift's operand). */
  resume(pos: number): void {
    this.pos = pos;
    this.state = "I";
    this.ahead = undefined;
  }

  private scan(): Token {
    const start = this.pos;
    if (start >= this.text.length) return { kind: "END", text: "", start, value: 0 };
    let best: { r: Rule; text: string } | undefined;
    for (const r of RULES) {
      if (!r.states.includes(this.state)) continue;
      r.re.lastIndex = start;
      const m = r.re.exec(this.text);
      if (m && (!best || m[0].length > best.text.length)) best = { r, text: m[0] };
    }
    if (!best) fail();
    this.pos = start + best.text.length;
    if (best.r.next) this.state = best.r.next;
    return { kind: best.r.kind, text: best.text, start, value: tokenValue(best.r.kind, best.text) };
  }
}

function tokenValue(kind: Kind, text: string): number {
  if (kind === "INT" || kind === "REAL") return Number(text);
  if (kind === "LOGREF") return text.startsWith("ln") ? Math.E : text.startsWith("lb") ? 2 : 10;
  if (kind !== "EXPONENT") return 0;
  if (/^[\^*]/.test(text)) return Number(text.replace(/^[\^*]+/, ""));
  const digits = [...text.replace(/^[⁺⁻]/, "")].map((c) => SUPERSCRIPTS.indexOf(c)).join("");
  return (text.startsWith("⁻") ? -1 : 1) * Number(digits);
}

// Reference times: [+-]Y[YYY]-M[M][-D[D]] or packed Y[YYY], YYYYMM, YYYYMMDD; then optionally
// "T" or spaces, a clock (H[H]:M[M][:S[S][.frac]] or packed H[H], HHMM, HHMMSS[.frac]), and after
// the clock optionally a zone (UTC, GMT, Z, ±H[H][:MM], ±HHMM), as UDUNITS' scanner.l spells them.
const DATE = "(?:(?<y>[+-]?\\d{1,4})-(?<mo>\\d{1,2})(?:-(?<d>\\d{1,2}))?|(?<packedDate>[+-]?\\d{1,8}))";
const CLOCK =
  "(?:(?<h>\\d{1,2}):(?<mi>\\d{1,2})(?::(?<s>\\d{1,2}(?:\\.\\d*)?))?|(?<packedClock>\\d{1,6}(?:\\.\\d*)?))";
const ZONE = `(?:(?:[Uu][Tt][Cc]|[Gg][Mm][Tt]|[Zz])(?!${ALNUM})|[+-](?<packedZone>\\d{4})|[+-](?<zh>\\d{1,2})(?::(?<zm>\\d{2}))?(?!\\d))`;
const REFERENCE = new RegExp(`${DATE}(?:(?:T|${SP}+)(?:${CLOCK}(?:${SP}*${ZONE})?)?)?${SP}*`, "uy");

const NUMBER = new RegExp(`^(?:${REAL}|[+-]?\\d+)`, "u");
const DATE_LIKE = /^[+-]?\d{1,4}-\d{1,2}(?:-\d{1,2})?|^[+-]?\d+/;

const inRange = (s: string | undefined, lo: number, hi: number) =>
  s === undefined || s === "" || (Number(s) >= lo && Number(s) <= hi);

/** Reads a reference time at `pos`; returns where it ends, or -1 when it is malformed. */
function readReference(text: string, pos: number): number {
  REFERENCE.lastIndex = pos;
  const m = REFERENCE.exec(text);
  if (!m) return -1;
  const g = m.groups ?? {};
  const date = g.packedDate?.replace(/^[+-]/, "");
  const [clock, fraction] = g.packedClock?.split(".") ?? [];
  const ok =
    (date === undefined || [1, 2, 3, 4, 6, 8].includes(date.length)) &&
    inRange(g.mo ?? date?.slice(4, 6), 1, 12) &&
    inRange(g.d ?? date?.slice(6, 8), 1, 31) &&
    (clock === undefined || [1, 2, 4, 6].includes(clock.length)) &&
    (fraction === undefined || clock?.length === 6) &&
    inRange(g.h ?? clock?.slice(0, 2), 0, 23) &&
    inRange(g.mi ?? clock?.slice(2, 4), 0, 59) &&
    Number(g.s ?? `${clock?.slice(4, 6) || 0}.${fraction || 0}`) < 61 &&
    inRange(g.zh ?? g.packedZone?.slice(0, 2), 0, 23) &&
    inRange(g.zm ?? g.packedZone?.slice(2), 0, 59);
  return ok ? pos + m[0].length : -1;
}

// The grammar of parser.y, by recursive descent.

class Parser {
  readonly scanner: Scanner;

  constructor(readonly text: string) {
    this.scanner = new Scanner(text);
  }

  unit(): ParsedUnit {
    if (this.scanner.peek().kind === "END") return ONE;
    const u = this.shiftExp();
    if (this.scanner.take().kind !== "END") fail();
    return u;
  }

  private shiftExp(): ParsedUnit {
    const start = this.scanner.peek().start;
    const u = this.productExp();
    const shift = this.scanner.peek();
    if (shift.kind !== "SHIFT") return u;
    this.scanner.take();
    const at = this.scanner.pos;
    const rest = this.text.slice(at);
    // Flex's tie-break: a date-like number ("1970", "1970-01-01") is a date for time units,
    // otherwise ("273.15", or any number after a non-time unit) an offset.
    const number = NUMBER.exec(rest)?.[0] ?? "";
    const date = DATE_LIKE.exec(rest)?.[0] ?? "";
    if (isTime(u) && date.length > 0 && date.length >= number.length) {
      const end = readReference(this.text, at);
      if (end < 0) fail();
      this.scanner.resume(end);
      const since = {
        base: this.text.slice(start, shift.start).trim(),
        reference: this.text.slice(at, end).trim(),
      };
      return { ...u, since };
    }
    if (!number) fail();
    const offset = Number(number);
    if (!Number.isFinite(offset)) fail();
    this.scanner.resume(at + number.length);
    return {
      dims: u.dims,
      scale: u.scale,
      offset: offset * u.scale + u.offset,
      ...(u.log ? { log: u.log } : {}),
    };
  }

  private productExp(): ParsedUnit {
    let u = this.powerExp();
    for (;;) {
      const t = this.scanner.peek();
      if (t.kind === "MULTIPLY" || t.kind === "DIVIDE") {
        this.scanner.take();
        const v = this.powerExp();
        u = t.kind === "MULTIPLY" ? multiply(u, v) : multiply(u, raise(v, -1));
      } else if (["ID", "INT", "REAL", "LOGREF"].includes(t.kind) || t.text === "(") {
        u = multiply(u, this.powerExp());
      } else {
        return u;
      }
    }
  }

  private powerExp(): ParsedUnit {
    const u = this.basicExp();
    const t = this.scanner.peek();
    if (t.kind !== "INT" && t.kind !== "EXPONENT") return u;
    this.scanner.take();
    return raise(u, t.value);
  }

  private basicExp(): ParsedUnit {
    const t = this.scanner.take();
    switch (t.kind) {
      case "ID":
        return lookup(t.text) ?? fail();
      case "INT":
      case "REAL":
        return scaleBy(t.value, ONE);
      case "LOGREF": {
        const ref = this.productExp();
        if (this.scanner.take().text !== ")" || ref.log || ref.since) fail();
        return { dims: ref.dims, scale: 1, offset: 0, log: { base: t.value, reference: ref.scale } };
      }
      default: {
        if (t.text !== "(") fail();
        const u = this.shiftExp();
        if (this.scanner.take().text !== ")") fail();
        return u;
      }
    }
  }
}

/** The longest prefix UDUNITS' trie walk finds at the start of `id`, if that is a whole prefix. */
function prefixAt(p: Prefixes, id: string): [number, number] | undefined {
  const folded = p.fold(id);
  let n = 0;
  while (n < folded.length && p.stems.has(folded.slice(0, n + 1))) n++;
  const value = n > 0 ? p.values.get(folded.slice(0, n)) : undefined;
  return value === undefined ? undefined : [value, n];
}

function resolve(v: Vocabulary, i: number): ParsedUnit | null {
  const known = v.resolved[i];
  if (known !== undefined) return known;
  v.resolved[i] = null; // a definition that refers to itself resolves to nothing
  const { base, def = "" } = v.units[i]!;
  const dims = NO_DIMS.map((_, d) => (d === base ? 1 : 0));
  v.resolved[i] = base === undefined ? parse(def) : { dims, scale: 1, offset: 0 };
  return v.resolved[i];
}

/** parser.y's identifier rule: a name or symbol, else peel name prefixes, and one symbol prefix. */
function lookup(id: string): ParsedUnit | null {
  const v = vocab();
  const find = (s: string) => {
    // UDUNITS also maps every identifier with "_" written with no-break spaces instead.
    const alt = s.includes("\u00A0") && !s.includes("_") ? s.replaceAll("\u00A0", "_") : s;
    const i =
      v.names.get(foldAscii(s)) ?? v.names.get(foldAscii(alt)) ?? v.symbols.get(s) ?? v.symbols.get(alt);
    return i === undefined ? undefined : resolve(v, i);
  };
  let factor = 1;
  let symbolPrefixSeen = false;
  for (let rest = id; rest; ) {
    const u = find(rest);
    if (u !== undefined) return u && scaleBy(factor, u);
    let p = prefixAt(v.namePrefixes, rest);
    if (!p && !symbolPrefixSeen) {
      p = prefixAt(v.symbolPrefixes, rest);
      symbolPrefixSeen = true;
    }
    if (!p) return null;
    factor *= p[0];
    rest = rest.slice(p[1]);
  }
  return null;
}

function parse(text: string): ParsedUnit | null {
  try {
    return new Parser(text).unit();
  } catch (e) {
    if (e instanceof Invalid) return null;
    throw e;
  }
}

/**
 * Parses a `units` string the way UDUNITS-2 does (with the stricter points listed above), or
 * returns null when UDUNITS would not accept it ("fraction (between 0 and 1)", "psu", "dB").
 * The empty string is the dimensionless unit one, as in UDUNITS.
 */
export function parseUnits(text: string): ParsedUnit | null {
  const u = parse(text.replace(/^[ \t\n\r\f\v]+|[ \t\n\r\f\v]+$/g, ""));
  // Copies, because the table's resolved units are shared.
  return (
    u && {
      ...u,
      dims: [...u.dims],
      ...(u.since && { since: { ...u.since } }),
      ...(u.log && { log: { ...u.log } }),
    }
  );
}

/**
 * Whether values in units `a` can be converted to units `b`: both parse, their dimensions are
 * equal (radians ignored unless `strictAngles`), and both or neither are reference-time units
 * ("days since 2000-01-01" converts to "s since 1970-01-01" but not to "s"). Offsets ("degC"
 * to "K") and logarithmic units (by their reference level) convert, as in UDUNITS.
 */
export function unitsConvertible(a: string, b: string, options: { strictAngles?: boolean } = {}): boolean {
  const [pa, pb] = [parseUnits(a), parseUnits(b)];
  if (!pa || !pb || Boolean(pa.since) !== Boolean(pb.since)) return false;
  const n = options.strictAngles ? 8 : 7;
  return pa.dims.slice(0, n).every((d, i) => d === pb.dims[i]);
}

/** CF 1.11 §4.1: the units of latitude, which all UDUNITS read as plain degrees. */
const LATITUDE = ["degrees_north", "degree_north", "degree_N", "degrees_N", "degreeN", "degreesN"];
/** CF 1.11 §4.2: the units of longitude. */
const LONGITUDE = ["degrees_east", "degree_east", "degree_E", "degrees_E", "degreeE", "degreesE"];

/** Whether `text` is one of the units CF 1.11 §4.1 lists for latitude (exact spelling). */
export function isLatitudeUnit(text: string): boolean {
  return LATITUDE.includes(text.trim());
}

/** Whether `text` is one of the units CF 1.11 §4.2 lists for longitude (exact spelling). */
export function isLongitudeUnit(text: string): boolean {
  return LONGITUDE.includes(text.trim());
}
