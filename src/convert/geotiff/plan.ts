/**
 * Plan a GeoTIFF as a GeoZarr dataset, in the layout xarray's rasterio backend gives it
 * (`band_data` on (band, y, x)) or, with `bandsAsVariables`, one (y, x) variable per band named by
 * its description: 1-D `x`/`y` cell-centre coordinates for a north-up (or south-up) grid (none for
 * a rotated one: `spatial:transform` and the GeoTransform carry the geometry), the CRS as the scalar `spatial_ref` grid-mapping variable as for NetCDF (CF 1.11
 * §5.6, GeoZarr v0.4), and, in Zarr v3, the `proj:`/`spatial:` conventions.
 *
 * GDAL's nodata becomes `fill_value`; its band metadata (DESCRIPTION, SCALE, OFFSET, UNITTYPE)
 * become `long_name`, `scale_factor`, `add_offset`, `units` (CF §3.1, §8.1), the values kept as
 * stored. A COG's overviews are returned as `levels` for `convert --multiscales`: levels 1..n are
 * then the overviews as they are, read from the file, not resampled again.
 * @module
 */

import { GeoZarrError } from "../../errors.js";
import type { Crs } from "../../geo/crs.js";
import { resolveCrs } from "../../geo/crs.js";
import { crsFromGeoKeys, PIXEL_IS_POINT, tiffTransform } from "../../geo/geotiff.js";
import { affineGrid } from "../../geo/grid.js";
import type { GeoTiffFile, TiffImage } from "../../readers/geotiff.js";
import type { CodecChoice } from "../../zarr/codecs/choice.js";
import { dataTypeInfo, isBigInt, isFloat } from "../../zarr/dtype.js";
import { defaultFillValue, type FillValue } from "../../zarr/fill-value.js";
import type { JsonObject, JsonValue } from "../../zarr/json.js";
import type { CopySource, NodePlan } from "../execute.js";
import type { SourceLevel } from "../multiscale.js";
import { conventionAttributes, type Georef, spatialRefAttributes } from "../netcdf/grid.js";
import type { NetcdfPlan } from "../netcdf/plan.js";
import { checkDimNames, chunkShapeFor, type DimSizes, shardShapeFor } from "../options.js";
import type { SourceRef } from "../source.js";
import { IDENTITY } from "../transform.js";

export interface GeotiffPlanOptions {
  zarrFormat: 2 | 3;
  chunks?: DimSizes | undefined;
  shards?: DimSizes | undefined;
  codec: CodecChoice;
  /** The CRS ("EPSG:n" or WKT), replacing the GeoKeys'. */
  crs?: string | undefined;
  /** One (y, x) variable per band, named by its description, instead of band_data (band, y, x). */
  bandsAsVariables?: boolean | undefined;
  /** Default chunk size along X/Y (the pyramid's tile size for v2 multiscales). */
  spatialChunk?: number | undefined;
  history: string;
}

export interface GeotiffPlan {
  nodes: NodePlan[];
  notes: string[];
  georef: NetcdfPlan["georef"];
  /** The file's overviews, largest first: multiscale levels 1..n (empty without overviews). */
  levels: SourceLevel[];
}

const SPATIAL_CHUNK = 4096;
const RESERVED = new Set(["x", "y", "band", "spatial_ref"]);

/** GDAL's resampling names (GDALRegenerateOverviews) in the multiscales convention's words. */
function resamplingOf(gdal: string | undefined): string | undefined {
  if (!gdal) return undefined;
  const r = gdal.trim().toLowerCase();
  return r === "near" ? "nearest" : r;
}

const finiteNumber = (s: string | undefined) =>
  s !== undefined && s.trim() !== "" && Number.isFinite(Number(s)) ? Number(s) : undefined;

