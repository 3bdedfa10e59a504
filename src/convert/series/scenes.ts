/**
 * GeoTIFF scenes as granules of a time series (issue 17 item 4): what a scan of a NetCDF granule
 * gives (scan-task.ts), for a scene: its one time (from its name through a pattern, or its
 * TIFFTAG_DATETIME: readers/scene-date.ts), and its grid, CRS, band count, type and nodata, which
 * every scene must share with the first (`sceneDifference`). A scene has no time dimension of its
 * own, so its single-file plan (geotiff/plan.ts) gets one (`withSceneTime`): the data arrays
 * (band, y, x) become (time, band, y, x), and a CF time coordinate (CF 1.11 §4.4: int64 seconds
 * since 1970-01-01 in the proleptic Gregorian calendar) is added; plan.ts then grows both to the
 * whole series as it does for NetCDF granules.
 * @module
 */

import { GeoZarrError } from "../../errors.js";
import type { TiffImage } from "../../readers/geotiff.js";
import { sceneDate } from "../../readers/scene-date.js";
import type { DataType } from "../../zarr/dtype.js";
import type { JsonObject } from "../../zarr/json.js";
import type { NodePlan } from "../execute.js";
import { bandAttributes, tiffGrid } from "../geotiff/plan.js";
import { IDENTITY } from "../transform.js";
import type { ScannedInput } from "./scan-task.js";

/** What the scenes of a series must share, and the image each is read from. */
export interface SceneFacts {
  /** The full-resolution image (its own block layout: scenes may be tiled differently). */
  image: TiffImage;
  /** [rows, cols]. */
  shape: [number, number];
  /** Cell-edge affine transform, rasterio order. */
  affine: number[];
  /** The CRS: its EPSG code, or its WKT2. */
  crs: string;
  bands: number;
  dataType: DataType;
  nodata: number | null;
  /** Each band's scale_factor, add_offset and units from GDAL's metadata (CF §8.1: how values are read). */
  packing: JsonObject[];
  /** The scene's date, ISO 8601 UTC. */
  date: string;
}

/** The time encoding of a series of scenes: whole seconds, exact for any TIFFTAG_DATETIME. */
export const SCENE_TIME_UNITS = "seconds since 1970-01-01T00:00:00Z";
export const SCENE_CALENDAR = "proleptic_gregorian";

/** A scene scanned as a granule: no variables of its own to compare, its facts instead. */
export async function scanScene(
  file: string,
  concatDim: string,
  timeFrom: string | undefined,
): Promise<Omit<ScannedInput, "size" | "mtimeMs">> {
  // geotiff.js is loaded with the first scene, not by every series of NetCDF granules.
  const { openGeoTiff } = await import("../../readers/geotiff.js");
  const t = await openGeoTiff(file);
  const date = sceneDate({ file, datetime: t.datetime }, timeFrom);
  const grid = tiffGrid(t);
  const seconds = Date.parse(date.length === 10 ? `${date}T00:00:00Z` : date) / 1000;
  return {
    file,
    format: "geotiff",
    variables: {},
    concat: {
      path: `/${concatDim}`,
      values: [seconds],
      attributes: { units: SCENE_TIME_UNITS, calendar: SCENE_CALENDAR },
    },
    coordinates: {},
    gridMappings: {},
    scene: {
      image: t.image,
      shape: grid.shape,
      affine: grid.affine,
      crs: grid.crs.code ?? grid.crs.wkt2 ?? grid.crs.name,
      bands: t.image.bands,
      dataType: t.image.dataType,
      nodata: t.nodata,
      packing: Array.from({ length: t.image.bands }, (_, i) => {
        const cf = bandAttributes(t.metadata.bands[i] ?? {});
        return Object.fromEntries(PACKING.flatMap((k) => (cf[k] === undefined ? [] : [[k, cf[k]!]])));
      }),
      date,
    },
  };
}

const list = (xs: readonly number[]) => `[${xs.join(", ")}]`;
/** Band attributes that change what the stored values mean (geotiff/plan.ts writes them). */
const PACKING = ["scale_factor", "add_offset", "units"] as const;

