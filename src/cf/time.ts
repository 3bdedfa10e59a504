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

/** ISO 8601 labels of time coordinate values, or null when the units or calendar are not decodable. */
export function decodeTimes(values: ArrayLike<number>, units: unknown, calendar: unknown): string[] | null {
  if (typeof units !== "string") return null;
  if (calendar !== undefined && !(typeof calendar === "string" && GREGORIAN.has(calendar.toLowerCase())))
    return null;
  const u = parseUnits(units);
  if (!u?.since) return null;
  const origin = referenceTime(u.since.reference);
  if (origin === null) return null;
  const out: string[] = [];
  for (let i = 0; i < values.length; i++) {
    const t = origin + Number(values[i]) * u.scale * 1000;
    if (!Number.isFinite(t) || Math.abs(t) > 8.64e15) return null;
    const iso = new Date(t).toISOString();
    out.push(iso.endsWith("T00:00:00.000Z") ? iso.slice(0, 10) : iso.replace(/\.000Z$/, "Z"));
  }
  return out;
}
