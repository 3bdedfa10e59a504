/**
 * Where an array's cells are on Earth: its Y/X axes, affine transform and CRS, read from whatever
 * a GeoZarr store carries. In order of precedence, as GDAL's Zarr driver and rioxarray do:
 *
 * 1. the `spatial:` convention (`spatial:transform`, `spatial:dimensions`) on the array or its
 *    group, with the CRS from `proj:code` / `proj:wkt2` (a group's values apply to its direct
 *    child arrays only, proj convention README "Inheritance");
 * 2. a `GeoTransform` on the CF grid-mapping variable (GeoZarr v0.4, GDAL), CRS from its
 *    `crs_wkt` / `spatial_ref`;
 * 3. regular 1-D coordinate variables (CF §4.1, §4.2); with no grid mapping, latitude/longitude
 *    axes mean WGS 84 (CF §5.6 leaves the datum unspecified; EPSG:4326 is what every map assumes).
 *
 * @module
 */

import { getNode, type Hierarchy } from "../zarr/hierarchy.js";
import type { JsonObject } from "../zarr/json.js";
import type { ArrayMeta } from "../zarr/metadata/model.js";
import { readVector } from "../zarr/read/vector.js";
import { crsTable, epsgOfWkt } from "./crs.js";
import { axisRole, gridTransform, regularAxis } from "./grid.js";

export interface GeoCrs {
  /** "EPSG:4326", or null when the CRS is only known by its WKT. */
  code: string | null;
  name: string;
  wkt: string | null;
  /** A proj4 definition (from the CRS table) when known; proj4 also parses `wkt`. */
  proj4: string | null;
  geographic: boolean;
  /** True when no CRS was declared and WGS 84 was assumed from latitude/longitude axes. */
  assumed: boolean;
}

export interface Georef {
  yDim: string;
  xDim: string;
  /** Positions of the Y and X dimensions in the array's shape. */
  yAxis: number;
  xAxis: number;
  /** rasterio order [a, b, c, d, e, f]: x = a*col + b*row + c, y = d*col + e*row + f (cell corners). */
  affine: number[];
  /** [xmin, ymin, xmax, ymax] of the cell edges. */
  bbox: [number, number, number, number];
  crs: GeoCrs | null;
  source: "spatial:transform" | "GeoTransform" | "coordinates";
}

const numbers = (v: unknown, n: number): number[] | null =>
  Array.isArray(v) && v.length === n && v.every((x) => typeof x === "number") ? (v as number[]) : null;
const text = (v: unknown): string | null => (typeof v === "string" && v.trim() ? v : null);
const parentOf = (path: string) => (path.lastIndexOf("/") <= 0 ? "/" : path.slice(0, path.lastIndexOf("/")));
const childOf = (group: string, name: string) => (group === "/" ? `/${name}` : `${group}/${name}`);

