/**
 * The shape, georeferencing and metadata of multiscale levels (issue 6).
 *
 * Levels are child groups "0" (full resolution), "1", "2", ..., each half the size of the one
 * before along Y and X (rounded up, as GDAL's overviews), until the grid fits in one tile or the
 * requested number of levels is reached. Every level covers the same extent with the same origin:
 * level k's cell size is the full-resolution cell size times n0 / nk along each axis. That is the
 * model of GDAL's overviews, and the one web clients assume (OpenLayers' `ol/source/GeoZarr`
 * derives each level's resolution from the shared extent and `spatial:shape`); with an odd size
 * the last cell of a level stretches a little instead of overhanging the extent.
 *
 * Metadata, by format (../shared notes sections 1 and 2.5):
 *  - Zarr v3: the `multiscales` convention (v0.1) on the root group, its layout built by
 *    geo/conventions.ts `multiscalesAttribute` (the one writer of it); `proj:` on the group; each
 *    level group carries its own `spatial:` (the same shape and transform as its layout entry).
 *  - Zarr v2: GeoZarr v0.4's `multiscales` attribute `{tile_matrix_set, resampling_method}` with
 *    an inline OGC TileMatrixSet (v2.0 JSON) whose tile matrix ids are the level groups, lowest
 *    resolution first; on the root group and on each full-resolution data variable.
 *
 * @module
 */

import type { Georef } from "../geo/georef.js";
import type { Resampling } from "../kernels/resample.js";
import { reducedSize } from "../kernels/resample.js";
import type { JsonObject } from "../zarr/json.js";

export const DEFAULT_TILE_SIZE = 512;
export const TILE_SIZES = [256, 512] as const;

export interface PyramidLevel {
  asset: string;
  /** [rows, cols] of the Y and X dimensions. */
  shape: [number, number];
  /** rasterio order [a, 0, c, 0, e, f]: cell corners, the same origin at every level. */
  affine: number[];
  /** A level the source had (SourceLevel): its own resampling, null when not recorded. */
  resampling?: string | null | undefined;
}

/**
 * The levels of a grid of `rows x cols` cells with the full-resolution transform `affine`; the
 * first levels take the shapes of `given` (a source's own overviews), the rest halve the last.
 */
export function planPyramid(
  rows: number,
  cols: number,
  affine: number[],
  tile: number,
  maxLevels = Number.POSITIVE_INFINITY,
  given: readonly (readonly [number, number])[] = [],
): PyramidLevel[] {
  const [a, , c, , e, f] = affine as [number, number, number, number, number, number];
  const levels: PyramidLevel[] = [{ asset: "0", shape: [rows, cols], affine: [a, 0, c, 0, e, f] }];
  let [r, q] = [rows, cols];
  while ((levels.length <= given.length || r > tile || q > tile) && levels.length <= maxLevels) {
    const g = given[levels.length - 1];
    [r, q] = g ? [g[0], g[1]] : [reducedSize(r, 2), reducedSize(q, 2)];
    levels.push({
      asset: String(levels.length),
      shape: [r, q],
      affine: [(a * cols) / q, 0, c, 0, (e * rows) / r, f],
    });
  }
  return levels;
}

/** GDAL's GeoTransform text (GeoZarr v0.4 "CRS"): "x0 dx 0 y0 0 dy". */
export function geoTransformOf(l: PyramidLevel): string {
  const [a, , c, , e, f] = l.affine;
  return [c, a, 0, f, 0, e].map(String).join(" ");
}

export function bboxOf(l: PyramidLevel): number[] {
  const [a, , c, , e, f] = l.affine as [number, number, number, number, number, number];
  const x1 = c + a * l.shape[1];
  const y1 = f + e * l.shape[0];
  return [Math.min(c, x1), Math.min(f, y1), Math.max(c, x1), Math.max(f, y1)];
}

/** Cell-centre coordinates of a level along Y or X. */
export function centres(l: PyramidLevel, axis: "y" | "x"): Float64Array {
  const [a, , c, , e, f] = l.affine as [number, number, number, number, number, number];
  const [n, step, origin] = axis === "y" ? [l.shape[0], e, f] : [l.shape[1], a, c];
  return Float64Array.from({ length: n }, (_, i) => origin + (i + 0.5) * step);
}

/** The `spatial:` attributes of one level (v3), replacing those of full resolution. */
export function spatialOf(l: PyramidLevel): JsonObject {
  return { "spatial:shape": l.shape, "spatial:transform": l.affine, "spatial:bbox": bboxOf(l) };
}

/** Metres per CRS unit for the OGC scale denominator: a degree on the WGS 84 equator, or 1. */
const METRES_PER_DEGREE = (6378137 * 2 * Math.PI) / 360;
/** OGC's standardized rendering pixel size (0.28 mm), OGC TMS 2.0 section 6.1.1. */
const PIXEL_SIZE = 0.00028;

/**
 * GeoZarr v0.4's `multiscales` attribute with an inline OGC TileMatrixSet describing the native
 * grid: one tile matrix per level group, lowest resolution first, the origin at the grid's first
 * cell (top left for north-up data, bottom left for south-up, as `cornerOfOrigin` says).
 */
export function tileMatrixSetOf(
  levels: PyramidLevel[],
  g: Georef,
  tile: number,
  method: Resampling,
): JsonObject {
  const code = g.crs?.code ?? null;
  const epsg = code?.startsWith("EPSG:") ? code.slice(5) : null;
  const perUnit = g.crs?.geographic ? METRES_PER_DEGREE : 1;
  const tileMatrices = [...levels].reverse().map((l) => {
    const [a, , c, , e, f] = l.affine as [number, number, number, number, number, number];
    return {
      id: l.asset,
      // TMS cells are square: the X cell size (Y differs by less than a cell over the extent).
      cellSize: Math.abs(a),
      scaleDenominator: (Math.abs(a) * perUnit) / PIXEL_SIZE,
      cornerOfOrigin: e > 0 ? "bottomLeft" : "topLeft",
      pointOfOrigin: [c, f],
      tileWidth: tile,
      tileHeight: tile,
      matrixWidth: Math.ceil(l.shape[1] / tile),
      matrixHeight: Math.ceil(l.shape[0] / tile),
    };
  });
  return {
    tile_matrix_set: {
      id: `geozarr-native-${epsg ? `EPSG${epsg}` : "grid"}-${tile}`,
      title: `Native grid of the dataset, ${tile} x ${tile} tiles`,
      ...(epsg ? { crs: `http://www.opengis.net/def/crs/EPSG/0/${epsg}` } : {}),
      ...(g.crs?.wkt && !epsg ? { crs: { wkt: g.crs.wkt } } : {}),
      orderedAxes: [g.xDim, g.yDim],
      tileMatrices,
    },
    resampling_method: method,
  };
}
