/**
 * The roles arrays play in CF / GeoZarr terms, worked out per group from the raw metadata:
 * coordinate variables (1-D, named like their dimension), grid-mapping variables (named by a
 * `grid_mapping`), auxiliary coordinates (named by `coordinates`), boundary variables (named by
 * `bounds` or `climatology`: part of their coordinate's metadata, CF 1.11 §7.1), and data
 * variables (the rest).
 * @module
 */

import { axisRole } from "../geo/grid.js";
import type { RawNode, ValidationContext } from "./context.js";

export interface Roles {
  coordinates: Set<string>;
  gridMappings: Set<string>;
  auxiliary: Set<string>;
  /** Boundary variables (CF §7.1): they need no standard_name, units or grid_mapping of their own. */
  bounds: Set<string>;
  data: Set<string>;
}

export const parentOf = (path: string) =>
  path.lastIndexOf("/") <= 0 ? "/" : path.slice(0, path.lastIndexOf("/"));
export const nameOf = (path: string) => (path === "/" ? "/" : path.slice(path.lastIndexOf("/") + 1));
export const childPath = (group: string, name: string) => (group === "/" ? `/${name}` : `${group}/${name}`);

/** Names in a `grid_mapping` attribute: "crs", or "crs: lat lon crs2: x y" (CF 1.11 §5.6). */
export function gridMappingTargets(v: unknown): string[] {
  if (typeof v !== "string") return [];
  const t = v.trim();
  if (!t.includes(":")) return t ? [t] : [];
  return [...t.matchAll(/(\S+):/g)].map((m) => m[1]!);
}

export const words = (v: unknown): string[] => (typeof v === "string" ? v.split(/\s+/).filter(Boolean) : []);

export function arraysIn(ctx: ValidationContext, group: string): RawNode[] {
  return [...ctx.nodes.values()].filter(
    (n) => n.kind === "array" && n.path !== "/" && parentOf(n.path) === group,
  );
}

export function groups(ctx: ValidationContext): RawNode[] {
  return [...ctx.nodes.values()].filter((n) => n.kind === "group");
}

const cache = new WeakMap<ValidationContext, Map<string, Roles>>();

export function rolesIn(ctx: ValidationContext, group: string): Roles {
  let byGroup = cache.get(ctx);
  if (!byGroup) {
    byGroup = new Map();
    cache.set(ctx, byGroup);
  }
  const hit = byGroup.get(group);
  if (hit) return hit;
  const arrays = arraysIn(ctx, group);
  const dimNames = new Set(arrays.flatMap((a) => a.dims ?? []));
  const roles: Roles = {
    coordinates: new Set(),
    gridMappings: new Set(),
    auxiliary: new Set(),
    bounds: new Set(),
    data: new Set(),
  };
  for (const a of arrays) {
    for (const t of gridMappingTargets(a.attributes.grid_mapping))
      roles.gridMappings.add(childPath(group, t));
    for (const t of words(a.attributes.coordinates)) roles.auxiliary.add(childPath(group, t));
    for (const k of ["bounds", "climatology"])
      for (const t of words(a.attributes[k])) roles.bounds.add(childPath(group, t));
  }
  for (const a of arrays) {
    const name = nameOf(a.path);
    const oneD = (a.shape?.length ?? a.dims?.length) === 1;
    if (oneD && dimNames.has(name)) roles.coordinates.add(a.path);
    else if (
      !roles.gridMappings.has(a.path) &&
      !roles.auxiliary.has(a.path) &&
      !roles.bounds.has(a.path) &&
      (a.shape?.length ?? 0) > 0
    )
      roles.data.add(a.path);
  }
  for (const c of roles.coordinates) roles.auxiliary.delete(c);
  byGroup.set(group, roles);
  return roles;
}

/** The Y/X dimension names of a group's grid, from its coordinate variables (CF §4.1, §4.2). */
export function spatialDims(ctx: ValidationContext, group: string): { y: string; x: string } | null {
  let y: string | undefined;
  let x: string | undefined;
  for (const c of rolesIn(ctx, group).coordinates) {
    const node = ctx.nodes.get(c)!;
    const role = axisRole(nameOf(c), node.attributes);
    if ((role === "lat" || role === "y") && !y) y = nameOf(c);
    if ((role === "lon" || role === "x") && !x) x = nameOf(c);
  }
  return y && x ? { y, x } : null;
}

export function isFloat(node: RawNode): boolean {
  return node.meta?.dataType === "float32" || node.meta?.dataType === "float64";
}

/** A variable visible from a group: its own, or an ancestor's (NetCDF-4 scoping). */
export function visible(ctx: ValidationContext, group: string, name: string): RawNode | undefined {
  for (let g = group; ; g = parentOf(g)) {
    const n = ctx.nodes.get(childPath(g, name));
    if (n?.kind === "array") return n;
    if (g === "/") return undefined;
  }
}
