/**
 * Georeferencing of a NetCDF group: its X/Y dimensions, its CRS (from --crs, from the source's own
 * grid mapping, or EPSG:4326 for a latitude/longitude grid) and, for regular grids, the affine
 * transform. Then the attributes that encode them: the CF grid-mapping variable `spatial_ref`
 * (CF 1.11 §5.6; rioxarray's layout) and, for Zarr v3, the `proj:` and `spatial:` conventions.
 * @module
 */

import { GeoZarrError, isGeoZarrError } from "../../errors.js";
import { PROJ_CONVENTION, SPATIAL_CONVENTION } from "../../geo/conventions.js";
import { type Crs, resolveCrs } from "../../geo/crs.js";
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
}

const WGS84 = { a: 6378137, rf: 298.257223563 };

/** A CRS from a source grid-mapping variable's attributes (CF §5.6, GDAL's spatial_ref, epsg_code). */
function crsFromGridMapping(gm: GridMappingVariable): Crs {
  const a = gm.attributes;
  for (const key of ["crs_wkt", "spatial_ref", "epsg_code"] as const) {
    const v = a[key];
    if (typeof v !== "string" || v.trim() === "") continue;
    try {
      return resolveCrs(v);
    } catch (err) {
      if (!isGeoZarrError(err, "Usage")) throw err;
    }
  }
  const name = typeof a.grid_mapping_name === "string" ? a.grid_mapping_name : "unknown";
  const isWgs84 =
    (a.semi_major_axis === undefined || a.semi_major_axis === WGS84.a) &&
    (a.inverse_flattening === undefined || Math.abs(Number(a.inverse_flattening) - WGS84.rf) < 1e-9);
  if (name === "latitude_longitude" && isWgs84) return resolveCrs("EPSG:4326");
  // A grid mapping we cannot name: keep its CF parameters as they are.
  const cf: JsonObject = {};
  for (const [k, v] of Object.entries(a))
    if (typeof v === "number" || typeof v === "string" || Array.isArray(v)) cf[k] = v;
  return { code: null, name, kind: "unknown", wkt2: null, wkt1: null, proj4: null, cf };
}

export function detectGeoref(
  file: string,
  sel: Selection,
  coordValues: Map<string, ArrayLike<number>>,
  crsOption: string | undefined,
): Georef | null {
  const roles = new Map<string, ReturnType<typeof axisRole>>();
  for (const c of sel.coords) if (c.dims.length === 1) roles.set(c.name, axisRole(c.name, c.attributes));
  const yDim = [...roles].find(([, r]) => r === "lat" || r === "y")?.[0];
  const xDim = [...roles].find(([, r]) => r === "lon" || r === "x")?.[0];
  const spatial =
    yDim !== undefined &&
    xDim !== undefined &&
    sel.data.some((v) => v.dims.includes(yDim) && v.dims.includes(xDim));
  if (!spatial) {
    if (crsOption)
      throw new GeoZarrError(
        "Usage",
        `--crs: ${file} has no variable on X/Y (or latitude/longitude) dimensions to georeference`,
      );
    return null;
  }
  let crs: Crs;
  let from: Georef["from"];
  const gmName = sel.data.flatMap((v) => gridMappingNames(v.attributes.grid_mapping))[0];
  const gm = sel.gridMappings.find((g) => g.name === gmName);
  if (crsOption) {
    crs = resolveCrs(crsOption);
    from = "--crs";
  } else if (gm) {
    crs = crsFromGridMapping(gm);
    from = "grid_mapping";
  } else if (roles.get(yDim) === "lat" && roles.get(xDim) === "lon") {
    crs = resolveCrs("EPSG:4326");
    from = "latitude/longitude grid";
  } else {
    throw new GeoZarrError(
      "Usage",
      `${file}: cannot tell the coordinate reference system of the ${yDim}/${xDim} grid (no grid_mapping, not latitude/longitude): pass --crs EPSG:<code> or a WKT string`,
    );
  }
  const xs = coordValues.get(xDim);
  const ys = coordValues.get(yDim);
  const rx = xs ? regularAxis(xs) : null;
  const ry = ys ? regularAxis(ys) : null;
  const transform = rx && ry && rx.n > 1 && ry.n > 1 ? gridTransform(rx, ry) : null;
  return { crs, yDim, xDim, transform, from };
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
