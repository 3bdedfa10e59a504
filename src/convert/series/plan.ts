/**
 * Plan a time series: many granules into one store with a time dimension, as a plan of tasks.
 *
 * The first granule (in time) is planned as a single-file conversion (netcdf/plan.ts); then every
 * array with the concatenation dimension grows along it to the whole series, its values a stack of
 * the granules' (source.ts "stack"), and the coordinate of that dimension takes the series' times,
 * re-encoded exactly in one encoding (order.ts). Every granule must agree with the first on the
 * variables, their dimensions, shapes, types, storage chunks and packing attributes, the other
 * coordinates' values and the grid mappings: a disagreement is an error naming the file, the
 * variable and what differs, found before anything is written.
 *
 * GeoTIFF scenes (scenes.ts) are granules of one time step each: they must agree with the first
 * on grid, transform, CRS, band count, type and nodata, and their plan gets the time dimension
 * they lack before it grows, so that the rest is the same for both.
 *
 * Tasks: one per chunk along the time dimension (one granule when a chunk holds one step, N with
 * `chunks` time=N), each writing whole chunks of every time-dependent array. The rest (coordinates,
 * grid mappings, static variables and the time coordinate, as ONE chunk) is written by finalize.
 * @module
 */

import { basename } from "node:path";
import { GeoZarrError } from "../../errors.js";
import type { JsonValue } from "../../zarr/json.js";
import { jsonEqual } from "../../zarr/json.js";
import { chunkGridShape } from "../../zarr/metadata/model.js";
import type { NodePlan, TaskPlan } from "../execute.js";
import type { SourceRef, StackPart } from "../source.js";
import { encodeSeries, firstEncoding, missingSteps, orderByTime, type TimedInput } from "./order.js";
import { PACKING_ATTRIBUTES, type ScannedInput } from "./scan-task.js";
import { sceneDifference, withSceneTime } from "./scenes.js";

/** Steps the time coordinate's one chunk holds: appends rewrite it in place while they fit. */
export const TIME_CHUNK = 65536;

export interface SeriesSource {
  file: string;
  size: number;
  mtimeMs: number;
  /** Indices along the concatenation dimension this granule fills. */
  start: number;
  count: number;
}

export interface SeriesPlan {
  concatDim: string;
  nodes: NodePlan[];
  tasks: (TaskPlan & { sources: number[] })[];
  sources: SeriesSource[];
  /** Steps in all, the time range and the gaps of a regular series. */
  steps: number;
  first: string;
  last: string;
  missing: string[];
}

type ArrayNode = Extract<NodePlan, { kind: "array" }>;

/** Where a variable differs from the first granule's, or null. */
function difference(
  a: ScannedInput["variables"][string],
  b: ScannedInput["variables"][string],
  concatDim: string,
  concatPath: boolean,
): string | null {
  if (a.dims.join(",") !== b.dims.join(","))
    return `dimensions (${b.dims.join(", ")}), the first has (${a.dims.join(", ")})`;
  if (a.dataType !== b.dataType) return `type ${b.dataType}, the first has ${a.dataType}`;
  const shape = (v: typeof a) => v.shape.map((n, d) => (v.dims[d] === concatDim ? "*" : n)).join(" x ");
  if (shape(a) !== shape(b)) return `shape ${shape(b)}, the first has ${shape(a)}`;
  if (JSON.stringify(a.chunks) !== JSON.stringify(b.chunks))
    return `storage chunks ${JSON.stringify(b.chunks)}, the first has ${JSON.stringify(a.chunks)}`;
  for (const k of PACKING_ATTRIBUTES) {
    // The time coordinate's own units may differ: its values are re-encoded.
    if (concatPath && (k === "units" || k === "calendar")) continue;
    const x = a.packing[k] as JsonValue | undefined;
    const y = b.packing[k] as JsonValue | undefined;
    if (x === undefined && y === undefined) continue;
    if (x === undefined || y === undefined || !jsonEqual(x, y))
      return `${k} ${y === undefined ? "absent" : JSON.stringify(y)}, the first has ${x === undefined ? "none" : JSON.stringify(x)}`;
  }
  return null;
}

