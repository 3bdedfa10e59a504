/**
 * When a scene was taken, for stacking GeoTIFFs along `time` (issue 17 item 4, convert/series/
 * scenes.ts): from the file name through a regular expression, or from TIFFTAG_DATETIME
 * ("YYYY:MM:DD HH:MM:SS", TIFF 6.0 section 8). Dates come back as ISO 8601 text, UTC: a date
 * ("2023-06-15") or a date and time ("2023-06-15T10:30:21Z").
 * @module
 */

import { GeoZarrError } from "../errors.js";

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

function iso(file: string, y: number, mo: number, d: number, time?: [number, number, number]): string {
  const t = new Date(Date.UTC(y, mo - 1, d, ...(time ?? [0, 0, 0])));
  const bad =
    t.getUTCFullYear() !== y ||
    t.getUTCMonth() !== mo - 1 ||
    t.getUTCDate() !== d ||
    (time && (t.getUTCHours() !== time[0] || t.getUTCMinutes() !== time[1] || t.getUTCSeconds() !== time[2]));
  if (bad)
    throw new GeoZarrError(
      "Format",
      `${file}: ${y}-${mo}-${d}${time ? ` ${time.join(":")}` : ""} is not a valid date`,
      { where: file },
    );
  const date = `${pad(y, 4)}-${pad(mo)}-${pad(d)}`;
  return time ? `${date}T${pad(time[0])}:${pad(time[1])}:${pad(time[2])}Z` : date;
}

/** A date written as digits: YYYYMMDD, YYYY-MM-DD, YYYYDDD (day of year, as Landsat names), with an optional THHMMSS. */
function parseDigits(file: string, text: string): string | null {
  let m = /^(\d{4})-?(\d{2})-?(\d{2})(?:[T_ ]?(\d{2}):?(\d{2}):?(\d{2}))?Z?$/.exec(text);
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    return iso(file, y, mo, d, m[4] ? [Number(m[4]), Number(m[5]), Number(m[6])] : undefined);
  }
  m = /^(\d{4})(\d{3})$/.exec(text);
  if (m) {
    const [y, doy] = [Number(m[1]), Number(m[2])];
    const t = new Date(Date.UTC(y, 0, doy));
    if (doy < 1 || t.getUTCFullYear() !== y)
      throw new GeoZarrError("Format", `${file}: day ${doy} of ${y} is not a date`, { where: file });
    return iso(file, y, t.getUTCMonth() + 1, t.getUTCDate());
  }
  return null;
}

/**
 * The date in a file name: `pattern` is matched against the name (not the directory); the date is
 * its named groups `year`, `month`, `day` (and `hour`, `minute`, `second`, or `doy` for a day of
 * the year), else its first capture group, else the whole match, written as digits (see parseDigits).
 */
export function dateFromName(path: string, pattern: string): string {
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch (err) {
    throw new GeoZarrError(
      "Usage",
      `time pattern ${JSON.stringify(pattern)} is not a regular expression: ${(err as Error).message}`,
    );
  }
  const name = path.slice(path.lastIndexOf("/") + 1);
  const m = re.exec(name);
  if (!m)
    throw new GeoZarrError(
      "Usage",
      `${path}: its name does not match the time pattern ${JSON.stringify(pattern)}`,
      { where: path },
    );
  const g = m.groups ?? {};
  if (g.year !== undefined && (g.doy !== undefined || (g.month !== undefined && g.day !== undefined))) {
    if (g.doy !== undefined) return parseDigits(path, `${g.year}${g.doy.padStart(3, "0")}`)!;
    const time =
      g.hour !== undefined
        ? ([g.hour, g.minute ?? "0", g.second ?? "0"].map(Number) as [number, number, number])
        : undefined;
    return iso(path, Number(g.year), Number(g.month), Number(g.day), time);
  }
  const text = m[1] ?? m[0];
  const date = parseDigits(path, text);
  if (!date)
    throw new GeoZarrError(
      "Usage",
      `${path}: ${JSON.stringify(text)} (matched by the time pattern) is not a date such as 20230615, 2023-06-15, 2023166 or 20230615T103021`,
      { where: path },
    );
  return date;
}

/** TIFFTAG_DATETIME ("2023:06:15 10:30:21") as ISO 8601 UTC (the tag has no zone: UTC is assumed). */
export function dateFromTiffTag(file: string, value: string): string {
  const m = /^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/.exec(value.trim());
  if (!m)
    throw new GeoZarrError(
      "Format",
      `${file}: TIFFTAG_DATETIME ${JSON.stringify(value)} is not "YYYY:MM:DD HH:MM:SS"`,
      { where: file },
    );
  const n = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return iso(file, n[0], n[1], n[2], [n[3], n[4], n[5]]);
}

/** A scene's date: from its name when a pattern is given, else from its TIFFTAG_DATETIME. */
export function sceneDate(scene: { file: string; datetime: string | null }, pattern?: string): string {
  if (pattern !== undefined) return dateFromName(scene.file, pattern);
  if (scene.datetime === null)
    throw new GeoZarrError(
      "Format",
      `${scene.file}: no TIFFTAG_DATETIME: give a pattern for the date in its name (timeFrom, --time-from)`,
      { where: scene.file },
    );
  return dateFromTiffTag(scene.file, scene.datetime);
}
