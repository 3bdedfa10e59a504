/**
 * Georeferencing of a NetCDF group: its X/Y dimensions, its CRS (from --crs, from the source's own
 * grid mapping, or EPSG:4326 for a latitude/longitude grid) and, for regular grids, the affine
 * transform. Then the attributes that encode them: the CF grid-mapping variable `spatial_ref`
 * (CF 1.11 §5.6; rioxarray's layout) and, for Zarr v3, the `proj:` and `spatial:` conventions.
 * @module
 */

import { GeoZarrError, isGeoZarrError } from "../../errors.js";
import { crsFromCf, inferredGridMappingName } from "../../geo/cf-crs.js";
import { PROJ_CONVENTION, SPATIAL_CONVENTION } from "../../geo/conventions.js";
import { type Crs, crsTable, resolveCrs } from "../../geo/crs.js";
import {
  axisRole,
  type GridTransform,
  geoTransformText,
  gridTransform,
  regularAxis,
} from "../../geo/grid.js";
import type { JsonObject } from "../../zarr/json.js";
import { type GridMappingVariable, gridMappingNames, type Selection } from "./select.js";

export interface Georef {
  crs: Crs;
  yDim: string;
  xDim: string;
  transform: GridTransform | null;
  /** How the CRS was found, for the summary. */
  from: "--crs" | "grid_mapping" | "latitude/longitude grid" | "GeoKeys";
  /** What the user should know about how it was found (a grid_mapping_name inferred). */
  note?: string | undefined;
}

const WGS84 = { a: 6378137, rf: 298.257223563 };

/** The grid-mapping attributes of CF 1.11 Appendix F (plus GDAL's towgs84), kept on the output. */
const CF_GRID_MAPPING = new Set([
  "grid_mapping_name",
  "azimuth_of_central_line",
  "earth_radius",
  "false_easting",
  "false_northing",
  "fixed_angle_axis",
  "geographic_crs_name",
  "geoid_name",
  "geopotential_datum_name",
  "grid_north_pole_latitude",
  "grid_north_pole_longitude",
  "horizontal_datum_name",
  "inverse_flattening",
  "latitude_of_projection_origin",
  "longitude_of_central_meridian",
  "longitude_of_prime_meridian",
  "longitude_of_projection_origin",
  "north_pole_grid_longitude",
  "perspective_point_height",
  "prime_meridian_name",
  "projected_crs_name",
  "reference_ellipsoid_name",
  "scale_factor_at_central_meridian",
  "scale_factor_at_projection_origin",
  "semi_major_axis",
  "semi_minor_axis",
  "standard_parallel",
  "straight_vertical_longitude_from_pole",
  "sweep_angle_axis",
  "towgs84",
]);

/** The source's own CF grid-mapping parameters. */
function cfParameters(a: JsonObject): JsonObject {
  const cf: JsonObject = {};
  for (const [k, v] of Object.entries(a))
    if (CF_GRID_MAPPING.has(k) && (typeof v === "number" || typeof v === "string" || Array.isArray(v)))
      cf[k] = v;
  return cf;
}

/**
 * A CRS from a source grid-mapping variable's attributes, in the order GDAL and pyproj read them:
 * `crs_wkt`, GDAL's `spatial_ref`, `epsg_code`, then the CF parameters (CF §5.6, Appendix F). The
 * source's datum is kept: its ellipsoid and names, never a silent WGS 84.
 */
function crsFromGridMapping(gm: GridMappingVariable): Crs {
  const a = withInferredName(gm.attributes);
  const params = cfParameters(a);
  for (const key of ["crs_wkt", "spatial_ref", "epsg_code"] as const) {
    const v = a[key];
    if (typeof v !== "string" || v.trim() === "") continue;
    try {
      const crs = resolveCrs(v);
      // A table entry has its own CF form; a WKT we cannot name keeps the source's CF parameters.
      return crs.code && crsTable().crs[crs.code] ? crs : { ...crs, cf: { ...crs.cf, ...params } };
    } catch (err) {
      if (!isGeoZarrError(err, "Usage")) throw err;
    }
  }
  const name = typeof a.grid_mapping_name === "string" ? a.grid_mapping_name : "unknown";
  const isWgs84 =
    (a.semi_major_axis === undefined || a.semi_major_axis === WGS84.a) &&
    (a.inverse_flattening === undefined || Math.abs(Number(a.inverse_flattening) - WGS84.rf) < 1e-9) &&
    a.semi_minor_axis === undefined &&
    a.earth_radius === undefined;
  if (name === "latitude_longitude" && isWgs84) return resolveCrs("EPSG:4326");
  const built = crsFromCf(a);
  if (built)
    return {
      code: null,
      name: built.name,
      kind: built.kind,
      wkt2: built.wkt2,
      wkt1: null,
      proj4: built.proj4,
      cf: params,
    };
  // A grid mapping we cannot express: keep its CF parameters as they are.
  return { code: null, name, kind: "unknown", wkt2: null, wkt1: null, proj4: null, cf: params };
}

