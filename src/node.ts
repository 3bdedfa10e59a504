/**
 * The Node.js API of geozarr: open stores on the file system, convert, inspect.
 *
 * ```ts
 * import { openStore, convert, buildTree } from "geozarr/node";
 * const h = await openStore("mur.zarr");
 * console.log(buildTree(h));
 * await convert("mur_v2.zarr", "mur_v3.zarr", { zarrFormat: 3, codec: "zstd:1" });
 * ```
 *
 * @module
 */

import { stat } from "node:fs/promises";
import { fsError, GeoZarrError } from "./errors.js";
import { type Hierarchy, type OpenOptions, openHierarchy } from "./zarr/hierarchy.js";
import { FileSystemStore } from "./zarr/store/fs.js";
import { parseLocation, type RemoteOptions, storeAt } from "./zarr/store/location.js";

export * from "./index.js";
export { type ArrayStats, computeStats } from "./inspect/stats.js";
export { appendSeries } from "./jobs/append.js";
export { type ConvertOptions, type ConvertSummary, convert } from "./jobs/convert.js";
export { type PlannedRun, type PrepareOptions, planRun, prepareRun } from "./jobs/prepare.js";
export {
  type FinalizeResult,
  finalizeStaged,
  type RunPlan,
  readRunPlan,
  runTaskOf,
  type TaskOutcome,
} from "./jobs/run-plan.js";
export { convertSeries, type SeriesOptions, type SeriesSummary } from "./jobs/series.js";
export { defaultWorkerCount, WorkerPool } from "./parallel/pool.js";
export { readRegion } from "./parallel/read-region.js";
export { addLevels, type PyramidOptions, type PyramidSummary } from "./pyramid/build.js";
export { type RunningServer, type ServeOptions, startServer } from "./server/app.js";
export { type Report, rulesMarkdown, type ValidateOptions, validateStore } from "./validate/validate.js";
export { type ZstdBackend, type ZstdBackendInfo, zstdBackend } from "./zarr/codecs/zstd.js";
export { FileSystemStore } from "./zarr/store/fs.js";
export { HttpStore } from "./zarr/store/http.js";
export {
  isStoreUrl,
  parseLocation,
  type RemoteOptions,
  type StoreLocation,
  storeAt,
} from "./zarr/store/location.js";
export { isLoopback } from "./zarr/store/remote.js";
export { S3Store } from "./zarr/store/s3.js";

/**
 * Open a Zarr store: a directory, `s3://bucket/prefix` or `http(s)://host/path`; errors name the
 * path or URL. Remote stores are configured by `options` and the AWS environment (s3.ts).
 */
export async function openStore(
  path: string,
  options: Omit<OpenOptions, "name"> & RemoteOptions = {},
): Promise<Hierarchy> {
  const loc = parseLocation(path);
  if (loc.kind !== "fs") return openHierarchy(storeAt(loc, options), { ...options, name: path });
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (err) {
    throw fsError(err, path, "open");
  }
  if (!isDir)
    throw new GeoZarrError("NotFound", `${path}: not a Zarr store (a file, not a directory)`, {
      where: path,
    });
  return openHierarchy(new FileSystemStore(path), { ...options, name: path });
}
