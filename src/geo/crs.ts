/**
 * Coordinate reference systems: EPSG codes resolved from the committed table (data/crs/epsg.json,
 * generated with pyproj: no npm package yields canonical WKT2 offline), WKT strings recognised by
 * their EPSG authority, and the CF grid-mapping attributes to write for them.
 * @module
 */

import { readFileSync } from "node:fs";
import { GeoZarrError } from "../errors.js";
import type { JsonObject } from "../zarr/json.js";

export interface CrsEntry {
  name: string;
  kind: "geographic" | "projected";
  wkt2: string;
  wkt1: string;
  proj4: string;
  /** CF grid-mapping attributes (CF 1.11 §5.6, Appendix F) without crs_wkt. */
  cf: JsonObject;
  /** The CRS's own axis order, e.g. ["lat", "lon"] for EPSG:4326, ["x", "y"] for UTM. */
  axes: string[];
  bounds: [number, number, number, number] | null;
}

export interface Crs {
  /** "EPSG:4326", or null for a WKT without a known EPSG identifier. */
  code: string | null;
  name: string;
  kind: "geographic" | "projected" | "unknown";
  wkt2: string | null;
  /** WKT1 in GDAL's dialect, for the GDAL-style `spatial_ref` attribute. */
  wkt1: string | null;
  proj4: string | null;
  cf: JsonObject;
}

let table: { generator: string; crs: Record<string, CrsEntry> } | undefined;

export function crsTable(): { generator: string; crs: Record<string, CrsEntry> } {
  table ??= JSON.parse(readFileSync(new URL("../../data/crs/epsg.json", import.meta.url), "utf8"));
  return table!;
}

export function knownCodes(): string[] {
  return Object.keys(crsTable().crs);
}

function fromCode(code: string): Crs | undefined {
  const e = crsTable().crs[code];
  return e
    ? { code, name: e.name, kind: e.kind, wkt2: e.wkt2, wkt1: e.wkt1, proj4: e.proj4, cf: e.cf }
    : undefined;
}

/** The EPSG code a WKT names for the whole CRS: its last ID["EPSG",n] / AUTHORITY["EPSG","n"]. */
export function epsgOfWkt(wkt: string): string | null {
  const m = [...wkt.matchAll(/(?:ID|AUTHORITY)\[\s*"EPSG"\s*,\s*"?(\d+)"?\s*\]/gi)].at(-1);
  // The CRS's identifier closes the WKT; inner IDs belong to datums, units and methods.
  if (!m || wkt.slice(m.index! + m[0].length).replace(/[\]\s]/g, "") !== "") return null;
  return `EPSG:${m[1]}`;
}

const CF_METHOD: [RegExp, string][] = [
  [/transverse.?mercator/i, "transverse_mercator"],
  [/polar.?stereographic/i, "polar_stereographic"],
  [/lambert.?conformal/i, "lambert_conformal_conic"],
  [/albers/i, "albers_conical_equal_area"],
  [/lambert.?azimuthal/i, "lambert_azimuthal_equal_area"],
  [/mercator/i, "mercator"],
  [/sinusoidal/i, "sinusoidal"],
  [/geostationary/i, "geostationary"],
];

/**
 * Resolve `--crs`: "EPSG:n" (or "epsg:n") from the table, or a WKT string. A WKT whose EPSG
 * identifier is in the table becomes that entry; any other WKT is kept as given, with the CF
 * grid_mapping_name of its method (the parameters stay in crs_wkt).
 */
export function resolveCrs(spec: string): Crs {
  const s = spec.trim();
  const code = /^epsg:(\d+)$/i.exec(s);
  if (code) {
    const c = fromCode(`EPSG:${code[1]}`);
    if (!c) {
      throw new GeoZarrError(
        "Usage",
        `--crs ${s}: EPSG:${code[1]} is not in geozarr's CRS table (${knownCodes().length} codes: WGS 84 and its UTM zones, polar and web projections...); pass its WKT instead`,
      );
    }
    return c;
  }
  if (!/^[A-Z0-9_]+\[/i.test(s))
    throw new GeoZarrError(
      "Usage",
      `--crs: expected EPSG:<code> or a WKT string, got ${JSON.stringify(s.slice(0, 40))}`,
    );
  const epsg = epsgOfWkt(s);
  const known = epsg ? fromCode(epsg) : undefined;
  if (known) return known;
  const geographic = /^(GEOGCS|GEOGCRS|GEOGRAPHICCRS)\[/i.test(s);
  const method = CF_METHOD.find(([re]) => re.test(s))?.[1];
  const name = /^\w+\[\s*"([^"]*)"/.exec(s)?.[1] ?? "unnamed";
  return {
    code: epsg,
    name,
    kind: geographic ? "geographic" : method ? "projected" : "unknown",
    wkt2: /^(GEOGCRS|PROJCRS|GEODCRS|BOUNDCRS|COMPOUNDCRS|GEOGRAPHICCRS|PROJECTEDCRS)\[/i.test(s) ? s : null,
    wkt1: /^(GEOGCS|PROJCS)\[/i.test(s) ? s : null,
    proj4: null,
    cf: geographic
      ? { grid_mapping_name: "latitude_longitude" }
      : method
        ? { grid_mapping_name: method }
        : {},
  };
}