/** A grid mapping's attributes with the `grid_mapping_name` its parameters imply, if it has none. */
function withInferredName(a: JsonObject): JsonObject {
  const name = inferredGridMappingName(a);
  return name ? { ...a, grid_mapping_name: name } : a;
}

/** GDAL's GeoTransform attribute ("x0 dx rx y0 ry dy"), when it is six finite numbers. */
function geoTransformOf(gm: GridMappingVariable | undefined): number[] | null {
  const t = gm?.attributes.GeoTransform;
  const gt = typeof t === "string" ? t.trim().split(/\s+/).map(Number) : null;
  return gt && gt.length === 6 && gt.every(Number.isFinite) ? gt : null;
}

/**
 * Geostationary x/y are scanning angles (CF Appendix F): in metres on the projection plane they
 * are the angle times the satellite height, which is what the CRS and GDAL's transform use.
 */
function axisScale(crs: Crs, units: unknown): number {
  if (crs.cf.grid_mapping_name !== "geostationary") return 1;
  const h = Number(crs.cf.perspective_point_height);
  const u = typeof units === "string" ? units.trim().toLowerCase() : "";
  if (!Number.isFinite(h)) return 1;
  if (/^(rad|radian|radians)$/.test(u)) return h;
  if (/^(microradian|microradians|urad)$/.test(u)) return h * 1e-6;
  return 1;
}

type Roles = Map<string, ReturnType<typeof axisRole>>;

function rolesOf(sel: Selection): Roles {
  const roles: Roles = new Map();
  for (const c of sel.coords) if (c.dims.length === 1) roles.set(c.name, axisRole(c.name, c.attributes));
  return roles;
}

const gridMappingOf = (sel: Selection, v: Selection["data"][number] | undefined) => {
  const name = v ? gridMappingNames(v.attributes.grid_mapping)[0] : undefined;
  return sel.gridMappings.find((g) => g.name === name);
};

/**
 * The georeferencing of a group's grids: the primary one (the first Y and X coordinates, what
 * every single-grid file has) and then one per further pair of X/Y dimensions that data
 * variables use (staggered ocean-model grids, a T42 grid beside a regular one), each with the CRS
 * of its own variables' grid mapping. A further grid whose CRS cannot be told is left without one
 * (only the primary grid asks for --crs).
 */
export function detectGeorefs(
  file: string,
  sel: Selection,
  coordValues: Map<string, ArrayLike<number>>,
  crsOption: string | undefined,
): Georef[] {
  const primary = detectGeoref(file, sel, coordValues, crsOption);
  if (!primary) return [];
  const out = [primary];
  const roles = rolesOf(sel);
  for (const v of sel.data) {
    if (out.some((g) => v.dims.includes(g.yDim) && v.dims.includes(g.xDim))) continue;
    const y = v.dims.find((d) => roles.get(d) === "lat" || roles.get(d) === "y");
    const x = v.dims.find((d) => roles.get(d) === "lon" || roles.get(d) === "x");
    if (!y || !x) continue;
    const g = georefOf(file, sel, coordValues, crsOption, roles, y, x, gridMappingOf(sel, v), false);
    if (g) out.push(g);
  }
  return out;
}

export function detectGeoref(
  file: string,
  sel: Selection,
  coordValues: Map<string, ArrayLike<number>>,
  crsOption: string | undefined,
): Georef | null {
  const roles = rolesOf(sel);
  let yDim = [...roles].find(([, r]) => r === "lat" || r === "y")?.[0];
  let xDim = [...roles].find(([, r]) => r === "lon" || r === "x")?.[0];
  const gm = gridMappingOf(
    sel,
    sel.data.find((v) => gridMappingNames(v.attributes.grid_mapping).length > 0),
  );
  if ((yDim === undefined || xDim === undefined) && geoTransformOf(gm)) {
    // No coordinate variables: GDAL's GeoTransform places the last two dimensions (rows, columns).
    const v = sel.data.find((d) => gridMappingOf(sel, d) === gm && d.dims.length >= 2);
    if (v) [yDim, xDim] = v.dims.slice(-2) as [string, string];
  }
  const spatial =
    yDim !== undefined &&
    xDim !== undefined &&
    sel.data.some((v) => v.dims.includes(yDim!) && v.dims.includes(xDim!));
  if (!spatial || yDim === undefined || xDim === undefined) {
    if (crsOption)
      throw new GeoZarrError(
        "Usage",
        `--crs: ${file} has no variable on X/Y (or latitude/longitude) dimensions to georeference`,
      );
    return null;
  }
  const onGrid = sel.data.find((v) => v.dims.includes(yDim!) && v.dims.includes(xDim!));
  return georefOf(
    file,
    sel,
    coordValues,
    crsOption,
    roles,
    yDim,
    xDim,
    gridMappingOf(sel, onGrid) ?? gm,
    true,
  );
}

