/**
 * Which variables of a NetCDF group become arrays: data variables chosen by `--variables` and
 * `--require-standard-name`, plus the coordinate variables they need (CF 1.11 §5: the dimension
 * coordinates of their dimensions, and auxiliary coordinates named in `coordinates`).
 * @module
 */

import { lookupStandardName, standardNameTable } from "../../cf/standard-names.js";
import { GeoZarrError } from "../../errors.js";
import type { SourceGroup, SourceVariable } from "../../readers/model.js";

export interface Dropped {
  name: string;
  reason: string;
}

export interface Selection {
  data: SourceVariable[];
  coords: SourceVariable[];
  /**
   * Variables referenced as grid mappings (their CRS is re-encoded as `spatial_ref`), of any type:
   * GDAL, CDO and NCO write them as `char` scalars.
   */
  gridMappings: GridMappingVariable[];
  dropped: Dropped[];
}

export interface SelectOptions {
  /** Data variables to keep, by name (or path for nested groups); all when absent. */
  variables?: string[] | undefined;
  requireStandardName?: boolean | undefined;
}

export type GridMappingVariable = Pick<SourceVariable, "name" | "attributes">;

export const isCoordinate = (v: SourceVariable) => v.dims.length === 1 && v.dims[0] === v.name;

/** Names listed in a blank-separated attribute (`coordinates`, CF §5). */
export function nameList(v: unknown): string[] {
  return typeof v === "string" ? v.split(/\s+/).filter(Boolean) : [];
}

/** Variables named by `grid_mapping` ("crs" or "crs: x y crs2: lat lon", CF §5.6). */
export function gridMappingNames(v: unknown): string[] {
  if (typeof v !== "string") return [];
  const t = v.trim();
  if (!t.includes(":")) return t ? [t] : [];
  return [...t.matchAll(/(\S+):/g)].map((m) => m[1]!);
}

export function selectVariables(group: SourceGroup, opts: SelectOptions, allNames: string[]): Selection {
  const byName = new Map(group.variables.map((v) => [v.name, v]));
  const gridMappingSet = new Set(group.variables.flatMap((v) => gridMappingNames(v.attributes.grid_mapping)));
  const gridMappings: GridMappingVariable[] = [];
  for (const n of gridMappingSet) {
    const v = byName.get(n) ?? group.others.find((o) => o.name === n);
    if (v) gridMappings.push(v);
  }
  const candidates = group.variables.filter((v) => !isCoordinate(v) && !gridMappingSet.has(v.name));
  const dropped: Dropped[] = [];
  let data = candidates;

  if (opts.variables) {
    const wanted = new Set(opts.variables);
    for (const w of wanted) {
      if (!allNames.includes(w)) {
        throw new GeoZarrError(
          "Usage",
          `--variables: no variable named ${JSON.stringify(w)} (variables: ${allNames.join(", ")})`,
        );
      }
    }
    data = candidates.filter((v) => {
      const id = group.path === "/" ? v.name : `${group.path.slice(1)}/${v.name}`;
      if (wanted.has(id)) return true;
      dropped.push({ name: id, reason: "not in --variables" });
      return false;
    });
  }

  if (opts.requireStandardName) {
    const version = standardNameTable().version;
    data = data.filter((v) => {
      const sn = v.attributes.standard_name;
      if (typeof sn !== "string" || sn.trim() === "") {
        dropped.push({ name: v.name, reason: "no standard_name" });
        return false;
      }
      if (!lookupStandardName(sn).name) {
        dropped.push({
          name: v.name,
          reason: `standard_name ${JSON.stringify(sn)} is not in the CF standard name table v${version}`,
        });
        return false;
      }
      return true;
    });
  }

  // The coordinates the kept data need: dimension coordinates, and auxiliary ones they name.
  const needed = new Set<string>();
  for (const v of data) {
    for (const d of v.dims) if (byName.get(d) && isCoordinate(byName.get(d)!)) needed.add(d);
    for (const n of nameList(v.attributes.coordinates)) if (byName.has(n)) needed.add(n);
  }
  // Coordinates of kept coordinates (a 2-D auxiliary lat needs its dims' coordinates too).
  for (const n of [...needed])
    for (const d of byName.get(n)!.dims) if (byName.get(d) && isCoordinate(byName.get(d)!)) needed.add(d);
  const coords = group.variables.filter((v) => needed.has(v.name) && !data.includes(v));
  for (const v of group.variables) {
    if (isCoordinate(v) && !needed.has(v.name) && data.length > 0)
      dropped.push({ name: v.name, reason: "no kept variable uses its dimension" });
  }
  // Variables whose values are not read: dropped with their reason, unless they are grid mappings.
  for (const o of group.others) {
    if (gridMappingSet.has(o.name)) continue;
    const id = group.path === "/" ? o.name : `${group.path.slice(1)}/${o.name}`;
    dropped.push({ name: id, reason: o.reason });
  }
  return { data, coords, gridMappings, dropped };
}
