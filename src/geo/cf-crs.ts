/**
 * CF grid-mapping parameters (CF 1.11 §5.6, Appendix F) to a CRS: OGC WKT2 (ISO 19162:2019) and a
 * PROJ string, for grid mappings written without `crs_wkt` or `spatial_ref` (CDO, NCO, CMIP,
 * many model outputs). The mapping from CF names to EPSG methods and parameters is pyproj's
 * (`pyproj.crs._cf1x8`, the reference the tests compare against with `CRS.from_cf`); the datum is
 * the source's own (its ellipsoid, prime meridian and names), WGS 84 only when none is given.
 *
 * Why our own: proj4js reads WKT but does not write it, and no npm package builds a CRS from CF
 * parameters (docs/design.md, "What no library does right").
 *
 * @module
 */

import type { JsonObject, JsonValue } from "../zarr/json.js";

export interface CfCrs {
  name: string;
  kind: "geographic" | "projected";
  wkt2: string;
  proj4: string;
}

const DEG = 'ANGLEUNIT["degree",0.0174532925199433]';
const METRE = 'LENGTHUNIT["metre",1]';
const UNITY = 'SCALEUNIT["unity",1]';

type Unit = "angle" | "length" | "scale";
/** One conversion parameter: EPSG name and code (null for PROJ-only ones), unit, value, PROJ key. */
type Param = [name: string, epsg: number | null, unit: Unit, value: number, proj: string];
interface Method {
  name: string;
  epsg: number | null;
  proj: string;
  params: Param[];
  extraProj?: string;
}

const num = (v: JsonValue | undefined): number | undefined => {
  if (typeof v === "number") return v;
  if (Array.isArray(v) && typeof v[0] === "number") return v[0];
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  return undefined;
};

/** Standard parallels: a number, a list of one or two, or "a, b" (pyproj's _get_standard_parallels). */
function parallels(v: JsonValue | undefined): [number, number | undefined] | undefined {
  if (typeof v === "string" && v.includes(",")) {
    const [a, b] = v.split(",").map((s) => Number(s.trim()));
    return [a!, b];
  }
  if (Array.isArray(v)) {
    const xs = v.filter((x): x is number => typeof x === "number");
    return xs.length ? [xs[0]!, xs[1]] : undefined;
  }
  const x = num(v);
  return x === undefined ? undefined : [x, undefined];
}

const lat0 = "Latitude of natural origin";
const lon0 = "Longitude of natural origin";
const k0 = "Scale factor at natural origin";
const fe = (a: JsonObject): Param => ["False easting", 8806, "length", num(a.false_easting) ?? 0, "x_0"];
const fn = (a: JsonObject): Param => ["False northing", 8807, "length", num(a.false_northing) ?? 0, "y_0"];
const origin = (
  a: JsonObject,
  lon: "longitude_of_projection_origin" | "longitude_of_central_meridian",
): Param[] => [
  [lat0, 8801, "angle", num(a.latitude_of_projection_origin) ?? 0, "lat_0"],
  [lon0, 8802, "angle", num(a[lon]) ?? 0, "lon_0"],
];

