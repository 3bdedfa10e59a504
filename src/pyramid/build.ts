/**
 * `addLevels(store)`: turn a GeoZarr dataset into a multiscale pyramid (issue 6), in place and
 * atomically. `geozarr pyramid STORE` runs it on a store, `geozarr convert --multiscales` on the
 * conversion's output before it is moved into place.
 *
 * The new store is assembled in a hidden sibling and replaces the old one only when complete (in
 * object storage: in a local copy, then uploaded chunks first, consolidated metadata last:
 * s3-build.ts):
 *  - level "0" is the dataset as it was: its documents copied, its chunk files hard-linked (no
 *    data is rewritten, and the original stays intact until the swap);
 *  - level k is computed from level k-1 through the conversion pipeline (convert/pipeline.ts):
 *    segments aligned to the previous level's chunks are reduced on the worker pool
 *    (pyramid/level-task.ts), chunks encoded there too, memory bounded by the pipeline's bands;
 *  - each level is a GeoZarr dataset by itself: its data variables, its own 1-D coordinates, the
 *    grid-mapping variable with the level's GeoTransform, and every other small variable (time);
 *  - the root keeps the dataset's global attributes and gains the multiscale metadata
 *    (pyramid/levels.ts); consolidated metadata is written last.
 *
 * @module
 */

import { join } from "node:path";
import { type ExecuteSummary, emptySummary, type NodePlan, type ProgressInfo } from "../convert/execute.js";
import type { SourceLevel } from "../convert/multiscale.js";
import { prepareOutput } from "../convert/output.js";
import { IDENTITY } from "../convert/transform.js";
import { GeoZarrError } from "../errors.js";
import {
  declarationsOf,
  declare,
  MULTISCALES_CONVENTION,
  multiscalesAttribute,
  upgradeDeclarations,
} from "../geo/conventions.js";
import { methodFor, RESAMPLING_METHODS, type Resampling } from "../kernels/resample.js";
import { defaultWorkerCount, WorkerPool } from "../parallel/pool.js";
import { type CodecChoice, codecChoiceOf } from "../zarr/codecs/choice.js";
import { getNode, type Hierarchy, type NodeRecord } from "../zarr/hierarchy.js";
import type { JsonObject } from "../zarr/json.js";
import type { ArrayMeta } from "../zarr/metadata/model.js";
import { readGridChunkShape } from "../zarr/read/read-task.js";
import { FileSystemStore } from "../zarr/store/fs.js";
import { parseLocation, requireLocal } from "../zarr/store/location.js";
import { refFor } from "../zarr/store/ref.js";
import { joinKey } from "../zarr/store/types.js";
import { encodeChunk } from "../zarr/write/encode.js";
import { HierarchyWriter } from "../zarr/write/writer.js";
import {
  copyNodes,
  type Dataset,
  linkChunks,
  nameOf,
  openDataset,
  readMeta,
  storedAttributes,
  withAttributes,
  writeLevelNodes,
} from "./dataset.js";
import {
  centres,
  DEFAULT_TILE_SIZE,
  geoTransformOf,
  type PyramidLevel,
  planPyramid,
  spatialOf,
  TILE_SIZES,
  tileMatrixSetOf,
} from "./levels.js";
import { addLevelsInS3 } from "./s3-build.js";
import { addWebMercatorLevels } from "./webmercator-build.js";

export interface PyramidOptions {
  /** Overview levels below full resolution; default: until the grid fits in one tile. */
  levels?: number | undefined;
  /**
   * Default resampling (CF flag variables always use mode); default "average". With `tms`:
   * "nearest" (default) or "bilinear".
   */
  resampling?: Resampling | "bilinear" | undefined;
  /** Levels on a well-known tile matrix set instead of the native grid (pyramid/webmercator-build.ts). */
  tms?: "WebMercatorQuad" | undefined;
  /** Tile size of the overview levels (their chunks along Y and X); default 512. */
  tileSize?: number | undefined;
  /** Compression of the overview levels; default zstd level 1. */
  codec?: CodecChoice | string | undefined;
  workers?: number | undefined;
  onProgress?: ((p: ProgressInfo) => void) | undefined;
  signal?: AbortSignal | undefined;
  /**
   * Levels already computed (by `convert --multiscales`, from its bands): data variable path ->
   * where the chunks of levels 1, 2, ... are in the store, written with these same options.
   */
  computed?: Record<string, string[]> | undefined;
  /**
   * Levels the source has of its own (a COG's overviews, `convert --multiscales`): levels 1..n are
   * read from them as they are, further levels computed from the last.
   */
  sourced?: SourceLevel[] | undefined;
}

