/**
 * Multiscale levels a store already has (issue 6), for the inspector's map: which arrays are the
 * same variable at coarser levels, and which level to draw from.
 *
 * Levels come from the `multiscales` attribute of a group, in either form: the zarr-conventions
 * `layout` (assets) or GeoZarr v0.4's inline tile matrix set (tile matrix ids). The finest level's
 * arrays are the map's layers; the arrays of coarser levels are not listed separately.
 *
 * @module
 */

import type { Hierarchy } from "../zarr/hierarchy.js";
import { isJsonObject, type JsonObject } from "../zarr/json.js";

export interface StoreLevel {
  /** The array at this level. */
  path: string;
  /** [rows, cols] along the layer's Y and X dimensions. */
  shape: [number, number];
}

export interface Multiscale {
  /** The group holding the levels. */
  group: string;
  /** The zarr-conventions layout form (OpenLayers reads it straight from the store). */
  layout: boolean;
  /** Level group paths, finest first. */
  levels: string[];
}

const child = (group: string, rel: string) => (group === "/" ? `/${rel}` : `${group}/${rel}`);
const parentOf = (path: string) => (path.lastIndexOf("/") <= 0 ? "/" : path.slice(0, path.lastIndexOf("/")));

function assetsOf(ms: unknown): { ids: string[]; layout: boolean } | null {
  if (!isJsonObject(ms)) return null;
  if (Array.isArray(ms.layout)) {
    const ids = ms.layout.filter(isJsonObject).map((l) => l.asset);
    return { ids: ids.filter((x): x is string => typeof x === "string"), layout: true };
  }
  const tms = ms.tile_matrix_set;
  // A well-known set (WebMercatorQuad): its tile matrix ids are the zooms.
  if (tms === "WebMercatorQuad")
    return { ids: Array.from({ length: 31 }, (_, z) => String(z)), layout: false };
  if (isJsonObject(tms) && Array.isArray(tms.tileMatrices)) {
    const ids = tms.tileMatrices.filter(isJsonObject).map((m: JsonObject) => m.id);
    return { ids: ids.filter((x): x is string => typeof x === "string"), layout: false };
  }
  return null;
}

/** Every multiscale group of the store, its levels ordered finest first (by their arrays' size). */
export function multiscalesOf(h: Hierarchy): Multiscale[] {
  const out: Multiscale[] = [];
  for (const node of h.nodes.values()) {
    if (node.meta.kind !== "group") continue;
    const a = assetsOf(node.meta.attributes.multiscales);
    if (!a) continue;
    const size = (level: string) =>
      Math.max(
        0,
        ...[...h.nodes.values()]
          .filter((n) => n.meta.kind === "array" && parentOf(n.path) === level)
          .map((n) => (n.meta.kind === "array" ? n.meta.shape.reduce((x, y) => x * y, 1) : 0)),
      );
    const levels = a.ids
      .map((id) => child(node.path, id))
      .filter((p) => h.nodes.get(p)?.meta.kind === "group");
    levels.sort((x, y) => size(y) - size(x));
    // OpenLayers reads the group's CRS for every level: levels in another CRS (WebMercatorQuad
    // levels of EPSG:4326 data) go through the server's overview instead.
    const code = (path: string) => h.nodes.get(path)?.meta.attributes["proj:code"];
    const sameCrs = levels.every((l) => code(l) === undefined || code(l) === code(node.path));
    if (levels.length > 0) out.push({ group: node.path, layout: a.layout && sameCrs, levels });
  }
  return out;
}

/** The multiscale an array belongs to, and at which level (0 = finest). */
export function levelOf(all: Multiscale[], path: string): { ms: Multiscale; level: number } | null {
  for (const ms of all) {
    const level = ms.levels.indexOf(parentOf(path));
    if (level >= 0) return { ms, level };
  }
  return null;
}

/** The same variable at every level of `ms`, finest first (levels that lack it are left out). */
export function levelsFor(
  h: Hierarchy,
  ms: Multiscale,
  path: string,
  yAxis: number,
  xAxis: number,
): StoreLevel[] {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const out: StoreLevel[] = [];
  for (const level of ms.levels) {
    const n = h.nodes.get(child(level, name));
    if (n?.meta.kind !== "array") continue;
    out.push({ path: n.path, shape: [n.meta.shape[yAxis]!, n.meta.shape[xAxis]!] });
  }
  return out;
}
