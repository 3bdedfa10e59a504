/**
 * A display overview of one 2-D plane of an array: a small GeoZarr v3 multiscale store of float32
 * physical values, north-up, in 512 x 512 chunks, that any GeoZarr map client reads (OpenLayers'
 * `ol/source/GeoZarr` draws it in the inspector).
 *
 * The finest level is the source reduced by a power of two until it is at most 8192 cells wide
 * and high (MUR's 17999 x 36000: factor 8, 2250 x 4500); each next level halves it until one
 * tile holds the whole grid. Level 0 is computed chunk by chunk on the worker pool, each source
 * chunk decoded once (partial averages merged, pyramid/overview-task.ts); the others from the
 * level before (NaN-aware averages, as GDAL's AVERAGE overviews).
 *
 * Layout (zarr-conventions multiscales, spatial and proj v0.1): the root group carries
 * `multiscales.layout` (geo/conventions.ts `multiscalesAttribute`, the layout every producer
 * writes), `spatial:bbox`, `proj:code` or `proj:wkt2`; level k is a group holding the array under
 * the variable's name, with `dimension_names` [y, x], and its own `spatial:shape`/`transform`.
 *
 * @module
 */

import { missingValues, packingOf } from "../cf/packing.js";
import { GeoZarrError } from "../errors.js";
import {
  MULTISCALES_CONVENTION,
  multiscalesAttribute,
  PROJ_CONVENTION,
  SPATIAL_CONVENTION,
} from "../geo/conventions.js";
import { type Georef, georeference } from "../geo/georef.js";
import { affineGrid } from "../geo/grid.js";
import { downsample, reducedSize } from "../kernels/resample.js";
import { poolFor, type WorkerPool } from "../parallel/pool.js";
import { TaskGroup } from "../parallel/task-group.js";
import { getNode, type Hierarchy } from "../zarr/hierarchy.js";
import type { JsonObject } from "../zarr/json.js";
import { gridSize } from "../zarr/limits.js";
import { type ArrayMeta, chunkGridShape } from "../zarr/metadata/model.js";
import { gridIndices } from "../zarr/ndarray.js";
import { readGridChunkShape } from "../zarr/read/read-task.js";
import { canUseWorkers, refFor } from "../zarr/store/ref.js";
import type { WritableStore } from "../zarr/store/types.js";
import { encodeChunk } from "../zarr/write/encode.js";
import { HierarchyWriter } from "../zarr/write/writer.js";
import { type OverviewChunkOutput, type PlaneSpec, planeBox } from "./overview-task.js";

/** Finest overview level: at most this many cells along each axis. */
export const OVERVIEW_MAX_SIDE = 8192;
export const OVERVIEW_TILE = 512;

/**
 * Level 0 decodes every chunk of the plane, so a plane beyond these limits is refused before any
 * work starts (issue 10): 2^34 cells is 26 times MUR's 17999 x 36000 plane (minutes of decoding on
 * a few cores), and each chunk is one worker task (2^20 tasks of message passing alone take a
 * minute). A build under the limits can still be slow; the inspector bounds it with a time limit.
 */
export const OVERVIEW_MAX_CELLS = 2 ** 34;
export const OVERVIEW_MAX_CHUNKS = 2 ** 20;

export interface OverviewLevel {
  asset: string;
  /** Reduction from the source grid. */
  factor: number;
  shape: [number, number];
  /** North-up, rasterio order. */
  affine: number[];
}

export interface OverviewSummary {
  path: string;
  variable: string;
  /** The plane drawn: index of each dimension (0 at the spatial ones). */
  index: number[];
  levels: OverviewLevel[];
  bbox: [number, number, number, number];
  crs: Georef["crs"];
  /** Physical value range of the finest level and a 2-98 % stretch for the colormap. */
  min: number | null;
  max: number | null;
  p2: number | null;
  p98: number | null;
}