export interface PyramidSummary {
  store: string;
  zarrFormat: 2 | 3;
  levels: { asset: string; shape: [number, number]; transform: number[] }[];
  variables: { name: string; resampling: Resampling }[];
  /** Levels 1..n copied from the source's own (a COG's overviews), not resampled. */
  sourceLevels?: number | undefined;
  /** Arrays kept at full resolution only (not on the grid). */
  fullResolutionOnly: string[];
  storedBytes: number;
  seconds: number;
}

/** Cells below which the levels are computed on the calling thread (MUR's levels 4+: 3.4 M). */
const SMALL_WORK = 16_000_000;

export function validatePyramidOptions(opts: PyramidOptions): void {
  if (opts.tms !== undefined && opts.tms !== "WebMercatorQuad")
    throw new GeoZarrError("Usage", `--tms must be WebMercatorQuad (got "${opts.tms}")`);
  if (opts.tms && opts.resampling !== undefined && !["nearest", "bilinear"].includes(opts.resampling))
    throw new GeoZarrError(
      "Usage",
      `--resampling must be nearest or bilinear with --tms WebMercatorQuad (got "${opts.resampling}")`,
    );
  if (
    !opts.tms &&
    opts.resampling !== undefined &&
    !RESAMPLING_METHODS.includes(opts.resampling as Resampling)
  )
    throw new GeoZarrError(
      "Usage",
      `--resampling must be one of ${RESAMPLING_METHODS.join(", ")} (got "${opts.resampling}")`,
    );
  if (opts.tileSize !== undefined && !(TILE_SIZES as readonly number[]).includes(opts.tileSize))
    throw new GeoZarrError("Usage", `--tile-size must be ${TILE_SIZES.join(" or ")} (got ${opts.tileSize})`);
  if (opts.levels !== undefined && !(Number.isInteger(opts.levels) && opts.levels >= 1))
    throw new GeoZarrError("Usage", `--levels must be a positive integer (got ${opts.levels})`);
}

const SPATIAL_PER_LEVEL = ["spatial:shape", "spatial:transform", "spatial:bbox"];

function levelAttributes(attrs: JsonObject, level: PyramidLevel, v3: boolean): JsonObject {
  if (!v3) return attrs;
  const upgraded = upgradeDeclarations(attrs);
  return SPATIAL_PER_LEVEL.some((k) => k in attrs) ? { ...upgraded, ...spatialOf(level) } : upgraded;
}