/** The conversion of a projected grid mapping, or null when we do not know it (or it lacks a parameter). */
function conversion(gm: string, a: JsonObject): Method | null {
  switch (gm) {
    case "transverse_mercator":
      return {
        name: "Transverse Mercator",
        epsg: 9807,
        proj: "tmerc",
        params: [
          ...origin(a, "longitude_of_central_meridian"),
          [k0, 8805, "scale", num(a.scale_factor_at_central_meridian) ?? 1, "k"],
          fe(a),
          fn(a),
        ],
      };
    case "polar_stereographic": {
      const lon = num(a.straight_vertical_longitude_from_pole);
      if (lon === undefined) return null;
      const sp = num(a.standard_parallel);
      if (sp !== undefined)
        return {
          name: "Polar Stereographic (variant B)",
          epsg: 9829,
          proj: "stere",
          params: [
            ["Latitude of standard parallel", 8832, "angle", sp, "lat_ts"],
            ["Longitude of origin", 8833, "angle", lon, "lon_0"],
            fe(a),
            fn(a),
          ],
          extraProj: `+lat_0=${sp < 0 ? -90 : 90}`,
        };
      const lat = num(a.latitude_of_projection_origin);
      if (lat === undefined) return null;
      return {
        name: "Polar Stereographic (variant A)",
        epsg: 9810,
        proj: "stere",
        params: [
          [lat0, 8801, "angle", lat, "lat_0"],
          [lon0, 8802, "angle", lon, "lon_0"],
          [k0, 8805, "scale", num(a.scale_factor_at_projection_origin) ?? 1, "k"],
          fe(a),
          fn(a),
        ],
      };
    }
    case "lambert_conformal_conic": {
      const sp = parallels(a.standard_parallel);
      if (!sp) return null;
      const lon = num(a.longitude_of_central_meridian) ?? 0;
      if (sp[1] === undefined)
        return {
          name: "Lambert Conic Conformal (1SP)",
          epsg: 9801,
          proj: "lcc",
          params: [
            [lat0, 8801, "angle", sp[0], "lat_0"],
            [lon0, 8802, "angle", lon, "lon_0"],
            [k0, 8805, "scale", 1, "k_0"],
            fe(a),
            fn(a),
          ],
          extraProj: `+lat_1=${sp[0]}`,
        };
      return conic2sp("Lambert Conic Conformal (2SP)", 9802, "lcc", a, sp as [number, number]);
    }
    case "albers_conical_equal_area": {
      const sp = parallels(a.standard_parallel);
      if (!sp) return null;
      return conic2sp("Albers Equal Area", 9822, "aea", a, [sp[0], sp[1] ?? 0]);
    }
    case "lambert_azimuthal_equal_area":
      return {
        name: "Lambert Azimuthal Equal Area",
        epsg: 9820,
        proj: "laea",
        params: [...origin(a, "longitude_of_projection_origin"), fe(a), fn(a)],
      };
    case "azimuthal_equidistant":
      return {
        name: "Modified Azimuthal Equidistant",
        epsg: 9832,
        proj: "aeqd",
        params: [...origin(a, "longitude_of_projection_origin"), fe(a), fn(a)],
      };
    case "orthographic":
      return {
        name: "Orthographic",
        epsg: 9840,
        proj: "ortho",
        params: [...origin(a, "longitude_of_projection_origin"), fe(a), fn(a)],
      };
    case "stereographic":
      return {
        name: "Stereographic",
        epsg: null,
        proj: "stere",
        params: [
          ...origin(a, "longitude_of_projection_origin"),
          [k0, 8805, "scale", num(a.scale_factor_at_projection_origin) ?? 1, "k"],
          fe(a),
          fn(a),
        ],
      };
    case "sinusoidal":
      return {
        name: "Sinusoidal",
        epsg: null,
        proj: "sinu",
        params: [[lon0, 8802, "angle", num(a.longitude_of_projection_origin) ?? 0, "lon_0"], fe(a), fn(a)],
      };
    case "mercator": {
      const lon: Param = [lon0, 8802, "angle", num(a.longitude_of_projection_origin) ?? 0, "lon_0"];
      const k = num(a.scale_factor_at_projection_origin);
      if (k !== undefined)
        return {
          name: "Mercator (variant A)",
          epsg: 9804,
          proj: "merc",
          params: [
            [lat0, 8801, "angle", num(a.standard_parallel) ?? 0, "lat_0"],
            lon,
            [k0, 8805, "scale", k, "k"],
            fe(a),
            fn(a),
          ],
        };
      return {
        name: "Mercator (variant B)",
        epsg: 9805,
        proj: "merc",
        params: [
          ["Latitude of 1st standard parallel", 8823, "angle", num(a.standard_parallel) ?? 0, "lat_ts"],
          lon,
          fe(a),
          fn(a),
        ],
      };
    }
    case "lambert_cylindrical_equal_area": {
      const lon: Param = [lon0, 8802, "angle", num(a.longitude_of_central_meridian) ?? 0, "lon_0"];
      return {
        name: "Lambert Cylindrical Equal Area",
        epsg: 9835,
        proj: "cea",
        params: [
          ["Latitude of 1st standard parallel", 8823, "angle", num(a.standard_parallel) ?? 0, "lat_ts"],
          lon,
          fe(a),
          fn(a),
        ],
      };
    }
    case "geostationary": {
      const h = num(a.perspective_point_height);
      const fixed = typeof a.fixed_angle_axis === "string" ? a.fixed_angle_axis.toLowerCase() : undefined;
      const sweep =
        typeof a.sweep_angle_axis === "string"
          ? a.sweep_angle_axis.toLowerCase()
          : fixed === "x"
            ? "y"
            : fixed === "y"
              ? "x"
              : undefined;
      if (h === undefined || (sweep !== "x" && sweep !== "y")) return null;
      return {
        name: `Geostationary Satellite (Sweep ${sweep.toUpperCase()})`,
        epsg: null,
        proj: "geos",
        params: [
          ["Satellite height", null, "length", h, "h"],
          ...origin(a, "longitude_of_projection_origin"),
          fe(a),
          fn(a),
        ],
        extraProj: `+sweep=${sweep}`,
      };
    }
    default:
      return null;
  }
}