/** The Zarr fill value for GDAL's nodata, or why it cannot be one. */
function fillOf(t: GeoTiffFile, opts: GeotiffPlanOptions): { fill: FillValue; note?: string } {
  const dt = t.image.dataType;
  const nd = t.nodata;
  const none: FillValue = opts.zarrFormat === 3 ? (isFloat(dt) ? Number.NaN : defaultFillValue(dt)) : null;
  if (nd === null) return { fill: none };
  if (isFloat(dt)) {
    if (dt === "float32" && Number.isFinite(nd) && Math.fround(nd) !== nd) return { fill: Math.fround(nd) };
    return { fill: nd };
  }
  const bits = 8 * dataTypeInfo(dt).size;
  const [lo, hi] = dt.startsWith("u") ? [0, 2 ** bits - 1] : [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1];
  if (!Number.isInteger(nd) || nd < lo || nd > hi)
    return { fill: none, note: `${t.file}: nodata ${nd} is not a ${dt} value: ignored, as GDAL does` };
  return { fill: isBigInt(dt) ? BigInt(nd) : nd };
}

/** Variable names from band descriptions: letters, digits and underscores, unique, band_N otherwise. */
export function bandNames(descriptions: (string | undefined)[]): string[] {
  const used = new Set<string>();
  return descriptions.map((d, i) => {
    let base = (d ?? "")
      .trim()
      .replace(/[^A-Za-z0-9_]+/g, "_")
      .replace(/^_+|_+$/g, "");
    if (!base || RESERVED.has(base)) base = `band_${i + 1}`;
    if (/^\d/.test(base)) base = `band_${base}`;
    let name = base;
    for (let k = 2; used.has(name); k++) name = `${base}_${k}`;
    used.add(name);
    return name;
  });
}

/** CF attributes of one band from GDAL's metadata items. */
export function bandAttributes(items: Record<string, string>): JsonObject {
  const out: JsonObject = {};
  if (items.DESCRIPTION) out.long_name = items.DESCRIPTION;
  const scale = finiteNumber(items.SCALE);
  const offset = finiteNumber(items.OFFSET);
  if ((scale !== undefined && scale !== 1) || (offset !== undefined && offset !== 0)) {
    out.scale_factor = scale ?? 1;
    out.add_offset = offset ?? 0;
  }
  if (items.UNITTYPE) out.units = items.UNITTYPE;
  for (const [k, v] of Object.entries(items))
    if (!["DESCRIPTION", "SCALE", "OFFSET", "UNITTYPE"].includes(k)) out[k] = v;
  return out;
}

/** Attributes every band shares (for band_data); bands that differ in scale/offset/units are refused. */
function sharedAttributes(file: string, bands: JsonObject[]): JsonObject {
  const out: JsonObject = {};
  const names = bands.map((b) => b.long_name);
  if (names.some((n) => n !== undefined))
    out.long_name = bands.length === 1 ? names[0]! : names.map((n) => (n ?? "") as JsonValue);
  for (const k of new Set(bands.flatMap((b) => Object.keys(b)))) {
    if (k === "long_name") continue;
    const vs = bands.map((b) => JSON.stringify(b[k]));
    if (vs.every((v) => v === vs[0])) out[k] = bands[0]![k]!;
    else if (["scale_factor", "add_offset", "units"].includes(k))
      throw new GeoZarrError(
        "Usage",
        `${file}: its bands differ in ${k} (${vs.join(", ")}), which one band_data variable cannot say: use bandsAsVariables (--bands-as-variables)`,
        { where: file },
      );
  }
  return out;
}

function coordinateAttributes(crs: Crs, axis: "x" | "y"): JsonObject {
  if (crs.kind === "geographic")
    return axis === "x"
      ? { standard_name: "longitude", long_name: "longitude", units: "degrees_east", axis: "X" }
      : { standard_name: "latitude", long_name: "latitude", units: "degrees_north", axis: "Y" };
  return {
    standard_name: `projection_${axis}_coordinate`,
    long_name: `${axis} coordinate of projection`,
    units: "metre",
    axis: axis.toUpperCase(),
  };
}

/** Where a GeoTIFF's cells are: the grid and CRS as plain data (for planners that compare scenes too). */
export interface TiffGrid {
  /** Cell-edge affine transform, rasterio order [a, b, c, d, e, f]. */
  affine: number[];
  /** [rows, cols]. */
  shape: [number, number];
  crs: Crs;
  /** GTRasterTypeGeoKey: 1 PixelIsArea, 2 PixelIsPoint (the affine is cell-edge either way). */
  rasterType: number;
}

