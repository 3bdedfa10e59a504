/**
 * CF time coordinates (CF 1.11 §4.4): "<unit> since <reference>" values as ISO 8601 labels, for
 * the calendars JavaScript dates can represent: standard/gregorian (identical to
 * proleptic_gregorian after 1582-10-15, the only dates we label with them) and proleptic_gregorian.
 * Other calendars (noleap, 360_day, julian...) are left undecoded (null), never guessed.
 * @module
 */

import { parseUnits } from "./units.js";

const GREGORIAN = new Set(["standard", "gregorian", "proleptic_gregorian"]);
const REFERENCE =
  /^(-?\d{1,4})-(\d{1,2})(?:-(\d{1,2}))?(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2}(?:\.\d*)?))?)?\s*(Z|UTC|GMT|[+-]\d{1,2}(?::?\d{2})?)?$/i;

/** Milliseconds since 1970-01-01T00:00Z of a UDUNITS reference time, or null. */
export function referenceTime(text: string): number | null {
  const m = REFERENCE.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s, tz] = m;
  let ms =
    Date.UTC(Number(y), Number(mo) - 1, Number(d ?? 1), Number(h ?? 0), Number(mi ?? 0), 0) +
    Number(s ?? 0) * 1000;
  if (tz && /^[+-]/.test(tz)) {
    const [, sign, hh, mm] = /^([+-])(\d{1,2}):?(\d{2})?$/.exec(tz)!;
    ms -= (sign === "-" ? -1 : 1) * (Number(hh) * 60 + Number(mm ?? 0)) * 60_000;
  }
  return Number.isFinite(ms) ? ms : null;
}

/**
 * A CF time encoding we can compute with exactly: the origin in milliseconds since 1970-01-01T00Z
 * and the unit's length in milliseconds. Null for units that are not "<unit> since <date>" and for
 * calendars other than standard/gregorian/proleptic_gregorian (CF 1.11 §4.4.1).
 */
export interface TimeEncoding {
  units: string;
  calendar: string | undefined;
  originMs: number;
  unitMs: number;
}

export function timeEncoding(units: unknown, calendar: unknown): TimeEncoding | null {
  if (typeof units !== "string") return null;
  if (calendar !== undefined && !(typeof calendar === "string" && GREGORIAN.has(calendar.toLowerCase())))
    return null;
  const u = parseUnits(units);
  if (!u?.since) return null;
  const origin = referenceTime(u.since.reference);
  if (origin === null) return null;
  return { units, calendar: calendar as string | undefined, originMs: origin, unitMs: u.scale * 1000 };
}

/** Instants (milliseconds since 1970-01-01T00Z) of time values, or null when not decodable. */
export function decodeInstants(values: ArrayLike<number | bigint>, enc: TimeEncoding): number[] | null {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const t = enc.originMs + Number(values[i]) * enc.unitMs;
    if (!Number.isFinite(t) || Math.abs(t) > 8.64e15) return null;
    out.push(t);
  }
  return out;
}

/**
 * Time values of `instants` in `enc`'s units, or the first instant that has no exact value there:
 * integer data types need whole multiples of the unit (xarray #5969: appending times silently
 * rounded to another resolution), and every value must fit the type.
 */
export function encodeInstants(
  instants: readonly number[],
  enc: TimeEncoding,
  integer: { min: number; max: number } | null,
): { values: number[] } | { inexact: number } {
  const values: number[] = [];
  for (const t of instants) {
    const v = (t - enc.originMs) / enc.unitMs;
    const r = Math.round(v);
    // Milliseconds are exact in doubles up to 2^53 ms (285,000 years): allow float noise only.
    const exact = Math.abs((r - v) * enc.unitMs) < 1e-3;
    if (integer) {
      if (!exact || r < integer.min || r > integer.max) return { inexact: t };
      values.push(r);
    } else values.push(exact ? r : v);
  }
  return { values };
}

/** An instant as an ISO 8601 label: the date alone at midnight UTC, seconds otherwise. */
export function instantLabel(t: number): string {
  const iso = new Date(t).toISOString();
  return iso.endsWith("T00:00:00.000Z") ? iso.slice(0, 10) : iso.replace(/\.000Z$/, "Z");
}

/** ISO 8601 labels of time coordinate values, or null when the units or calendar are not decodable. */
export function decodeTimes(values: ArrayLike<number>, units: unknown, calendar: unknown): string[] | null {
  const enc = timeEncoding(units, calendar);
  const instants = enc && decodeInstants(values, enc);
  return instants ? instants.map(instantLabel) : null;
}
