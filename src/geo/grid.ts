/**
 * Regular grids from 1-D coordinate variables: which dimensions are X and Y, whether the
 * coordinates are evenly spaced (within float32 precision: MUR's are float32), and the affine
 * transform in GDAL's GeoTransform order and in the `spatial:` convention's (rasterio) order.
 * @module
 */

import type { JsonObject } from "../zarr/json.js";

export interface AxisInfo {
  /** Names of the Y and X dimensions. */
  y: string;
  x: string;
  /** True when Y/X are latitude/longitude in degrees. */
  geographic: boolean;
}

const str = (v: unknown) => (typeof v === "string" ? v : "");

/** X/Y role of a coordinate variable from CF attributes (CF 1.11 §4.1, §4.2) or its name. */
export function axisRole(name: string, attrs: JsonObject): "x" | "y" | "lon" | "lat" | null {
  const sn = str(attrs.standard_name);
  const units = str(attrs.units).toLowerCase();
  const axis = str(attrs.axis).toUpperCase();
  if (sn === "latitude" || /^degrees?_?(north|n)$/.test(units)) return "lat";
  if (sn === "longitude" || /^degrees?_?(east|e)$/.test(units)) return "lon";
  if (sn === "projection_y_coordinate" || sn === "grid_latitude") return "y";
  if (sn === "projection_x_coordinate" || sn === "grid_longitude") return "x";
  if (axis === "Y") return /^lat/i.test(name) ? "lat" : "y";
  if (axis === "X") return /^lon/i.test(name) ? "lon" : "x";
  if (/^(lat|latitude)$/i.test(name)) return "lat";
  if (/^(lon|long|longitude)$/i.test(name)) return "lon";
  if (/^y$/i.test(name)) return "y";
  if (/^x$/i.test(name)) return "x";
  return null;
}

export interface RegularAxis {
  first: number;
  step: number;
  n: number;
}

/**
 * The regular spacing of a coordinate vector, or null when it is not evenly spaced. Tolerance:
 * a few float32 ulps of the largest coordinate, since coordinates are often stored as float32.
 */
export function regularAxis(values: ArrayLike<number>): RegularAxis | null {
  const n = values.length;
  if (n === 0) return null;
  const first = Number(values[0]);
  if (n === 1) return { first, step: 0, n };
  const step = (Number(values[n - 1]) - first) / (n - 1);
  if (step === 0 || !Number.isFinite(step)) return null;
  let maxAbs = 0;
  for (let i = 0; i < n; i++) maxAbs = Math.max(maxAbs, Math.abs(Number(values[i])));
  const tol = Math.max(Math.abs(step) * 1e-6, maxAbs * 2 ** -23 * 4);
  for (let i = 0; i < n; i++) if (Math.abs(Number(values[i]) - (first + i * step)) > tol) return null;
  return { first, step, n };
}

export interface GridTransform {
  /** GDAL order: [x0, dx, rx, y0, ry, dy], origin at the outer corner of the first cell. */
  gdal: number[];
  /** `spatial:transform`, rasterio/affine order: [dx, rx, x0, ry, dy, y0]. */
  affine: number[];
  /** `spatial:bbox`: [xmin, ymin, xmax, ymax] of the cell edges. */
  bbox: number[];
  /** `spatial:shape`: [ny, nx]. */
  shape: number[];
}

/** Cell-edge transform of a regular grid given its cell-centre coordinates. */
export function gridTransform(x: RegularAxis, y: RegularAxis): GridTransform {
  return affineGrid([x.step, 0, x.first - x.step / 2, 0, y.step, y.first - y.step / 2], [y.n, x.n]);
}

/**
 * The transform of a grid of `[rows, cols]` cells from its `spatial:transform` (rasterio order
 * [a, b, c, d, e, f]; b and d are non-zero for a rotated grid, GDAL's GeoTransform terms 2 and 4).
 */
export function affineGrid(affine: readonly number[], [rows, cols]: readonly number[]): GridTransform {
  const [a, b, c, d, e, f] = affine as [number, number, number, number, number, number];
  // The bbox of the four cell-edge corners.
  const xs = [c, c + cols! * a, c + rows! * b, c + cols! * a + rows! * b];
  const ys = [f, f + cols! * d, f + rows! * e, f + cols! * d + rows! * e];
  return {
    gdal: [c, a, b, f, d, e],
    affine: [a, b, c, d, e, f],
    bbox: [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)],
    shape: [rows!, cols!],
  };
}

/** GDAL's GeoTransform attribute: six numbers, space separated (GeoZarr v0.4 "CRS"). */
export function geoTransformText(t: GridTransform): string {
  return t.gdal.map((v) => String(v)).join(" ");
}