/** The grid of a GeoTIFF, with the CRS from `crs` ("EPSG:n" or WKT) when given, else its GeoKeys. */
export function tiffGrid(t: GeoTiffFile, crsOption?: string): TiffGrid {
  const rasterType = Number(t.geoKeys?.GTRasterTypeGeoKey ?? 1);
  const affine = tiffTransform(t.file, t.tags, rasterType);
  if (!affine)
    throw new GeoZarrError(
      "Format",
      `${t.file}: no georeferencing (no ModelTransformation, or ModelTiepoint with ModelPixelScale)`,
      { where: t.file },
    );
  const crs = crsOption ? resolveCrs(crsOption) : crsFromGeoKeys(t.file, t.geoKeys);
  if (!crs)
    throw new GeoZarrError(
      "Usage",
      `${t.file}: no coordinate reference system in its GeoKeys: pass --crs EPSG:<code> or a WKT string`,
      { where: t.file },
    );
  return { affine, shape: [t.image.height, t.image.width], crs, rasterType };
}

export function planGeotiff(t: GeoTiffFile, opts: GeotiffPlanOptions): GeotiffPlan {
  if (opts.shards && opts.zarrFormat === 2)
    throw new GeoZarrError("Usage", "--shard needs --zarr-format 3 (Zarr v2 has no sharding)");
  const im = t.image;
  const perBand = opts.bandsAsVariables === true;
  const dims = perBand ? ["y", "x"] : ["band", "y", "x"];
  checkDimNames("--chunks", opts.chunks, new Set(dims));
  checkDimNames("--shard", opts.shards, new Set(dims));
  const { affine, crs, rasterType } = tiffGrid(t, opts.crs);
  const notes = [...t.notes];
  if (t.geoKeys?.GeogTOWGS84GeoKey !== undefined && !opts.crs)
    notes.push(`${t.file}: the datum shift in GeogTOWGS84GeoKey is not carried into the CRS`);
  const rotated = affine[1] !== 0 || affine[3] !== 0;
  const georef: Georef = {
    crs,
    yDim: "y",
    xDim: "x",
    transform: affineGrid(affine, [im.height, im.width]),
    from: opts.crs ? "--crs" : "GeoKeys",
  };
  const { fill, note } = fillOf(t, opts);
  if (note) notes.push(note);
  const v3 = opts.zarrFormat === 3;
  const nodes: NodePlan[] = [];

  // The attributes we write are CF's (grid_mapping, coordinates, scale_factor...).
  const rootAttrs: JsonObject = { Conventions: "CF-1.11", ...t.metadata.dataset };
  if (t.datetime) rootAttrs.TIFFTAG_DATETIME = t.datetime;
  rootAttrs.history = opts.history;
  nodes.push({
    kind: "group",
    path: "/",
    attributes: v3 ? { ...rootAttrs, ...conventionAttributes(georef) } : rootAttrs,
  });
  nodes.push(
    smallArray("/spatial_ref", [], [], "int64", spatialRefAttributes(georef), opts, {
      kind: "constant",
      value: 0n,
      dataType: "int64",
    }),
  );
  if (!rotated) {
    // Cell centres (CF §4: coordinates locate the data; GDAL's Zarr driver derives its transform from them).
    const [a, , c, , e, f] = affine as [number, number, number, number, number, number];
    const xs = Array.from({ length: im.width }, (_, i) => c + (i + 0.5) * a);
    const ys = Array.from({ length: im.height }, (_, j) => f + (j + 0.5) * e);
    nodes.push(
      smallArray(
        "/x",
        [im.width],
        ["x"],
        "float64",
        coordinateAttributes(crs, "x"),
        opts,
        values(xs, "float64"),
      ),
    );
    nodes.push(
      smallArray(
        "/y",
        [im.height],
        ["y"],
        "float64",
        coordinateAttributes(crs, "y"),
        opts,
        values(ys, "float64"),
      ),
    );
  } else
    notes.push(
      `${t.file}: a rotated grid: no 1-D x/y coordinates; spatial:transform and GeoTransform carry the rotation`,
    );

  const bandAttrs = t.metadata.bands.map(bandAttributes);
  const common: JsonObject = {
    AREA_OR_POINT: rasterType === PIXEL_IS_POINT ? "Point" : "Area",
    grid_mapping: "spatial_ref",
  };
  const variables = perBand
    ? bandNames(bandAttrs.map((b) => b.long_name as string | undefined)).map((name, i) => ({
        path: `/${name}`,
        samples: [i],
        attributes: { ...bandAttrs[i], ...common },
      }))
    : [
        {
          path: "/band_data",
          samples: im.bands === 0 ? [] : [...Array(im.bands).keys()],
          attributes: { ...sharedAttributes(t.file, bandAttrs), ...common },
        },
      ];
  const yx = (d: string) => d === "y" || d === "x";
  const levels: SourceLevel[] = t.overviews.map((o) => ({
    shape: [o.height, o.width],
    resampling: resamplingOf(o.metadata.RESAMPLING),
    arrays: {},
  }));
  for (const v of variables) {
    const shape = perBand ? [im.height, im.width] : [im.bands, im.height, im.width];
    const defaults = dims.map((d) => (yx(d) ? (opts.spatialChunk ?? SPATIAL_CHUNK) : 1));
    const chunkShape = chunkShapeFor(shape, dims, opts.chunks, defaults);
    const shardShape = shardShapeFor(v.path, shape, dims, opts.shards, chunkShape);
    const attributes = v3 ? { ...v.attributes, ...conventionAttributes(georef, ["y", "x"]) } : v.attributes;
    nodes.push({
      kind: "array",
      path: v.path,
      spec: {
        shape,
        chunkShape,
        shardShape,
        dataType: im.dataType,
        fillValue: fill,
        dimensionNames: dims,
        attributes,
        codec: opts.codec,
      },
      copy: tiffCopy(t, im, v.samples, perBand, fill),
      grid: { yAxis: dims.indexOf("y"), xAxis: dims.indexOf("x") },
    });
    t.overviews.forEach((o, k) => {
      levels[k]!.arrays[v.path] = tiffCopy(t, o, v.samples, perBand, fill);
    });
  }
  notes.push(
    `${variables.map((v) => v.path.slice(1)).join(", ")} ${variables.length > 1 ? "have" : "has"} no standard_name, which GeoZarr v0.4 requires (a GeoTIFF names no quantity)`,
  );
  return {
    nodes,
    notes,
    georef: [{ group: "/", crs: crs.code ?? crs.name, from: georef.from, regular: true }],
    levels: rotated ? [] : levels,
  };
}