function conic2sp(name: string, epsg: number, proj: string, a: JsonObject, sp: [number, number]): Method {
  return {
    name,
    epsg,
    proj,
    params: [
      ["Latitude of 1st standard parallel", 8823, "angle", sp[0], "lat_1"],
      ["Latitude of 2nd standard parallel", 8824, "angle", sp[1], "lat_2"],
      ["Latitude of false origin", 8821, "angle", num(a.latitude_of_projection_origin) ?? 0, "lat_0"],
      ["Longitude of false origin", 8822, "angle", num(a.longitude_of_central_meridian) ?? 0, "lon_0"],
      ["Easting at false origin", 8826, "length", num(a.false_easting) ?? 0, "x_0"],
      ["Northing at false origin", 8827, "length", num(a.false_northing) ?? 0, "y_0"],
    ],
  };
}

const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
const str = (v: JsonValue | undefined): string | undefined =>
  typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;

/** The datum the grid mapping declares (CF §5.6 ellipsoid and prime meridian attributes), as WKT2 and PROJ. */
function datumOf(a: JsonObject): { wkt: string; proj: string; name: string } {
  const major = num(a.semi_major_axis) ?? num(a.earth_radius);
  const minor = num(a.semi_minor_axis);
  const invf = num(a.inverse_flattening);
  const pm = num(a.longitude_of_prime_meridian) ?? 0;
  const pmWkt = `PRIMEM[${q(str(a.prime_meridian_name) ?? (pm === 0 ? "Greenwich" : "undefined"))},${pm},${DEG}]`;
  const pmProj = pm !== 0 ? ` +pm=${pm}` : "";
  const geog = str(a.geographic_crs_name);
  if (major === undefined) {
    // No ellipsoid declared: WGS 84, as pyproj's from_cf and GDAL assume.
    return {
      name: geog ?? "WGS 84",
      wkt: `DATUM["World Geodetic System 1984",ELLIPSOID["WGS 84",6378137,298.257223563,${METRE}]],${pmWkt}`,
      proj: `+datum=WGS84${pmProj}`,
    };
  }
  // WKT2 ellipsoids carry the inverse flattening (0 for a sphere).
  const rf = invf ?? (minor !== undefined && minor !== major ? major / (major - minor) : 0);
  const ell = str(a.reference_ellipsoid_name) ?? "undefined";
  const datum = str(a.horizontal_datum_name) ?? "undefined";
  return {
    name: geog ?? "undefined",
    wkt: `DATUM[${q(datum)},ELLIPSOID[${q(ell)},${major},${rf},${METRE}]],${pmWkt}`,
    proj: `+a=${major} ${rf === 0 ? `+b=${major}` : `+rf=${rf}`}${pmProj}`,
  };
}

function unitWkt(u: Unit): string {
  return u === "angle" ? DEG : u === "length" ? METRE : UNITY;
}

