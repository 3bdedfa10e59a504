/**
 * What a conversion plans of multiscale levels itself: the reduced copies it writes from its own
 * units while they are in memory (`CopyJob.halve`, pipeline.ts), and the levels a source brings
 * of its own (a COG's overviews). The levels' metadata, and any further levels, are written by
 * the pyramid step after the conversion (pyramid/build.ts `addLevels`), which adopts these.
 * @module
 */

import type { Resampling } from "../kernels/resample.js";
import type { JsonObject } from "../zarr/json.js";
import { joinKey } from "../zarr/store/types.js";
import type { CopySource, NodePlan } from "./execute.js";
import type { HalveJob } from "./pipeline.js";

/**
 * A level the source already has (a COG's overview, GeoTIFF 1.1 reduced-resolution images): its
 * shape, how it was made when the source says so, and where each data variable's values come
 * from. It covers the same extent as full resolution, as overviews do (GDAL's model).
 */
export interface SourceLevel {
  shape: [number, number];
  /** The source's own name for its resampling ("average", "nearest", ...), when recorded. */
  resampling?: string | undefined;
  /** Data variable path -> how to read this level of it. */
  arrays: Record<string, CopySource>;
}

/** The reduced copies a conversion makes of its gridded variables. */
export interface HalvingOptions {
  /** Where the copies go (no metadata: the pyramid step adopts the chunks). */
  prefix: string;
  tileSize: number;
  /** At most this many levels (default: until one tile holds the grid). */
  maxLevels?: number | undefined;
  /** The resampling of a variable, from its attributes (flags take the mode). */
  method: (attributes: JsonObject) => Resampling;
}

/**
 * A gridded, unsharded data variable with Y and X last gets its reduced copies: halved until one
 * tile holds the grid, the levels pyramid/levels.ts `planPyramid` plans.
 */
export function withHalving(n: NodePlan, h: HalvingOptions): NodePlan {
  if (n.kind !== "array" || !n.copy || !n.grid || n.spec.shardShape) return n;
  const nd = n.spec.shape.length;
  if (n.grid.yAxis !== nd - 2 || n.grid.xAxis !== nd - 1) return n;
  const last2 = (d: number) => d >= nd - 2;
  const halve: HalveJob[] = [];
  let shape = n.spec.shape;
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