/** Why an array cannot be drawn, or its georeferencing. */
export async function mappable(h: Hierarchy, path: string): Promise<{ georef: Georef } | { why: string }> {
  const node = getNode(h, path);
  if (node.meta.kind === "group") return { why: "a group" };
  if (node.meta.kind === "strings") return { why: "strings" };
  if (node.meta.shape.length < 2) return { why: "fewer than two dimensions" };
  if (
    ["bool", "complex64", "complex128"].includes(node.meta.dataType) ||
    node.meta.dataType.startsWith("string")
  )
    return { why: `data type ${node.meta.dataType}` };
  const georef = await georeference(h, path);
  if (!georef)
    return { why: "no regular grid (no spatial:transform, GeoTransform or regular 1-D coordinates)" };
  if (georef.yAxis > georef.xAxis)
    return { why: `dimension ${georef.xDim} (X) comes before ${georef.yDim} (Y)` };
  if (georef.affine[1] !== 0 || georef.affine[3] !== 0) return { why: "a rotated grid" };
  if (georef.affine[0]! < 0) return { why: "X decreasing with the column" };
  return { georef };
}

/**
 * Why the Y x X plane of an array is too large to reduce to a display overview, or null. Uses only
 * the declared shape and chunk grid (nothing is read or allocated).
 */
export function overviewTooLarge(meta: ArrayMeta, yAxis: number, xAxis: number): string | null {
  const rows = meta.shape[yAxis]!;
  const cols = meta.shape[xAxis]!;
  if (rows * cols > OVERVIEW_MAX_CELLS)
    return `too large for a display overview: ${rows} x ${cols} cells in a plane (the limit is ${OVERVIEW_MAX_CELLS} cells)`;
  const chunk = readGridChunkShape(meta);
  const { chunks } = gridSize([rows, cols], [chunk[yAxis]!, chunk[xAxis]!]);
  if (chunks > OVERVIEW_MAX_CHUNKS)
    return `too many chunks for a display overview: ${chunks} chunks in a plane (the limit is ${OVERVIEW_MAX_CHUNKS})`;
  return null;
}

export function baseFactor(rows: number, cols: number, maxSide = OVERVIEW_MAX_SIDE): number {
  let f = 1;
  while (Math.max(rows, cols) / f > maxSide) f *= 2;
  return f;
}

export function planLevels(
  rows: number,
  cols: number,
  northUp: number[],
  f0: number,
  tile = OVERVIEW_TILE,
): OverviewLevel[] {
  const levels: OverviewLevel[] = [];
  for (let k = 0, f = f0; ; k++, f *= 2) {
    const shape: [number, number] = [reducedSize(rows, f), reducedSize(cols, f)];
    const [a, , c, , e, top] = northUp as [number, number, number, number, number, number];
    levels.push({ asset: String(k), factor: f, shape, affine: [a * f, 0, c, 0, e * f, top] });
    if (shape[0] <= tile && shape[1] <= tile) return levels;
  }
}

