/**
 * Plan the conversion of one input: detect its format (a Zarr store, a NetCDF-4/HDF5 or NetCDF
 * classic file, a GeoTIFF), and plan the output hierarchy as nodes with value sources, for
 * execute.ts. Pure planning: nothing is written (jobs/convert.ts runs the plan).
 * @module
 */

import { open, stat } from "node:fs/promises";
import { fsError, GeoZarrError } from "../errors.js";
import { defaultWorkerCount, maxWorkerCount } from "../parallel/pool.js";
import type { RemoteFile } from "../readers/byte-source.js";
import { openInputFile, sniffFormat } from "../readers/open.js";
import { isTiffHeader } from "../readers/tiff-source.js";
import { type CodecChoice, codecChoiceOf } from "../zarr/codecs/choice.js";
import { openHierarchy } from "../zarr/hierarchy.js";
import { isStoreUrl, parseLocation, type RemoteOptions, storeAt } from "../zarr/store/location.js";
import type { NodePlan } from "./execute.js";
import { planGeotiff } from "./geotiff/plan.js";
import { type HalvingOptions, type SourceLevel, withHalving } from "./multiscale.js";
import { type NetcdfPlan, planNetcdf } from "./netcdf/plan.js";
import { type DimSizes, parseDimSizes } from "./options.js";
import { planZarrCopy } from "./zarr-to-zarr.js";

/** The options a single input is planned with (the output format and encoding, the selection). */
export interface InputPlanOptions {
  /** Output format; default 3. */
  zarrFormat?: 2 | 3;
  /** Chunk size per dimension name ("time=1,lat=4096" or an object). */
  chunks?: DimSizes | string;
  /** v3 shard size per dimension name. */
  shards?: DimSizes | string;
  /** Compression ("zstd:1", "gzip:5", "blosc:zstd:5:shuffle", "none"); default zstd level 1. */
  codec?: CodecChoice | string;
  /** Worker threads; default the number of cores. 0 runs everything on the calling thread. */
  workers?: number;
  /** NetCDF: data variables to convert (by name); all when absent. */
  variables?: string[] | undefined;
  /** NetCDF: keep only data variables whose standard_name is in the CF standard name table. */
  requireStandardName?: boolean | undefined;
  /** NetCDF: decode packed / masked values as xarray does, to this type (fill value NaN). */
  unpack?: "float32" | "float64" | undefined;
  /** NetCDF: the CRS ("EPSG:4326" or WKT); by default the source's grid mapping or EPSG:4326 for lat/lon. */
  crs?: string | undefined;
  /** GeoTIFF: one (y, x) variable per band, named by its description, instead of band_data (band, y, x). */
  bandsAsVariables?: boolean | undefined;
  /** s3:// and http(s):// inputs and outputs: anonymous access, endpoint, region (credentials: the environment). */
  remote?: RemoteOptions | undefined;
}

/** Internal planning choices the caller makes (the multiscale step's, the history line). */
export interface InputPlanExtras {
  /** The line prepended to the root `history` attribute. */
  history: string;
  /** NetCDF and GeoTIFF: default chunk size along X and Y (default 4096). */
  spatialChunk?: number | undefined;
  /** Also write each gridded data variable's reduced copies from the conversion's own units. */
  halving?: HalvingOptions | undefined;
  /** The input is this NetCDF-4 file or GeoTIFF in object storage, read in place (`input` is its URL). */
  remote?: { file: RemoteFile; format: "netcdf" | "geotiff" } | undefined;
}

export interface InputPlan {
  input: string;
  inputFormat: InputFormat;
  zarrFormat: 2 | 3;
  codec: CodecChoice;
  workers: number;
  nodes: NodePlan[];
  /** Variables not converted, and why (NetCDF). */
  dropped: { name: string; reason: string }[];
  /** How each group was georeferenced (NetCDF, GeoTIFF). */
  georef: NetcdfPlan["georef"];
  /** Things to know about the output. */
  notes: string[];
  /** Levels the source has of its own (a COG's overviews): multiscale levels 1..n. */
  sourceLevels: SourceLevel[];
}

export type InputFormat = "zarr" | "netcdf" | "geotiff";

/**
 * Zarr (a directory), NetCDF-4/HDF5 / NetCDF classic or GeoTIFF (a file, by its signature). A URL
 * here is a Zarr store: files named by URL are downloaded first (jobs/convert.ts).
 */