/** Refuse, before anything is written, a granule that differs from the first. */
export function checkAgreement(
  first: ScannedInput,
  others: readonly ScannedInput[],
  paths: string[],
  concatDim: string,
): void {
  for (const g of others) {
    if (Boolean(first.scene) !== Boolean(g.scene)) {
      const kind = (x: ScannedInput) => (x.scene ? "a GeoTIFF scene" : "a NetCDF granule");
      throw new GeoZarrError("Format", `${g.file}: is ${kind(g)}, ${basename(first.file)} ${kind(first)}`, {
        where: g.file,
      });
    }
    const why = first.scene && g.scene && sceneDifference(first.scene, g.scene);
    if (why)
      throw new GeoZarrError("Format", `${g.file}: has ${why} (${basename(first.file)})`, { where: g.file });
    for (const path of paths) {
      const a = first.variables[path];
      const b = g.variables[path];
      if (!a) continue;
      if (!b)
        throw new GeoZarrError(
          "Format",
          `${g.file}: has no variable ${path}, which ${basename(first.file)} has`,
          { where: g.file },
        );
      const why = difference(a, b, concatDim, path === first.concat.path);
      if (why)
        throw new GeoZarrError("Format", `${g.file}: ${path} has ${why} (${basename(first.file)})`, {
          where: g.file,
        });
    }
    for (const [path, d] of Object.entries(first.coordinates)) {
      if (g.coordinates[path] !== d)
        throw new GeoZarrError(
          "Format",
          `${g.file}: the coordinate ${path} has other values than in ${basename(first.file)} (another grid)`,
          {
            where: g.file,
          },
        );
    }
    for (const [path, d] of Object.entries(first.gridMappings)) {
      if (g.gridMappings[path] !== d)
        throw new GeoZarrError(
          "Format",
          `${g.file}: the grid mapping ${path} differs from ${basename(first.file)}'s (another CRS)`,
          {
            where: g.file,
          },
        );
    }
  }
}

export interface SeriesPlanInput {
  /** Every granule, scanned (scan-task.ts), in any order. */
  scanned: ScannedInput[];
  /** Plans one granule (the first in time) as a single-file conversion. */
  planOne: (file: string) => Promise<{ nodes: NodePlan[] }>;
  concatDim: string;
  zarrFormat: 2 | 3;
  /** Steps per shard along the concatenation dimension (sharded output). */
  stepsPerShard?: number | undefined;
  /** Steps per chunk along the concatenation dimension (default 1: one granule per chunk). */
  stepsPerChunk?: number | undefined;
}

/**
 * The part of a stack that granule `g` fills: the first granule's source `ref` pointed at `g` (a
 * NetCDF variable where `g`'s HDF5 keeps it; a scene's own image, which has no time axis).
 */
export function stackPart(ref: SourceRef, g: ScannedInput, at: { start: number; count: number }): StackPart {
  if (ref.kind === "geotiff") {
    if (!g.scene) throw new GeoZarrError("Format", `${g.file}: not a GeoTIFF scene`, { where: g.file });
    return { ...at, ref: { ...ref, file: g.file, image: g.scene.image }, squeeze: true };
  }
  if (ref.kind !== "netcdf") throw new Error(`stackPart: a ${ref.kind} source`);
  const v = g.variables[ref.path];
  return { ...at, ref: { ...ref, file: g.file, format: g.format as typeof ref.format, hdf5: v?.hdf5 } };
}

/** The granules' order and times, checked, without planning the arrays (for summaries). */
export function orderSeries(scanned: ScannedInput[], concatDim: string): TimedInput[] {
  if (scanned.length === 0) throw new GeoZarrError("Usage", "a series needs at least one input");
  return orderByTime(scanned, concatDim);
}

/**
 * One task per chunk (shard) along the concatenation dimension that steps `from` to `to` reach,
 * each writing that chunk of every array in `timeArrays`; its sources are the granules it reads.
 */
export function seriesTasks(
  nodes: NodePlan[],
  timeArrays: readonly string[],
  concatDim: string,
  sources: readonly SeriesSource[],
  from: number,
  to: number,
): SeriesPlan["tasks"] {
  const tasks: SeriesPlan["tasks"] = [];
  const timeNodes = nodes.filter((n): n is ArrayNode => n.kind === "array" && timeArrays.includes(n.path));
  if (timeNodes.length === 0) return tasks;
  const unitSteps = (n: ArrayNode) =>
    (n.spec.shardShape ?? n.spec.chunkShape)[n.spec.dimensionNames!.indexOf(concatDim)]!;
  const per = unitSteps(timeNodes[0]!);
  for (let k = Math.floor(from / per); k * per < to; k++) {
    const lo = Math.max(from, k * per);
    const hi = Math.min(to, (k + 1) * per);
    const regions: TaskPlan["regions"] = {};
    for (const n of timeNodes) {
      const axis = n.spec.dimensionNames!.indexOf(concatDim);
      const grid = chunkGridShape(n.spec.shape, n.spec.shardShape ?? n.spec.chunkShape);
      const u = unitSteps(n);
      regions[n.path] = {
        start: grid.map((_, d) => (d === axis ? Math.floor(lo / u) : 0)),
        shape: grid.map((g, d) => (d === axis ? Math.ceil(hi / u) - Math.floor(lo / u) : g)),
      };
    }
    const srcs = sources.flatMap((s, i) => (s.start < hi && s.start + s.count > lo ? [i] : []));
    tasks.push({
      label: srcs.length === 1 ? basename(sources[srcs[0]!]!.file) : `${concatDim} ${lo}-${hi - 1}`,
      regions,
      sources: srcs,
    });
  }
  return tasks;
}