/** Compute the overview of `path` at `index` and write it into `out` as a consolidated v3 store. */
export async function buildOverview(
  h: Hierarchy,
  path: string,
  index: number[],
  pool: WorkerPool,
  out: WritableStore,
  opts: { signal?: AbortSignal; maxSide?: number; tile?: number } = {},
): Promise<OverviewSummary> {
  const node = getNode(h, path);
  const m = await mappable(h, path);
  if ("why" in m)
    throw new GeoZarrError("Unsupported", `${h.name}${node.path}: cannot map ${m.why}`, { where: node.path });
  const meta = node.meta as ArrayMeta;
  const { georef } = m;
  const tooLarge = overviewTooLarge(meta, georef.yAxis, georef.xAxis);
  if (tooLarge)
    throw new GeoZarrError("Unsupported", `${h.name}${node.path}: ${tooLarge}`, { where: node.path });
  index.forEach((i, d) => {
    if (d !== georef.yAxis && d !== georef.xAxis && !(Number.isInteger(i) && i >= 0 && i < meta.shape[d]!))
      throw new GeoZarrError(
        "Usage",
        `${h.name}${node.path}: index ${i} is outside dimension ${d} (size ${meta.shape[d]})`,
      );
  });
  const rows = meta.shape[georef.yAxis]!;
  const cols = meta.shape[georef.xAxis]!;
  const [a, , c, , e, f] = georef.affine as [number, number, number, number, number, number];
  const flip = e > 0;
  const northUp = [a, 0, c, 0, -Math.abs(e), flip ? f + e * rows : f];
  const tile = opts.tile ?? OVERVIEW_TILE;
  const f0 = baseFactor(rows, cols, opts.maxSide);
  const levels = planLevels(rows, cols, northUp, f0, tile);
  const plane: PlaneSpec = {
    index,
    yAxis: georef.yAxis,
    xAxis: georef.xAxis,
    flip,
    factor: f0,
    missing: missingValues(meta).slice(0, 2),
  };

  const level0 = await averageLevel0(h, node.path, meta, plane, levels[0]!.shape, pool, opts.signal);
  const packing = packingOf(meta);
  if (packing)
    for (let i = 0; i < level0.length; i++) level0[i] = level0[i]! * packing.scale + packing.offset;

  const variable = node.path.slice(node.path.lastIndexOf("/") + 1);
  const w = new HierarchyWriter(out, 3);
  await w.group("/", rootAttributes(levels, georef));
  let data = level0;
  for (const [k, level] of levels.entries()) {
    if (k > 0) {
      const prev = levels[k - 1]!;
      const next = new Float32Array(level.shape[0] * level.shape[1]);
      downsample("average", { values: data, rows: prev.shape[0], cols: prev.shape[1] }, 2, next);
      data = next;
    }
    await writeLevel(w, `/${level.asset}`, variable, level, data, georef, meta, tile, opts.signal);
  }
  await w.consolidate();
  const s = summarize(level0);
  return { path: node.path, variable, index, levels, bbox: georef.bbox, crs: georef.crs, ...s };
}

async function averageLevel0(
  h: Hierarchy,
  path: string,
  meta: ArrayMeta,
  plane: PlaneSpec,
  shape: [number, number],
  pool: WorkerPool,
  signal: AbortSignal | undefined,
): Promise<Float32Array> {
  const [outRows, outCols] = shape;
  const sum = new Float64Array(outRows * outCols);
  const count = new Uint32Array(outRows * outCols);
  const runner = poolFor(pool, canUseWorkers(h.store));
  const store = refFor(h.store, runner.size > 0);
  const merge = ({ win, sum: s, count: n }: OverviewChunkOutput) => {
    for (let r = 0; r < win.cellRows; r++) {
      const dst = (win.cellRow0 + r) * outCols + win.cellCol0;
      for (let q = 0; q < win.cellCols; q++) {
        sum[dst + q]! += s[r * win.cellCols + q]!;
        count[dst + q]! += n[r * win.cellCols + q]!;
      }
    }
  };
  const jobs = new TaskGroup<void>();
  // Only the chunks of the plane: the other dimensions' chunk coordinates are fixed by the index
  // (a long time series must not cost a walk over every plane's chunks).
  const chunkShape = readGridChunkShape(meta);
  const spatial = (d: number) => d === plane.yAxis || d === plane.xAxis;
  const grid = chunkGridShape(meta.shape, chunkShape).map((n, d) => (spatial(d) ? n : 1));
  for (const rel of gridIndices(grid)) {
    if (jobs.failed || signal?.aborted) break;
    const coords = rel.map((c, d) => (spatial(d) ? c : Math.floor(plane.index[d]! / chunkShape[d]!)));
    if (!planeBox(meta, coords, plane)) continue;
    await runner.slot();
    jobs.add(
      runner
        .run("overview-chunk", { store, storeName: h.name, path, meta, chunk: coords, plane })
        .then(merge),
    );
  }
  try {
    await jobs.all();
  } catch (err) {
    // Tasks that fail because the build was stopped (its pool closed) report why it stopped.
    throwIfAborted(signal);
    throw err;
  }
  throwIfAborted(signal);
  const avg = new Float32Array(outRows * outCols);
  for (let i = 0; i < avg.length; i++) avg[i] = count[i]! > 0 ? sum[i]! / count[i]! : Number.NaN;
  return avg;
}