function bboxOf(affine: number[], rows: number, cols: number): [number, number, number, number] {
  const [a, b, c, d, e, f] = affine as [number, number, number, number, number, number];
  const xs = [c, a * cols + c, b * rows + c, a * cols + b * rows + c];
  const ys = [f, d * cols + f, e * rows + f, d * cols + e * rows + f];
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

function crsFromCode(code: string, assumed = false): GeoCrs {
  const e = crsTable().crs[code];
  return {
    code,
    name: e?.name ?? code,
    wkt: e?.wkt2 ?? null,
    proj4: e?.proj4 ?? null,
    geographic: e ? e.kind === "geographic" : code === "EPSG:4326",
    assumed,
  };
}

function crsFromWkt(wkt: string): GeoCrs {
  const code = epsgOfWkt(wkt);
  if (code && crsTable().crs[code]) return { ...crsFromCode(code), wkt };
  return {
    code,
    name: /^\w+\[\s*"([^"]*)"/.exec(wkt)?.[1] ?? "unnamed",
    wkt,
    proj4: null,
    geographic: /^(GEOGCS|GEOGCRS|GEOGRAPHICCRS)\[/i.test(wkt.trim()),
    assumed: false,
  };
}

/** The CRS declared by `proj:` attributes (array first, then its group). */
function projCrs(attrs: JsonObject[]): GeoCrs | null {
  for (const a of attrs) {
    const code = text(a["proj:code"]);
    if (code && /^[A-Z]+:\d+$/.test(code)) return crsFromCode(code);
    const wkt = text(a["proj:wkt2"]);
    if (wkt) return crsFromWkt(wkt);
  }
  return null;
}

function gridMappingOf(h: Hierarchy, path: string, attrs: JsonObject): JsonObject | null {
  const gm = text(attrs.grid_mapping);
  if (!gm) return null;
  // "crs" or the extended form "crs: lat lon" (CF 1.11 §5.6): the first variable named.
  const name = gm.includes(":") ? gm.split(":")[0]!.trim() : gm.trim();
  const node = h.nodes.get(childOf(parentOf(path), name));
  return node ? node.meta.attributes : null;
}

function gridMappingCrs(gm: JsonObject | null): GeoCrs | null {
  if (!gm) return null;
  const wkt = text(gm.crs_wkt) ?? text(gm.spatial_ref);
  if (wkt) return crsFromWkt(wkt);
  if (gm.grid_mapping_name === "latitude_longitude") return crsFromCode("EPSG:4326");
  return null;
}

/** Georeferencing of the array at `path`, or null when it has no regular 2-D grid we can place. */
export async function georeference(h: Hierarchy, path: string): Promise<Georef | null> {
  const node = getNode(h, path);
  if (node.meta.kind !== "array" || node.meta.shape.length < 2) return null;
  const meta: ArrayMeta = node.meta;
  const parent = h.nodes.get(parentOf(node.path));
  const groupAttrs = parent?.meta.attributes ?? {};
  const scopes = [meta.attributes, groupAttrs];
  const dims = meta.dimensionNames?.map((d, i) => d ?? `dim_${i}`) ?? meta.shape.map((_, i) => `dim_${i}`);
  const gm = gridMappingOf(h, node.path, meta.attributes);

  const declared = scopes.find((a) => numbers(a["spatial:transform"], 6));
  if (declared) {
    const sd = (meta.attributes["spatial:dimensions"] ?? groupAttrs["spatial:dimensions"]) as unknown;
    const [yDim, xDim] = Array.isArray(sd) && sd.length === 2 ? (sd as string[]) : dims.slice(-2);
    const yAxis = dims.indexOf(yDim!);
    const xAxis = dims.indexOf(xDim!);
    if (yAxis < 0 || xAxis < 0) return null;
    const affine = numbers(declared["spatial:transform"], 6)!;
    return {
      yDim: yDim!,
      xDim: xDim!,
      yAxis,
      xAxis,
      affine,
      bbox: bboxOf(affine, meta.shape[yAxis]!, meta.shape[xAxis]!),
      crs: projCrs(scopes) ?? gridMappingCrs(gm),
      source: "spatial:transform",
    };
  }

  // Y and X from the coordinate variables' CF roles, else the last two dimensions.
  let yAxis = -1;
  let xAxis = -1;
  const coords = new Map<string, { path: string; meta: ArrayMeta }>();
  dims.forEach((d, i) => {
    const c = h.nodes.get(childOf(parentOf(node.path), d));
    if (c?.meta.kind !== "array" || c.meta.shape.length !== 1) return;
    coords.set(d, { path: c.path, meta: c.meta });
    const role = axisRole(d, c.meta.attributes);
    if ((role === "y" || role === "lat") && yAxis < 0) yAxis = i;
    if ((role === "x" || role === "lon") && xAxis < 0) xAxis = i;
  });
  if (yAxis < 0 || xAxis < 0) {
    yAxis = dims.length - 2;
    xAxis = dims.length - 1;
  }
  const yDim = dims[yAxis]!;
  const xDim = dims[xAxis]!;
  const lonLat = (d: string) => {
    const c = coords.get(d);
    const role = c ? axisRole(d, c.meta.attributes) : null;
    return role === "lat" || role === "lon";
  };
  const crs =
    projCrs(scopes) ??
    gridMappingCrs(gm) ??
    (lonLat(yDim) && lonLat(xDim) ? crsFromCode("EPSG:4326", true) : null);

  const gt = text(gm?.GeoTransform)?.trim().split(/\s+/).map(Number);
  if (gt && gt.length === 6 && gt.every(Number.isFinite)) {
    const affine = [gt[1]!, gt[2]!, gt[0]!, gt[4]!, gt[5]!, gt[3]!];
    return {
      yDim,
      xDim,
      yAxis,
      xAxis,
      affine,
      bbox: bboxOf(affine, meta.shape[yAxis]!, meta.shape[xAxis]!),
      crs,
      source: "GeoTransform",
    };
  }

  const yc = coords.get(yDim);
  const xc = coords.get(xDim);
  if (!yc || !xc) return null;
  const ry = regularAxis(await readVector(h.store, yc.path, yc.meta, h.name));
  const rx = regularAxis(await readVector(h.store, xc.path, xc.meta, h.name));
  if (!ry || !rx || ry.n < 2 || rx.n < 2) return null;
  const t = gridTransform(rx, ry);
  return {
    yDim,
    xDim,
    yAxis,
    xAxis,
    affine: t.affine,
    bbox: t.bbox as Georef["bbox"],
    crs,
    source: "coordinates",
  };
}