function values(vs: number[], dataType: "int32" | "float64"): SourceRef {
  return { kind: "values", values: vs, dataType };
}

/** How the values of one image are copied: segments aligned to its tiles or strips. */
function tiffCopy(
  t: GeoTiffFile,
  im: TiffImage,
  samples: number[],
  perBand: boolean,
  fill: FillValue,
): CopySource {
  const l = im.layout;
  const block = [l.blockHeight, l.blockWidth];
  const sourceFill = fill ?? (isBigInt(im.dataType) ? 0n : 0);
  // Blocks a sparse file leaves out read as nodata, else 0 (GDAL's GTiff driver).
  const sparse = fill === null || t.nodata === null ? 0 : Number(fill);
  return {
    source: {
      kind: "geotiff",
      file: t.file,
      ...(t.remote ? { remote: t.remote } : {}),
      image: im,
      samples,
      fill: sparse,
    },
    sourceChunks: perBand ? block : [l.planar === 2 ? 1 : im.bands, ...block],
    sourceType: im.dataType,
    sourceFill,
    transform: IDENTITY,
  };
}

function smallArray(
  path: string,
  shape: number[],
  dims: string[],
  dataType: "int64" | "int32" | "float64",
  attributes: JsonObject,
  opts: GeotiffPlanOptions,
  source: SourceRef,
): NodePlan {
  const fillValue: FillValue =
    opts.zarrFormat === 3 ? (dataType === "int64" ? 0n : dataType === "int32" ? 0 : Number.NaN) : null;
  return {
    kind: "array",
    path,
    spec: {
      shape,
      chunkShape: shape,
      dataType,
      fillValue,
      dimensionNames: dims,
      attributes,
      codec: opts.codec,
    },
    copy: {
      source,
      sourceChunks: shape,
      sourceType: dataType,
      sourceFill: dataType === "int64" ? 0n : 0,
      transform: IDENTITY,
    },
  };
}