/** The CRS and transform of the grid on dimensions yDim/xDim (null: no CRS, when not `required`). */
function georefOf(
  file: string,
  sel: Selection,
  coordValues: Map<string, ArrayLike<number>>,
  crsOption: string | undefined,
  roles: Roles,
  yDim: string,
  xDim: string,
  gm: GridMappingVariable | undefined,
  required: boolean,
): Georef | null {
  let crs: Crs;
  let from: Georef["from"];
  let note: string | undefined;
  if (crsOption) {
    crs = resolveCrs(crsOption);
    from = "--crs";
  } else if (gm) {
    crs = crsFromGridMapping(gm);
    from = "grid_mapping";
    const inferred = inferredGridMappingName(gm.attributes);
    if (inferred && crs.cf.grid_mapping_name === inferred)
      note = `${gm.name} has no grid_mapping_name: ${inferred} inferred from its parameters (CF Appendix F), as GDAL does, and written in the output's grid mapping`;
  } else if (roles.get(yDim) === "lat" && roles.get(xDim) === "lon") {
    crs = resolveCrs("EPSG:4326");
    from = "latitude/longitude grid";
  } else if (!required) {
    return null;
  } else {
    throw new GeoZarrError(
      "Usage",
      `${file}: cannot tell the coordinate reference system of the ${yDim}/${xDim} grid (no grid_mapping, not latitude/longitude): pass --crs EPSG:<code> or a WKT string`,
    );
  }
  const coord = (d: string) => sel.coords.find((c) => c.name === d);
  const scaled = (d: string) => {
    const values = coordValues.get(d);
    const k = axisScale(crs, coord(d)?.attributes.units);
    return values && k !== 1 ? Float64Array.from(values, (x) => x * k) : values;
  };
  const xs = scaled(xDim);
  const ys = scaled(yDim);
  const rx = xs ? regularAxis(xs) : null;
  const ry = ys ? regularAxis(ys) : null;
  let transform = rx && ry && rx.n > 1 && ry.n > 1 ? gridTransform(rx, ry) : null;
  const size = (d: string) => {
    const v = sel.data.find((x) => x.dims.includes(d));
    return v?.shape[v.dims.indexOf(d)];
  };
  const nx = size(xDim);
  const ny = size(yDim);
  const gt = geoTransformOf(gm);
  if (!transform && !xs && !ys && gt && gt[2] === 0 && gt[4] === 0 && nx && ny) {
    // GeoTransform of a north-up grid (no rotation terms): cell centres from the cell edges.
    transform = gridTransform(
      { first: gt[0]! + gt[1]! / 2, step: gt[1]!, n: nx },
      { first: gt[3]! + gt[5]! / 2, step: gt[5]!, n: ny },
    );
  }
  return { crs, yDim, xDim, transform, from, note };
}

/**
 * The CF grid-mapping variable's attributes, in rioxarray's order: crs_wkt, the CF parameters and
 * names, grid_mapping_name, spatial_ref (GDAL's WKT1 dialect) and GDAL's GeoTransform.
 */
export function spatialRefAttributes(g: Georef): JsonObject {
  const { crs } = g;
  const out: JsonObject = {};
  const wkt = crs.wkt2 ?? crs.wkt1;
  if (wkt) out.crs_wkt = wkt;
  const { grid_mapping_name, ...params } = crs.cf;
  Object.assign(out, params);
  if (grid_mapping_name !== undefined) out.grid_mapping_name = grid_mapping_name;
  const gdalWkt = crs.wkt1 ?? crs.wkt2;
  if (gdalWkt) out.spatial_ref = gdalWkt;
  if (g.transform) out.GeoTransform = geoTransformText(g.transform);
  return out;
}

/** `proj:` and `spatial:` convention attributes (Zarr v3), declared in `zarr_conventions`. */
export function conventionAttributes(g: Georef, yx: [string, string] = [g.yDim, g.xDim]): JsonObject {
  const out: JsonObject = {};
  const conventions: JsonObject[] = [];
  if (g.crs.code || g.crs.wkt2) {
    conventions.push(PROJ_CONVENTION);
    if (g.crs.code) out["proj:code"] = g.crs.code;
    if (g.crs.wkt2) out["proj:wkt2"] = g.crs.wkt2;
  }
  if (g.transform) {
    conventions.push(SPATIAL_CONVENTION);
    out["spatial:dimensions"] = yx;
    out["spatial:transform"] = g.transform.affine;
    out["spatial:shape"] = g.transform.shape;
    out["spatial:bbox"] = g.transform.bbox;
    out["spatial:registration"] = "pixel";
  }
  return conventions.length ? { zarr_conventions: conventions, ...out } : {};
}
