/**
 * `convert(input, output, options)`: a whole conversion as one call, as steps of their own: plan
 * the input (convert/plan-input.ts), write the plan into a hidden sibling of `output`
 * (convert/output.ts: ownership checks, the one-writer lock), add the multiscale levels when asked
 * (pyramid/build.ts, adopting the levels the conversion computed from its own units or the
 * source's own overviews), and move the output into place only when everything is written.
 *
 * This layer sits above both the conversion and the pyramid, so neither knows the other's hooks.
 * @module
 */

import { basename } from "node:path";
import {
  type ArraySummary,
  type ExecuteSummary,
  executePlan,
  type ProgressInfo,
} from "../convert/execute.js";
import { prepareOutput } from "../convert/output.js";
import { type InputFormat, type InputPlanOptions, planInput } from "../convert/plan-input.js";
import { type Download, detectRemoteInput, downloadInput } from "../convert/remote-input.js";
import { prepareS3Output } from "../convert/s3-output.js";
import { GeoZarrError } from "../errors.js";
import { methodFor } from "../kernels/resample.js";
import {
  addLevels,
  type PyramidOptions,
  type PyramidSummary,
  validatePyramidOptions,
} from "../pyramid/build.js";
import { DEFAULT_TILE_SIZE } from "../pyramid/levels.js";
import { packageVersion } from "../version.js";
import { formatCodecChoice } from "../zarr/codecs/choice.js";
import { type ZstdBackend, zstdBackend } from "../zarr/codecs/zstd.js";
import { FileSystemStore } from "../zarr/store/fs.js";
import { isStoreUrl, parseLocation, s3Descriptor } from "../zarr/store/location.js";

export interface ConvertOptions extends InputPlanOptions {
  /** Replace an existing output (a Zarr store, an empty directory or a partial output of ours). */
  overwrite?: boolean;
  /**
   * Bytes of data buffered at once per array (unit buffers and the source-chunk cache,
   * convert/pipeline.ts); default 256 MiB. Worker threads add their own working buffers.
   */
  memoryBudget?: number;
  onProgress?: (p: ProgressInfo) => void;
  /** Aborting stops the conversion; the partial output is removed. */
  signal?: AbortSignal | undefined;
  /** The command line recorded in the `history` attribute (default: a description of the call). */
  command?: string | undefined;
  /** Also write multiscale levels (as `geozarr pyramid` does): the data in group 0, levels 1, 2, ... */
  multiscales?: PyramidOptions | undefined;
  /** A file input named by URL is downloaded first: bytes done and total, as they arrive. */
  onDownload?: ((done: number, total: number) => void) | undefined;
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
  /** How each group was georeferenced. */
  georef: { group: string; crs: string; from: string; regular: boolean }[];
  /** Things to know about the output. */
  notes: string[];
  rawBytes: number;
  storedBytes: number;
  seconds: number;
  /** The data buffer budget and the most any array buffered at once, in bytes. */
  memory: ExecuteSummary["memory"];
  /** The multiscale levels written (with `multiscales`). */
  multiscales?: PyramidSummary | undefined;
}

/** Where the conversion leaves the levels it computes for the pyramid step to adopt. */
const LEVELS_PREFIX = "/.geozarr-levels";

/**
 * The `history` line of a conversion: its time (SOURCE_DATE_EPOCH when set, the reproducible-builds
 * convention, so that a run can be repeated byte for byte), what ran and geozarr's version.
 */
export function historyLine(command: string): string {
  const text = process.env.SOURCE_DATE_EPOCH;
  const epoch = Number(text);
  const when = text && Number.isFinite(epoch) ? new Date(epoch * 1000) : new Date();
  return `${when.toISOString().replace(/\.\d+Z$/, "Z")} ${command} (geozarr ${packageVersion()})`;
}

/**
 * Plan one input as `convert` does (the levels' halving and chunking when multiscales are asked).
 * `readFrom` is where the input's bytes are (a downloaded copy of a file named by URL); `input`
 * names it in the history.
 */