export async function addLevels(dir: string, options: PyramidOptions = {}): Promise<PyramidSummary> {
  const t0 = performance.now();
  validatePyramidOptions(options);
  // In object storage, built in a local copy and uploaded in order (s3-build.ts); over HTTP, read-only.
  const loc = parseLocation(dir);
  if (loc.kind === "s3") return addLevelsInS3(loc, dir, options, addLevels);
  requireLocal(
    dir,
    "levels cannot be added to a store over HTTP (read-only); use its s3:// URL or a local copy",
  );
  if (options.tms) return addWebMercatorLevels(dir, options);
  const tile = options.tileSize ?? DEFAULT_TILE_SIZE;
  const method = (options.resampling ?? "average") as Resampling;
  const codec = codecChoiceOf(options.codec);
  const { h, ds } = await openDataset(dir);
  const v3 = h.zarrFormat === 3;
  if (!v3) {
    // GeoZarr v0.4: "Tiles MUST match the chunk layout on the 2 spatial dims", full resolution too.
    for (const n of ds.grid) {
      const c = readGridChunkShape(n.meta as ArrayMeta);
      if (c[ds.georef.yAxis] !== tile || c[ds.georef.xAxis] !== tile)
        throw new GeoZarrError(
          "Usage",
          `${dir}${n.path}: chunks [${c}] do not match the ${tile} x ${tile} tiles that GeoZarr v0.4 multiscales require at every level; rechunk first (geozarr convert SRC DST --chunks ${ds.georef.yDim}=${tile},${ds.georef.xDim}=${tile}) or pick --tile-size`,
        );
    }
  }
  if (ds.georef.affine[1] !== 0 || ds.georef.affine[3] !== 0)
    throw new GeoZarrError(
      "Unsupported",
      `${dir}: a rotated grid (spatial:transform ${JSON.stringify(ds.georef.affine)}): multiscale levels need rows and columns along Y and X`,
    );
  const given = (options.sourced ?? []).slice(0, options.levels);
  const levels = planPyramid(
    ds.rows,
    ds.cols,
    ds.georef.affine,
    tile,
    options.levels,
    given.map((g) => g.shape),
  );
  for (const [k, g] of given.entries()) levels[k + 1]!.resampling = g.resampling ?? null;
  const pending = await prepareOutput(dir, true);
  try {
    const store = new FileSystemStore(pending.tmp);
    const w = new HierarchyWriter(store, h.zarrFormat);
    const summary = await writePyramid(h, ds, levels, w, store, { ...options, tile, method, codec });
    await w.consolidate();
    await pending.commit();
    return {
      store: dir,
      zarrFormat: h.zarrFormat,
      levels: levels.map((l) => ({ asset: l.asset, shape: l.shape, transform: l.affine })),
      variables: ds.grid.map((n) => ({
        name: nameOf(n.path),
        resampling: methodFor(n.meta.attributes, method),
      })),
      ...(given.length ? { sourceLevels: Math.min(given.length, levels.length - 1) } : {}),
      fullResolutionOnly: ds.rest.map((n) => n.path),
      storedBytes: summary.storedBytes,
      seconds: (performance.now() - t0) / 1000,
    };
  } catch (err) {
    await pending.abort();
    throw err;
  }
}

interface Resolved extends PyramidOptions {
  tile: number;
  method: Resampling;
  codec: CodecChoice;
}

async function writePyramid(
  h: Hierarchy,
  ds: Dataset,
  levels: PyramidLevel[],
  w: HierarchyWriter,
  store: FileSystemStore,
  o: Resolved,
): Promise<ExecuteSummary> {
  const v3 = h.zarrFormat === 3;
  const rootAttrs = storedAttributes(h, getNode(h, "/"));
  await w.group("/", rootAttributes(rootAttrs, ds, levels, o, v3));

  // Level 0: the dataset as it is (documents copied, chunks linked).
  await w.group("/0", levelGroupAttributes(rootAttrs, levels[0]!, v3));
  const nodes = [...h.nodes.values()].filter((n) => n.path !== "/");
  // GeoZarr v0.4 puts `multiscales` on each multiscale DataArray too (v2 only).
  await copyNodes(h, nodes, w, store, "/0", (key, doc, node) =>
    !v3 && ds.grid.includes(node) && key.endsWith("/.zattrs")
      ? { ...doc, multiscales: v2Multiscales(ds, levels, o, node) }
      : doc,
  );

  // Levels 1..n, each from the one before, on one pool for all levels (starting workers per level
  // would cost more than the small levels themselves). When what is left is small (the conversion
  // computed the big levels), starting workers would cost more than it saves: unless --workers
  // says otherwise, it runs on the calling thread.
  const left = levels
    .slice(1)
    .filter((l) => ds.grid.some((n) => !o.computed?.[n.path]?.[Number(l.asset) - 1]))
    .reduce((sum, l) => sum + l.shape[0] * l.shape[1] * ds.grid.length, 0);
  const workers = o.workers ?? (left < SMALL_WORK ? 0 : defaultWorkerCount());
  const pool = new WorkerPool(workers);
  const detach = pool.stopOn(o.signal);
  try {
    return await writeLevels(h, ds, levels, w, store, o, pool, rootAttrs);
  } finally {
    detach();
    await pool.close();
  }
}

