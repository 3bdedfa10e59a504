/**
 * `convert(input, output, options)`: the whole conversion as one call. Detects the input format,
 * plans the output hierarchy, writes it into a hidden sibling of `output` with the streaming
 * pipeline, and moves it into place only when complete.
 * @module
 */

import { open, stat } from "node:fs/promises";
import { basename } from "node:path";
import { fsError, GeoZarrError } from "../errors.js";
import { defaultWorkerCount, maxWorkerCount } from "../parallel/pool.js";
import type { SourceLevel } from "../pyramid/levels.js";
import type { Resampling } from "../pyramid/resample.js";
import { openInputFile, sniffFormat } from "../readers/open.js";
import { isTiffHeader } from "../readers/tiff-source.js";
import { packageVersion } from "../version.js";
import { type CodecChoice, codecChoiceOf, formatCodecChoice } from "../zarr/codecs/choice.js";
import { type ZstdBackend, zstdBackend } from "../zarr/codecs/zstd.js";
import { openHierarchy } from "../zarr/hierarchy.js";
import type { JsonObject } from "../zarr/json.js";
import { FileSystemStore } from "../zarr/store/fs.js";
import { joinKey } from "../zarr/store/types.js";
import {
  type ArraySummary,
  type ExecuteSummary,
  executePlan,
  type NodePlan,
  type ProgressInfo,
} from "./execute.js";
import { planGeotiff } from "./geotiff/plan.js";
import { type NetcdfPlan, planNetcdf } from "./netcdf/plan.js";
import { type DimSizes, parseDimSizes } from "./options.js";
import { prepareOutput } from "./output.js";
import type { HalveJob } from "./pipeline.js";
import { planZarrCopy } from "./zarr-to-zarr.js";

export interface ConvertOptions {
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
  /** Replace an existing output. */
  overwrite?: boolean;
  /**
   * Bytes of data buffered at once per array (unit buffers and the source-chunk cache, pipeline.ts);
   * default 256 MiB. Worker threads add their own working buffers.
   */
  memoryBudget?: number;
  onProgress?: (p: ProgressInfo) => void;
  /** Aborting stops the conversion; the partial output is removed. */
  signal?: AbortSignal | undefined;
  /** NetCDF: data variables to convert (by name); all when absent. */
  variables?: string[] | undefined;
  /** NetCDF: keep only data variables whose standard_name is in the CF standard name table. */
  requireStandardName?: boolean | undefined;
  /** NetCDF: decode packed / masked values as xarray does, to this type (fill value NaN). */
  unpack?: "float32" | "float64" | undefined;
  /** NetCDF: the CRS ("EPSG:4326" or WKT); by default the source's grid mapping or EPSG:4326 for lat/lon. */
  crs?: string | undefined;
  /** The command line recorded in the `history` attribute (default: a description of the call). */
  command?: string | undefined;
  /** NetCDF and GeoTIFF: default chunk size along X and Y (default 4096). */
  spatialChunk?: number | undefined;
  /** GeoTIFF: one (y, x) variable per band, named by its description, instead of band_data (band, y, x). */
  bandsAsVariables?: boolean | undefined;
  /**
   * Runs on the complete output directory before it is moved into place (e.g. adding multiscale
   * levels, pyramid/build.ts), with what was written and the levels the source has of its own (a
   * COG's overviews); a failure there removes the output like any other.
   */
  finish?: ((dir: string, written: ExecuteSummary, sourceLevels: SourceLevel[]) => Promise<void>) | undefined;
  /**
   * Also write each gridded data variable reduced by 2, 4, ... (multiscale levels 1, 2, ... until
   * one tile holds the grid) from the conversion's own bands, under `prefix`/k (no metadata:
   * `finish` adopts the chunks). Only the levels whose chunks the bands line up with are written;
   * the summary says which.
   */
  halve?:
    | {
        prefix: string;
        tileSize: number;
        /** At most this many levels (default: until one tile holds the grid). */
        maxLevels?: number | undefined;
        method: (attributes: JsonObject) => Resampling;
      }
    | undefined;
}

export interface ConvertSummary {
  input: string;
  output: string;
  inputFormat: InputFormat;
  zarrFormat: 2 | 3;
  codec: string;
  /** The zstd backend the conversion ran with (codecs/zstd.ts): native (zstd-napi) or wasm. */
  zstd: ZstdBackend;
  workers: number;
  arrays: ArraySummary[];
  /** Overviews of the source (a COG's) that became multiscale levels 1..n (GeoTIFF). */
  sourceLevels?: number | undefined;
  /** Variables not converted, and why (NetCDF). */
  dropped: { name: string; reason: string }[];
  /** How each group was georeferenced (NetCDF). */
  georef: NetcdfPlan["georef"];
  /** Things to know about the output (NetCDF). */
  notes: string[];
  rawBytes: number;
  storedBytes: number;
  seconds: number;
  /** The data buffer budget and the most any array buffered at once, in bytes. */
  memory: ExecuteSummary["memory"];
}

export type InputFormat = "zarr" | "netcdf" | "geotiff";