/**
 * The `grid_mapping_name` of a grid mapping written without one, when its parameters say it
 * unambiguously: `grid_north_pole_latitude` and `grid_north_pole_longitude` belong to
 * rotated_latitude_longitude alone among CF 1.11 Appendix F's mappings (GDAL's netCDF driver
 * infers the rotated pole from them too: its rotated_pole.nc test file). Undefined otherwise.
 */
export function inferredGridMappingName(a: JsonObject): string | undefined {
  if (str(a.grid_mapping_name)) return undefined;
  if (num(a.grid_north_pole_latitude) !== undefined && num(a.grid_north_pole_longitude) !== undefined)
    return "rotated_latitude_longitude";
  return undefined;
}

/**
 * The CRS of CF grid-mapping attributes, or null when the grid mapping is not one we can express
 * (an unknown name, or a required parameter missing).
 */
export function crsFromCf(a: JsonObject): CfCrs | null {
  const gm = str(a.grid_mapping_name);
  if (!gm) return null;
  const datum = datumOf(a);
  const geodetic = `${q(datum.name)},${datum.wkt}`;
  // Longitude first, as pyproj's from_cf and CF's own coordinates.
  const ellipsoidal = `CS[ellipsoidal,2],AXIS["geodetic longitude (Lon)",east,ORDER[1],${DEG}],AXIS["geodetic latitude (Lat)",north,ORDER[2],${DEG}]`;
  if (gm === "latitude_longitude")
    return {
      name: datum.name,
      kind: "geographic",
      wkt2: `GEOGCRS[${geodetic},${ellipsoidal}]`,
      proj4: `+proj=longlat ${datum.proj} +no_defs`,
    };
  if (gm === "rotated_latitude_longitude") {
    const plat = num(a.grid_north_pole_latitude);
    const plon = num(a.grid_north_pole_longitude);
    if (plat === undefined || plon === undefined) return null;
    const npl = num(a.north_pole_grid_longitude) ?? 0;
    const p = (n: string, v: number) => `PARAMETER[${q(`${n} (netCDF CF convention)`)},${v},${DEG}]`;
    return {
      name: "rotated pole",
      kind: "geographic",
      wkt2:
        `GEOGCRS["undefined",BASEGEOGCRS[${geodetic}],DERIVINGCONVERSION["Pole rotation (netCDF CF convention)",` +
        `METHOD["Pole rotation (netCDF CF convention)"],${p("Grid north pole latitude", plat)},` +
        `${p("Grid north pole longitude", plon)},${p("North pole grid longitude", npl)}],` +
        `CS[ellipsoidal,2],AXIS["longitude",east,ORDER[1],${DEG}],AXIS["latitude",north,ORDER[2],${DEG}]]`,
      // PROJ's ob_tran form of the CF rotated pole (what pyproj's to_proj4 gives).
      proj4: `+proj=ob_tran +o_proj=longlat +o_lon_p=${npl} +o_lat_p=${plat} +lon_0=${plon + 180} ${datum.proj} +no_defs`,
    };
  }
  const m = conversion(gm, a);
  if (!m) return null;
  const params = m.params
    .map(
      ([name, epsg, unit, value]) =>
        `PARAMETER[${q(name)},${value},${unitWkt(unit)}${epsg ? `,ID["EPSG",${epsg}]` : ""}]`,
    )
    .join(",");
  const method = `METHOD[${q(m.name)}${m.epsg ? `,ID["EPSG",${m.epsg}]` : ""}]`;
  const name = str(a.projected_crs_name) ?? "undefined";
  const projParams = m.params.map(([, , , value, key]) => `+${key}=${value}`).join(" ");
  return {
    name,
    kind: "projected",
    wkt2:
      `PROJCRS[${q(name)},BASEGEOGCRS[${geodetic}],CONVERSION["unknown",${method},${params}],` +
      `CS[Cartesian,2],AXIS["(E)",east,ORDER[1],${METRE}],AXIS["(N)",north,ORDER[2],${METRE}]]`,
    proj4: `+proj=${m.proj} ${projParams}${m.extraProj ? ` ${m.extraProj}` : ""} ${datum.proj} +units=m +no_defs`,
  };
}