async function writeLevels(
  h: Hierarchy,
  ds: Dataset,
  levels: PyramidLevel[],
  w: HierarchyWriter,
  store: FileSystemStore,
  o: Resolved,
  pool: WorkerPool,
  rootAttrs: JsonObject,
): Promise<ExecuteSummary> {
  const v3 = h.zarrFormat === 3;
  const total = emptySummary(pool.size);
  const prevMeta = new Map(ds.grid.map((n) => [nameOf(n.path), n.meta as ArrayMeta]));
  const progress = progressAcross(levels, ds, o.tile, o.onProgress);
  const sourceRoot = (h.store as FileSystemStore).root;
  for (const level of levels.slice(1)) {
    const k = Number(level.asset);
    const group = `/${level.asset}`;
    const nodes: NodePlan[] = [
      { kind: "group", path: group, attributes: levelGroupAttributes(rootAttrs, level, v3) },
    ];
    for (const n of ds.grid) {
      const name = nameOf(n.path);
      const prev = prevMeta.get(name)!;
      const meta = n.meta as ArrayMeta;
      const y = ds.georef.yAxis;
      const x = ds.georef.xAxis;
      const shape = meta.shape.map((s, d) => (d === y ? level.shape[0] : d === x ? level.shape[1] : s));
      const inner = readGridChunkShape(meta);
      const prevChunks = readGridChunkShape(prev);
      const spec = {
        shape,
        chunkShape: inner.map((c, d) => (d === y || d === x ? o.tile : c)),
        dataType: meta.dataType,
        fillValue: meta.fillValue,
        dimensionNames: meta.dimensionNames as string[] | null,
        attributes: levelAttributes(meta.attributes, level, v3),
        codec: o.codec,
      };
      const sourced = o.sourced?.[k - 1]?.arrays[n.path];
      if (sourced) {
        // The source's own level (a COG overview): copied as it is, not resampled again.
        nodes.push({ kind: "array", path: `${group}/${name}`, spec, copy: sourced });
        continue;
      }
      const done = o.computed?.[n.path]?.[k - 1];
      if (done) {
        // Computed during the conversion: adopt its chunks.
        await w.array(`${group}/${name}`, spec);
        total.storedBytes += await linkChunks(
          join(sourceRoot, ...done.split("/").filter(Boolean)),
          join(store.root, level.asset, name),
        );
        continue;
      }
      nodes.push({
        kind: "array",
        path: `${group}/${name}`,
        spec,
        copy: {
          derived: {
            task: "downsample-band",
            source: {
              store: refFor(store, pool.size > 0),
              storeName: h.name,
              path: `/${k - 1}/${name}`,
              meta: prev,
              yAxis: y,
              xAxis: x,
              method: methodFor(meta.attributes, o.method),
            },
          },
          // Segments of this level map onto whole chunks of the previous one.
          sourceChunks: prevChunks.map((c, d) => (d === y || d === x ? Math.ceil(c / 2) : c)),
          sourceType: meta.dataType,
          sourceFill: meta.fillValue,
          transform: IDENTITY,
        },
      });
    }
    const summary = await writeLevelNodes(nodes, store, w, pool, o.signal, progress(k));
    total.storedBytes += summary.storedBytes;
    total.memory = {
      budget: summary.memory.budget,
      peakBuffered: Math.max(total.memory.peakBuffered, summary.memory.peakBuffered),
    };
    total.rawBytes += summary.rawBytes;
    total.arrays.push(...summary.arrays);
    for (const n of ds.grid) {
      const name = nameOf(n.path);
      const key = joinKey(group, name, v3 ? "zarr.json" : ".zarray");
      prevMeta.set(name, await readMeta(store, key, v3, h.name));
    }
    await writeLevelExtras(h, ds, level, w, store, o);
  }
  return total;
}