export async function planSeries(p: SeriesPlanInput): Promise<SeriesPlan & { timed: TimedInput[] }> {
  const { concatDim } = p;
  const timed = orderSeries(p.scanned, concatDim);
  const first = timed[0]!.input;
  const one = await p.planOne(first.file);
  if (first.scene) one.nodes = withSceneTime(one.nodes, first, p.zarrFormat, p.stepsPerShard);
  const arrays = one.nodes.filter((n): n is ArrayNode => n.kind === "array");
  checkAgreement(
    first,
    timed.slice(1).map((t) => t.input),
    arrays.map((a) => a.path).filter((path) => first.variables[path]),
    concatDim,
  );
  // The series' axis: each granule's steps, in order.
  const sources: SeriesSource[] = [];
  let steps = 0;
  for (const t of timed) {
    sources.push({
      file: t.input.file,
      size: t.input.size,
      mtimeMs: t.input.mtimeMs,
      start: steps,
      count: t.instants.length,
    });
    steps += t.instants.length;
  }
  const byFile = new Map(timed.map((t) => [t.input.file, t.input]));
  const T = p.stepsPerChunk ?? 1;
  const nodes: NodePlan[] = [];
  const timeArrays: string[] = [];
  for (const n of one.nodes) {
    if (n.kind !== "array" || !n.spec.dimensionNames?.includes(concatDim)) {
      nodes.push(n);
      continue;
    }
    const axis = n.spec.dimensionNames.indexOf(concatDim);
    const shape = n.spec.shape.map((s, d) => (d === axis ? steps : s));
    if (n.path === first.concat.path) {
      // The time coordinate: the series' times, in the first granule's encoding, as ONE chunk.
      const values = encodeSeries(timed, firstEncoding(timed, concatDim), n.spec.dataType, concatDim);
      nodes.push({
        ...n,
        spec: { ...n.spec, shape, chunkShape: [Math.max(TIME_CHUNK, steps)], shardShape: undefined },
        copy: n.copy && {
          ...n.copy,
          source: { kind: "values", values, dataType: n.spec.dataType },
          sourceChunks: [Math.max(TIME_CHUNK, steps)],
          transform: n.copy.transform,
        },
      });
      continue;
    }
    const ref = n.copy?.source;
    if (ref?.kind !== "netcdf" && ref?.kind !== "geotiff") {
      throw new GeoZarrError(
        "Unsupported",
        `${n.path}: only NetCDF variables and GeoTIFF bands can be concatenated along ${concatDim}`,
      );
    }
    const parts = sources.map((s) => stackPart(ref, byFile.get(s.file)!, s));
    const chunkShape = n.spec.chunkShape.map((c, d) => (d === axis ? Math.min(T, steps) : c));
    const shardShape = n.spec.shardShape?.map((c, d) => (d === axis ? Math.max(c, chunkShape[d]!) : c));
    nodes.push({
      ...n,
      spec: { ...n.spec, shape, chunkShape, shardShape },
      copy: { ...n.copy!, source: { kind: "stack", axis, parts } },
    });
    timeArrays.push(n.path);
  }
  const tasks = seriesTasks(nodes, timeArrays, concatDim, sources, 0, steps);
  const allInstants = timed.flatMap((t) => t.instants);
  const gaps = missingSteps(allInstants);
  const label = (t: number) => new Date(t).toISOString().replace(/\.000Z$/, "Z");
  return {
    concatDim,
    nodes,
    tasks,
    sources,
    steps,
    first: label(allInstants[0]!),
    last: label(allInstants.at(-1)!),
    missing: gaps.missing,
    timed,
  };
}