/** Where scene `b` differs from the first, `a`, in words, or null. */
export function sceneDifference(a: SceneFacts, b: SceneFacts): string | null {
  if (a.shape.join() !== b.shape.join())
    return `a grid of ${b.shape.join(" x ")} cells, the first has ${a.shape.join(" x ")}`;
  if (a.affine.some((v, i) => v !== b.affine[i]))
    return `the transform ${list(b.affine)}, the first has ${list(a.affine)}`;
  if (a.crs !== b.crs) return `the CRS ${b.crs}, the first has ${a.crs}`;
  if (a.bands !== b.bands) return `${b.bands} bands, the first has ${a.bands}`;
  if (a.dataType !== b.dataType) return `type ${b.dataType}, the first has ${a.dataType}`;
  if (!Object.is(a.nodata, b.nodata))
    return `nodata ${b.nodata ?? "none"}, the first has ${a.nodata ?? "none"}`;
  const p = JSON.stringify(a.packing);
  const q = JSON.stringify(b.packing);
  if (p !== q) return `band ${PACKING.join(", ")} ${q}, the first has ${p}`;
  return null;
}

type ArrayNode = Extract<NodePlan, { kind: "array" }>;

/**
 * A scene's single-file plan with the time dimension it lacks: every array read from the TIFF
 * gets `concatDim` first (one step, chunked by one step, sharded by `timeShard` steps), and the
 * time coordinate is added holding the scene's time. The root loses TIFFTAG_DATETIME (the times
 * are the coordinate's now).
 */
export function withSceneTime(
  nodes: NodePlan[],
  first: Pick<ScannedInput, "file" | "concat">,
  zarrFormat: 2 | 3,
  timeShard?: number,
): NodePlan[] {
  const dim = first.concat.path.slice(1);
  const out: NodePlan[] = [];
  let codec: ArrayNode["spec"]["codec"] | undefined;
  for (const n of nodes) {
    if (n.kind === "group") {
      const { TIFFTAG_DATETIME: _, ...attributes } = n.attributes;
      out.push(n.path === "/" ? { ...n, attributes } : n);
      continue;
    }
    if (n.kind !== "array") {
      out.push(n);
      continue;
    }
    if (n.spec.dimensionNames?.includes(dim))
      throw new GeoZarrError(
        "Usage",
        `${first.file}: already has a dimension "${dim}"; scenes are stacked along a new one`,
        { where: first.file },
      );
    if (n.copy?.source?.kind !== "geotiff") {
      out.push(n);
      continue;
    }
    codec = n.spec.codec;
    out.push({
      ...n,
      spec: {
        ...n.spec,
        shape: [1, ...n.spec.shape],
        chunkShape: [1, ...n.spec.chunkShape],
        shardShape: n.spec.shardShape && [timeShard ?? 1, ...n.spec.shardShape],
        dimensionNames: [dim, ...n.spec.dimensionNames!],
      },
      copy: { ...n.copy, sourceChunks: [1, ...n.copy.sourceChunks] },
      ...(n.grid ? { grid: { yAxis: n.grid.yAxis + 1, xAxis: n.grid.xAxis + 1 } } : {}),
    });
  }
  if (!codec) throw new GeoZarrError("Format", `${first.file}: no bands to stack`, { where: first.file });
  // CF §4.4 time coordinate; int64 whole seconds (xarray decodes them exactly to datetime64).
  out.push({
    kind: "array",
    path: first.concat.path,
    spec: {
      shape: [1],
      chunkShape: [1],
      dataType: "int64",
      fillValue: zarrFormat === 3 ? 0n : null,
      dimensionNames: [dim],
      attributes: {
        standard_name: "time",
        long_name: "time",
        axis: "T",
        ...first.concat.attributes,
      },
      codec,
    },
    copy: {
      source: { kind: "values", values: first.concat.values, dataType: "int64" },
      sourceChunks: [1],
      sourceType: "int64",
      sourceFill: 0n,
      transform: IDENTITY,
    },
  });
  return out;
}