/** Coordinates, grid mappings and small variables of one overview level. */
async function writeLevelExtras(
  h: Hierarchy,
  ds: Dataset,
  level: PyramidLevel,
  w: HierarchyWriter,
  store: FileSystemStore,
  o: Resolved,
): Promise<void> {
  const group = `/${level.asset}`;
  const v3 = h.zarrFormat === 3;
  for (const [node, axis] of [
    [ds.yCoord, "y"],
    [ds.xCoord, "x"],
  ] as const) {
    if (!node) continue;
    const meta = node.meta as ArrayMeta;
    const values = centres(level, axis);
    const path = `${group}/${nameOf(node.path)}`;
    const spec = {
      shape: [values.length],
      chunkShape: [values.length],
      dataType: meta.dataType,
      fillValue: meta.fillValue,
      dimensionNames: meta.dimensionNames as string[] | null,
      attributes: meta.attributes,
      codec: o.codec,
    };
    await w.array(path, spec);
    const typed = meta.dataType === "float32" ? Float32Array.from(values) : values;
    const bytes = await encodeChunk(typed, spec.chunkShape, spec);
    if (bytes) await w.chunk(path, [0], bytes);
  }
  // Grid mappings get the level's GeoTransform; the small variables are copied as they are.
  await copyNodes(h, [...ds.gridMappings, ...ds.small], w, store, group, (key, doc, node) => {
    const attrs = storedAttributes(h, node);
    const isAttrs = key === joinKey(group, nameOf(node.path), v3 ? "zarr.json" : ".zattrs");
    return isAttrs && ds.gridMappings.includes(node) && "GeoTransform" in attrs
      ? withAttributes(h, doc, { ...attrs, GeoTransform: geoTransformOf(level) })
      : doc;
  });
}

function rootAttributes(
  attrs: JsonObject,
  ds: Dataset,
  levels: PyramidLevel[],
  o: Resolved,
  v3: boolean,
): JsonObject {
  if (!v3) return { ...attrs, multiscales: tileMatrixSetOf(levels, ds.georef, o.tile, o.method) };
  // The extent, shape and transform belong to each level; the root keeps the CRS and axis names.
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(attrs)) if (!SPATIAL_PER_LEVEL.includes(k)) out[k] = v;
  out.zarr_conventions = declare([MULTISCALES_CONVENTION, ...declarationsOf(attrs)]);
  out.multiscales = multiscalesAttribute(levels, o.method);
  return out;
}

/** A level group: the dataset's `proj:`/`spatial:` declarations, with this level's extent (v3). */
function levelGroupAttributes(rootAttrs: JsonObject, level: PyramidLevel, v3: boolean): JsonObject {
  if (!v3) return {};
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(rootAttrs))
    if (k === "zarr_conventions" || k.startsWith("proj:") || k.startsWith("spatial:")) out[k] = v;
  const declared = upgradeDeclarations(out);
  return "spatial:dimensions" in out ? { ...declared, ...spatialOf(level) } : declared;
}

function v2Multiscales(ds: Dataset, levels: PyramidLevel[], o: Resolved, node: NodeRecord): JsonObject {
  return tileMatrixSetOf(levels, ds.georef, o.tile, methodFor(node.meta.attributes, o.method));
}

/** One progress count across all levels: units are chunks of the overview levels. */
function progressAcross(
  levels: PyramidLevel[],
  ds: Dataset,
  tile: number,
  onProgress: ((p: ProgressInfo) => void) | undefined,
): (k: number) => ((p: ProgressInfo) => void) | undefined {
  if (!onProgress) return () => undefined;
  const { yAxis, xAxis } = ds.georef;
  const perLevel = levels.map((l) =>
    ds.grid.reduce((sum, n) => {
      const m = n.meta as ArrayMeta;
      const c = readGridChunkShape(m);
      const units = m.shape.map((s, d) =>
        d === yAxis
          ? Math.ceil(l.shape[0] / tile)
          : d === xAxis
            ? Math.ceil(l.shape[1] / tile)
            : Math.ceil(s / c[d]!),
      );
      return sum + units.reduce((a, b) => a * b, 1);
    }, 0),
  );
  const unitsTotal = perLevel.slice(1).reduce((a, b) => a + b, 0);
  let done = 0;
  let stored = 0;
  return (k) => {
    const base = { done, stored };
    done += perLevel[k]!;
    return (p) => {
      stored = base.stored + p.storedBytes;
      onProgress({
        unitsDone: base.done + Math.min(p.unitsDone, perLevel[k]!),
        unitsTotal,
        rawBytesDone: p.rawBytesDone,
        rawBytesTotal: p.rawBytesTotal,
        storedBytes: stored,
      });
    };
  };
}