export async function detectInput(path: string): Promise<InputFormat> {
  if (isStoreUrl(path)) return "zarr";
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (err) {
    throw fsError(err, path, "open");
  }
  if (isDir) return "zarr";
  if (await sniffFormat(path)) return "netcdf";
  if (await isTiff(path)) return "geotiff";
  throw new GeoZarrError("Format", `${path}: not a Zarr store, NetCDF, HDF5 or TIFF file`, { where: path });
}

async function isTiff(path: string): Promise<boolean> {
  const fh = await open(path, "r").catch((err) => {
    throw fsError(err, path, "open");
  });
  try {
    const head = new Uint8Array(4);
    await fh.read(head, 0, 4, 0);
    return isTiffHeader(head);
  } finally {
    await fh.close();
  }
}

function normalize(opts: InputPlanOptions) {
  return {
    zarrFormat: opts.zarrFormat ?? 3,
    chunks: typeof opts.chunks === "string" ? parseDimSizes("--chunks", opts.chunks) : opts.chunks,
    shards: typeof opts.shards === "string" ? parseDimSizes("--shard", opts.shards) : opts.shards,
    codec: codecChoiceOf(opts.codec),
    workers: opts.workers ?? defaultWorkerCount(),
  };
}

/** Normalised options, checked: the output format, codec and worker count. */
export function normalizeOptions(opts: InputPlanOptions) {
  const o = normalize(opts);
  if (o.zarrFormat !== 2 && o.zarrFormat !== 3) throw new GeoZarrError("Usage", "zarrFormat must be 2 or 3");
  if (!Number.isInteger(o.workers) || o.workers < 0 || o.workers > maxWorkerCount())
    throw new GeoZarrError(
      "Usage",
      `workers must be an integer from 0 to ${maxWorkerCount()}, got ${o.workers}`,
    );
  return o;
}

export async function planInput(
  input: string,
  options: InputPlanOptions,
  extras: InputPlanExtras,
): Promise<InputPlan> {
  const o = normalizeOptions(options);
  const inputFormat = extras.remote?.format ?? (await detectInput(input));
  let nodes: NodePlan[];
  let netcdf: NetcdfPlan | undefined;
  let sourceLevels: SourceLevel[] = [];
  const notes: string[] = [];
  if (inputFormat !== "geotiff" && options.bandsAsVariables)
    throw new GeoZarrError("Usage", "--bands-as-variables applies to GeoTIFF input");
  if (inputFormat === "zarr") {
    const src = await openHierarchy(storeAt(parseLocation(input), options.remote), { name: input });
    for (const n of src.notFollowed) notes.push(`${input}${n.key}: ${n.reason}`);
    nodes = await planZarrCopy(src, { ...o, useWorkers: o.workers > 0 });
  } else if (inputFormat === "geotiff") {
    for (const [flag, given] of [
      ["--variables", options.variables],
      ["--require-standard-name", options.requireStandardName],
      ["--unpack", options.unpack],
    ] as const)
      if (given)
        throw new GeoZarrError("Usage", `${flag} applies to NetCDF input, not to the GeoTIFF ${input}`);
    // geotiff.js loads only for GeoTIFF input.
    const { openGeoTiff } = await import("../readers/geotiff.js");
    const tiff = planGeotiff(await openGeoTiff(input, extras.remote?.file), {
      ...o,
      crs: options.crs,
      bandsAsVariables: options.bandsAsVariables,
      spatialChunk: extras.spatialChunk,
      history: extras.history,
    });
    nodes = tiff.nodes;
    notes.push(...tiff.notes);
    sourceLevels = tiff.levels;
    netcdf = { nodes: [], dropped: [], notes: [], georef: tiff.georef };
  } else {
    const ds = await openInputFile(input, extras.remote?.file);
    netcdf = await planNetcdf(ds, {
      ...o,
      variables: options.variables,
      requireStandardName: options.requireStandardName,
      unpack: options.unpack,
      crs: options.crs,
      spatialChunk: extras.spatialChunk,
      history: extras.history,
    });
    nodes = netcdf.nodes;
  }
  // A source with levels of its own (a COG's overviews) gives levels 1..n; no halving of the units.
  if (extras.halving && sourceLevels.length === 0) nodes = nodes.map((n) => withHalving(n, extras.halving!));
  return {
    input,
    inputFormat,
    zarrFormat: o.zarrFormat,
    codec: o.codec,
    workers: o.workers,
    nodes,
    dropped: netcdf?.dropped ?? [],
    georef: netcdf?.georef ?? [],
    notes: [...notes, ...(netcdf?.notes ?? [])],
    sourceLevels,
  };
}