/** Zarr (a directory), NetCDF-4/HDF5 / NetCDF classic or GeoTIFF (a file, by its signature). */
export async function detectInput(path: string): Promise<InputFormat> {
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

function normalize(opts: ConvertOptions) {
  return {
    zarrFormat: opts.zarrFormat ?? 3,
    chunks: typeof opts.chunks === "string" ? parseDimSizes("--chunks", opts.chunks) : opts.chunks,
    shards: typeof opts.shards === "string" ? parseDimSizes("--shard", opts.shards) : opts.shards,
    codec: codecChoiceOf(opts.codec),
    workers: opts.workers ?? defaultWorkerCount(),
  };
}

export async function convert(
  input: string,
  output: string,
  options: ConvertOptions = {},
): Promise<ConvertSummary> {
  const t0 = performance.now();
  const o = normalize(options);
  if (o.zarrFormat !== 2 && o.zarrFormat !== 3)
    throw new GeoZarrError("Usage", "--zarr-format must be 2 or 3");
  if (!Number.isInteger(o.workers) || o.workers < 0 || o.workers > maxWorkerCount())
    throw new GeoZarrError(
      "Usage",
      `workers must be an integer from 0 to ${maxWorkerCount()}, got ${o.workers}`,
    );
  const inputFormat = await detectInput(input);
  // The output is checked and locked before any work: a refused or concurrent run stops at once.
  const pending = await prepareOutput(output, options.overwrite ?? false, [input]);
  try {
    let plan: NodePlan[];
    let netcdf: NetcdfPlan | undefined;
    let sourceLevels: SourceLevel[] = [];
    const notes: string[] = [];
    const history = () =>
      `${new Date().toISOString().replace(/\.\d+Z$/, "Z")} ${
        options.command ??
        `geozarr convert ${basename(input)} ${basename(output)} --zarr-format ${o.zarrFormat}`
      } (geozarr ${packageVersion()})`;
    if (inputFormat !== "geotiff" && options.bandsAsVariables)
      throw new GeoZarrError("Usage", "--bands-as-variables applies to GeoTIFF input");
    if (inputFormat === "zarr") {
      const src = await openHierarchy(new FileSystemStore(input), { name: input });
      for (const n of src.notFollowed) notes.push(`${input}${n.key}: ${n.reason}`);
      plan = await planZarrCopy(src, { ...o, useWorkers: o.workers > 0 });
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
      const tiff = planGeotiff(await openGeoTiff(input), {
        ...o,
        crs: options.crs,
        bandsAsVariables: options.bandsAsVariables,
        spatialChunk: options.spatialChunk,
        history: history(),
      });
      plan = tiff.nodes;
      notes.push(...tiff.notes);
      sourceLevels = tiff.levels;
      netcdf = { nodes: [], dropped: [], notes: [], georef: tiff.georef };
    } else {
      const ds = await openInputFile(input);
      netcdf = await planNetcdf(ds, {
        ...o,
        variables: options.variables,
        requireStandardName: options.requireStandardName,
        unpack: options.unpack,
        crs: options.crs,
        spatialChunk: options.spatialChunk,
        history: history(),
      });
      plan = netcdf.nodes;
    }
    // A source with levels of its own (a COG's overviews) gives levels 1..n; no halving of the bands.
    if (options.halve && sourceLevels.length === 0) plan = plan.map((n) => withHalf(n, options.halve!));
    const summary = await executePlan(plan, new FileSystemStore(pending.tmp), {
      zarrFormat: o.zarrFormat,
      workers: o.workers,
      useWorkers: o.workers > 0,
      memoryBudget: options.memoryBudget,
      onProgress: options.onProgress,
      signal: options.signal,
    });
    await options.finish?.(pending.tmp, summary, sourceLevels);
    await pending.commit();
    return {
      input,
      output,
      inputFormat,
      zarrFormat: o.zarrFormat,
      codec: formatCodecChoice(o.codec),
      zstd: zstdBackend().backend,
      workers: summary.workers,
      arrays: summary.arrays,
      ...(sourceLevels.length && options.finish ? { sourceLevels: sourceLevels.length } : {}),
      dropped: netcdf?.dropped ?? [],
      georef: netcdf?.georef ?? [],
      notes: [...pending.notes, ...notes, ...(netcdf?.notes ?? [])],
      rawBytes: summary.rawBytes,
      storedBytes: summary.storedBytes,
      seconds: (performance.now() - t0) / 1000,
      memory: summary.memory,
    };
  } catch (err) {
    await pending.abort();
    throw err;
  }
}

/** A gridded, unsharded data variable with Y and X last gets its reduced copies (`halve`). */
function withHalf(n: NodePlan, h: NonNullable<ConvertOptions["halve"]>): NodePlan {
  if (n.kind !== "array" || !n.copy || !n.grid || n.spec.shardShape) return n;
  const nd = n.spec.shape.length;
  if (n.grid.yAxis !== nd - 2 || n.grid.xAxis !== nd - 1) return n;
  const last2 = (d: number) => d >= nd - 2;
  const halve: HalveJob[] = [];
  let shape = n.spec.shape;
  // The levels pyramid/levels.ts planPyramid plans: halve until one tile holds the grid.
  while (
    shape.slice(-2).some((s) => s > h.tileSize) &&
    halve.length < (h.maxLevels ?? Number.POSITIVE_INFINITY)
  ) {
    shape = shape.map((s, d) => (last2(d) ? Math.ceil(s / 2) : s));
    halve.push({
      path: joinKey(h.prefix, String(halve.length + 1), n.path),
      shape,
      unitShape: n.spec.chunkShape.map((c, d) => (last2(d) ? h.tileSize : c)),
      encoding: { dataType: n.spec.dataType, fillValue: n.spec.fillValue, codec: n.spec.codec },
      method: h.method(n.spec.attributes),
    });
  }
  return halve.length ? { ...n, copy: { ...n.copy, halve } } : n;
}