export async function planConversion(
  input: string,
  output: string,
  options: ConvertOptions,
  readFrom: string = input,
) {
  const ms = options.multiscales;
  if (ms) validatePyramidOptions(ms);
  const tileSize = ms?.tileSize ?? DEFAULT_TILE_SIZE;
  const method = ms?.resampling === "bilinear" ? "average" : (ms?.resampling ?? "average");
  return planInput(readFrom, options, {
    history: historyLine(
      options.command ??
        `geozarr convert ${basename(input)} ${basename(output)} --zarr-format ${options.zarrFormat ?? 3}`,
    ),
    // GeoZarr v0.4 wants tiles to match chunks at every level, full resolution included.
    spatialChunk: ms && (options.zarrFormat ?? 3) === 2 && !ms.tms ? tileSize : undefined,
    // WebMercatorQuad levels are reprojected, not halvings of the conversion's units.
    halving:
      ms && !ms.tms
        ? { prefix: LEVELS_PREFIX, tileSize, maxLevels: ms.levels, method: (a) => methodFor(a, method) }
        : undefined,
  });
}

export async function convert(
  input: string,
  output: string,
  options: ConvertOptions = {},
): Promise<ConvertSummary> {
  const t0 = performance.now();
  const ms = options.multiscales;
  if (ms) validatePyramidOptions(ms);
  const remote = options.remote ?? {};
  const remoteInput = isStoreUrl(input) ? await detectRemoteInput(input, remote) : undefined;
  // The output is checked and locked before any work: a refused or concurrent run stops at once.
  // The one dispatch on the output's kind: a directory (renamed into place) or S3 (ordered writes).
  const outLoc = parseLocation(output);
  if (outLoc.kind === "http")
    throw new GeoZarrError("Usage", `${output}: HTTP stores are read-only; write to a directory or s3://`);
  if (outLoc.kind === "s3" && ms)
    throw new GeoZarrError(
      "Unsupported",
      `${output}: multiscale levels cannot be written to S3 yet; convert to a directory`,
      { where: output },
    );
  const pending =
    outLoc.kind === "s3"
      ? await prepareS3Output(output, s3Descriptor(outLoc, remote), options.overwrite ?? false, [input])
      : await prepareOutput(output, options.overwrite ?? false, remoteInput ? [] : [input]);
  const target = "store" in pending ? pending.store : new FileSystemStore(pending.tmp);
  let download: Download | undefined;
  try {
    // A file named by URL (NetCDF, GeoTIFF) is read from a temporary copy, removed at the end.
    if (remoteInput === "file")
      download = await downloadInput(input, remote, options.onDownload, options.signal);
    const plan = await planConversion(input, output, options, download?.path ?? input);
    const summary = await executePlan(plan.nodes, target, {
      zarrFormat: plan.zarrFormat,
      workers: plan.workers,
      useWorkers: plan.workers > 0,
      memoryBudget: options.memoryBudget,
      onProgress: options.onProgress,
      signal: options.signal,
    });
    // The levels: a step of their own, on the complete store before it is moved into place.
    let levels: PyramidSummary | undefined;
    if (ms) {
      const computed = Object.fromEntries(
        summary.arrays.filter((a) => a.halved).map((a) => [a.path, a.halved!] as const),
      );
      const built = await addLevels("tmp" in pending ? pending.tmp : output, {
        ...ms,
        signal: options.signal,
        computed,
        sourced: plan.sourceLevels,
      });
      levels = { ...built, store: output };
    }
    await pending.commit();
    return {
      input,
      output,
      inputFormat: plan.inputFormat,
      zarrFormat: plan.zarrFormat,
      codec: formatCodecChoice(plan.codec),
      zstd: zstdBackend().backend,
      workers: summary.workers,
      arrays: summary.arrays,
      ...(plan.sourceLevels.length && ms ? { sourceLevels: plan.sourceLevels.length } : {}),
      dropped: plan.dropped,
      georef: plan.georef,
      notes: [...pending.notes, ...plan.notes],
      rawBytes: summary.rawBytes,
      storedBytes: summary.storedBytes,
      seconds: (performance.now() - t0) / 1000,
      memory: summary.memory,
      ...(levels ? { multiscales: levels } : {}),
    };
  } catch (err) {
    await pending.abort();
    throw err;
  } finally {
    await download?.remove();
  }
}