/** Stop with the signal's reason when it is a GeoZarrError (the caller's words: a time limit, a shutdown). */
function throwIfAborted(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  throw signal.reason instanceof GeoZarrError ? signal.reason : new GeoZarrError("IO", "overview cancelled");
}

function crsAttributes(g: Georef): JsonObject {
  return g.crs?.code ? { "proj:code": g.crs.code } : g.crs?.wkt ? { "proj:wkt2": g.crs.wkt } : {};
}

function rootAttributes(levels: OverviewLevel[], g: Georef): JsonObject {
  const crs = crsAttributes(g);
  return {
    zarr_conventions: [
      MULTISCALES_CONVENTION,
      SPATIAL_CONVENTION,
      ...(Object.keys(crs).length ? [PROJ_CONVENTION] : []),
    ],
    ...crs,
    "spatial:dimensions": [g.yDim, g.xDim],
    "spatial:bbox": g.bbox,
    "spatial:registration": "pixel",
    multiscales: multiscalesAttribute(levels, "average"),
  };
}

async function writeLevel(
  w: HierarchyWriter,
  group: string,
  variable: string,
  level: OverviewLevel,
  data: Float32Array,
  g: Georef,
  source: ArrayMeta,
  tileSize: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  throwIfAborted(signal);
  // Each level is a georeferenced dataset by itself (spatial: + proj: on its group).
  await w.group(group, {
    zarr_conventions: [
      SPATIAL_CONVENTION,
      ...(Object.keys(crsAttributes(g)).length ? [PROJ_CONVENTION] : []),
    ],
    ...crsAttributes(g),
    "spatial:dimensions": [g.yDim, g.xDim],
    "spatial:shape": level.shape,
    "spatial:transform": level.affine,
    // The level's own extent: its last row and column may reach past the data's (padded with NaN).
    "spatial:bbox": affineGrid(level.affine, level.shape).bbox,
  });
  const path = `${group}/${variable}`;
  const units = source.attributes.units;
  await w.array(path, {
    shape: level.shape,
    chunkShape: [tileSize, tileSize],
    dataType: "float32",
    fillValue: Number.NaN,
    dimensionNames: [g.yDim, g.xDim],
    attributes: typeof units === "string" ? { units } : {},
    codec: { name: "zstd", level: 1 },
  });
  const [rows, cols] = level.shape;
  const tile = new Float32Array(tileSize * tileSize);
  for (const [i, j] of gridIndices(chunkGridShape(level.shape, [tileSize, tileSize]))) {
    throwIfAborted(signal);
    tile.fill(Number.NaN);
    const r0 = i! * tileSize;
    const c0 = j! * tileSize;
    const h = Math.min(tileSize, rows - r0);
    const wd = Math.min(tileSize, cols - c0);
    for (let r = 0; r < h; r++)
      tile.set(data.subarray((r0 + r) * cols + c0, (r0 + r) * cols + c0 + wd), r * tileSize);
    const bytes = await encodeChunk(tile, [tileSize, tileSize], {
      dataType: "float32",
      fillValue: Number.NaN,
      codec: { name: "zstd", level: 1 },
    });
    if (bytes) await w.chunk(path, [i!, j!], bytes);
  }
}

/** Range and a 2-98 % percentile stretch of the valid values (from a regular sample of about 250k). */
export function summarize(values: ArrayLike<number>): Pick<OverviewSummary, "min" | "max" | "p2" | "p98"> {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  const step = Math.max(1, Math.floor(values.length / 250_000));
  const sample: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    if (i % step === 0) sample.push(v);
  }
  if (sample.length === 0) return { min: null, max: null, p2: null, p98: null };
  const sorted = Float64Array.from(sample).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { min, max, p2: at(0.02), p98: at(0.98) };
}
