/**
 * `convert(input, output, options)`: the whole conversion as one call. Detects the input format,
 * plans the output hierarchy, writes it into a hidden sibling of `output` with the streaming
 * pipeline, and moves it into place only when complete.
 * @module
 */

import { open, stat } from "node:fs/promises";
import { fsError, GeoZarrError } from "../errors.js";
import { defaultWorkerCount } from "../parallel/pool.js";
import {
  type CodecChoice,
  DEFAULT_CODEC,
  formatCodecChoice,
  parseCodecChoice,
} from "../zarr/codecs/choice.js";
import { openHierarchy } from "../zarr/hierarchy.js";
import { FileSystemStore } from "../zarr/store/fs.js";
import { type ArraySummary, executePlan, type NodePlan, type ProgressInfo } from "./execute.js";
import { type DimSizes, parseDimSizes } from "./options.js";
import { prepareOutput } from "./output.js";
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
  /** Upper bound of one band buffer in bytes (see pipeline.ts). */
  bandBudget?: number;
  onProgress?: (p: ProgressInfo) => void;
  /** Aborting stops the conversion; the partial output is removed. */
  signal?: AbortSignal | undefined;
}

export interface ConvertSummary {
  input: string;
  output: string;
  inputFormat: "zarr" | "netcdf";
  zarrFormat: 2 | 3;
  codec: string;
  workers: number;
  arrays: ArraySummary[];
  rawBytes: number;
  storedBytes: number;
  seconds: number;
}

export type InputFormat = "zarr" | "netcdf";

const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** Zarr (a directory), NetCDF-4/HDF5 or NetCDF classic (a file, by its signature). */
export async function detectInput(path: string): Promise<InputFormat> {
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (err) {
    throw fsError(err, path, "open");
  }
  if (isDir) return "zarr";
  const fh = await open(path, "r").catch((err) => {
    throw fsError(err, path, "open");
  });
  try {
    const head = new Uint8Array(8);
    const { bytesRead } = await fh.read(head, 0, 8, 0);
    const isHdf5 = bytesRead === 8 && HDF5_MAGIC.every((b, i) => head[i] === b);
    const isClassic =
      bytesRead >= 4 &&
      head[0] === 0x43 &&
      head[1] === 0x44 &&
      head[2] === 0x46 &&
      [1, 2, 5].includes(head[3]!);
    if (isHdf5 || isClassic) return "netcdf";
  } finally {
    await fh.close();
  }
  throw new GeoZarrError("Format", `${path}: not a Zarr store, NetCDF or HDF5 file`, { where: path });
}

function normalize(opts: ConvertOptions) {
  return {
    zarrFormat: opts.zarrFormat ?? 3,
    chunks: typeof opts.chunks === "string" ? parseDimSizes("--chunks", opts.chunks) : opts.chunks,
    shards: typeof opts.shards === "string" ? parseDimSizes("--shard", opts.shards) : opts.shards,
    codec: typeof opts.codec === "string" ? parseCodecChoice(opts.codec) : (opts.codec ?? DEFAULT_CODEC),
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
  const inputFormat = await detectInput(input);
  let plan: NodePlan[];
  if (inputFormat === "zarr") {
    const src = await openHierarchy(new FileSystemStore(input), { name: input });
    plan = planZarrCopy(src, { ...o, useWorkers: o.workers > 0 });
  } else {
    throw new GeoZarrError("Unsupported", `${input}: NetCDF input is not supported yet`);
  }
  const pending = await prepareOutput(output, options.overwrite ?? false, [input]);
  try {
    const summary = await executePlan(plan, new FileSystemStore(pending.tmp), {
      zarrFormat: o.zarrFormat,
      workers: o.workers,
      useWorkers: o.workers > 0,
      bandBudget: options.bandBudget,
      onProgress: options.onProgress,
      signal: options.signal,
    });
    await pending.commit();
    return {
      input,
      output,
      inputFormat,
      zarrFormat: o.zarrFormat,
      codec: formatCodecChoice(o.codec),
      workers: summary.workers,
      arrays: summary.arrays,
      rawBytes: summary.rawBytes,
      storedBytes: summary.storedBytes,
      seconds: (performance.now() - t0) / 1000,
    };
  } catch (err) {
    await pending.abort();
    throw err;
  }
}
