/**
 * Which variables of a NetCDF group become arrays: data variables chosen by `--variables` and
 * `--require-standard-name`, plus the coordinate variables they need (CF 1.11 §5: the dimension
 * coordinates of their dimensions, and auxiliary coordinates named in `coordinates`).
 * @module
 */

import { lookupStandardName, standardNameTable } from "../../cf/standard-names.js";
import { GeoZarrError } from "../../errors.js";
import type { OtherVariable, SourceGroup, SourceVariable } from "../../readers/model.js";

export interface Dropped {
  name: string;
  reason: string;
}

export interface Selection {
  data: SourceVariable[];
  coords: SourceVariable[];
  /** Text variables kept, as data or as coordinates (string arrays in the output). */
  texts: TextVariable[];
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

/**
 * A text variable. `stacked`: an NC_CHAR array whose last dimension is the string length (CF
 * 1.11 §2.2). That is xarray's rule (conventions.py, `stackable`): the dimension has no variable
 * of its name in the group (netCDF-C's `char fl_dmn(fl_dmn)` is a coordinate of characters), and
 * every variable of the group that uses it is NC_CHAR with it last. Otherwise the array is one of
 * single characters (netCDF-C's `char c1(D1)` beside `byte b1(D1)`, `char charv(d0, .., d4)`
 * beside `byte bytev(d0, .., d5)`).
 */
export type TextVariable = OtherVariable & { text: NonNullable<OtherVariable["text"]>; stacked: boolean };

export const isCoordinate = (v: Pick<SourceVariable, "name" | "dims">) =>
  v.dims.length === 1 && v.dims[0] === v.name;

/** The dimensions of a text variable's strings: an NC_CHAR array's last one is the string length (CF §2.2). */
export const textDims = (v: TextVariable): string[] => (v.stacked ? v.dims.slice(0, -1) : v.dims);

const asStrings = (v: TextVariable) => ({ name: v.name, dims: textDims(v) });

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

/**
 * `inherited`: dimensions of this group that variables kept in its descendant groups use. Their
 * coordinate variables are kept too (a NetCDF-4 dimension is visible in the group that defines it
 * and its descendants; its coordinate variable lives where it is defined: CF 1.11 §2.7, §4, §5).
 * GDAL's y_x_other_dim_thanks_to_geolocation.nc has `baz(baz)` in the root and the data in a
 * sub-group.
 */
export function selectVariables(
  group: SourceGroup,
  opts: SelectOptions,
  allNames: string[],
  inherited: ReadonlySet<string> = new Set(),
): Selection {
  const byName = new Map(group.variables.map((v) => [v.name, v]));
  const gridMappingSet = new Set(group.variables.flatMap((v) => gridMappingNames(v.attributes.grid_mapping)));
  const gridMappings: GridMappingVariable[] = [];
  for (const n of gridMappingSet) {
    const v = byName.get(n) ?? group.others.find((o) => o.name === n);
    if (v) gridMappings.push(v);
  }
  const all = [...group.variables, ...group.others];
  const names = new Set(all.map((v) => v.name));
  // A dimension is a string length when nothing but NC_CHAR variables use it, as their last.
  const notLength = new Set(names);
  for (const v of all) {
    const char = "text" in v && v.text?.kind === "char";
    v.dims.forEach((d, i) => {
      if (!char || i !== v.dims.length - 1) notLength.add(d);
    });
  }
  const texts: TextVariable[] = group.others.flatMap((o) =>
    o.text === undefined || gridMappingSet.has(o.name)
      ? []
      : [
          {
            ...o,
            text: o.text,
            stacked:
              o.text.kind === "char" && o.dims.length > 0 && !notLength.has(o.dims[o.dims.length - 1]!),
          },
        ],
  );
  const textByName = new Map(texts.map((t) => [t.name, t]));
  type Candidate = SourceVariable | TextVariable;
  const candidates: Candidate[] = [
    ...group.variables.filter((v) => !isCoordinate(v) && !gridMappingSet.has(v.name)),
    ...texts.filter((t) => !isCoordinate(asStrings(t))),
  ];
  const dimsOf = (v: Candidate) => ("text" in v ? textDims(v) : v.dims);
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

  // The coordinates the kept data need: dimension coordinates, and auxiliary ones they name (text
  // ones too: station or band names).
  const any = (n: string): Candidate | undefined => byName.get(n) ?? textByName.get(n);
  const isDimCoord = (n: string) => {
    const v = any(n);
    return v !== undefined && isCoordinate({ name: v.name, dims: dimsOf(v) });
  };
  const needed = new Set<string>([...inherited].filter(isDimCoord));
  for (const v of data) {
    for (const d of dimsOf(v)) if (isDimCoord(d)) needed.add(d);
    for (const n of nameList(v.attributes.coordinates)) if (any(n)) needed.add(n);
  }
  // Coordinates of kept coordinates (a 2-D auxiliary lat needs its dims' coordinates too).
  for (const n of [...needed]) for (const d of dimsOf(any(n)!)) if (isDimCoord(d)) needed.add(d);
  const kept = (v: Candidate) => data.includes(v) || needed.has(v.name);
  const coords = group.variables.filter((v) => needed.has(v.name) && !data.includes(v));
  for (const v of [...group.variables, ...texts]) {
    // Said even when the group keeps no data: a coordinate is never left out silently.
    if (isCoordinate({ name: v.name, dims: dimsOf(v) }) && !needed.has(v.name))
      dropped.push({ name: v.name, reason: "no kept variable uses its dimension" });
  }
  // Variables whose values are not read: dropped with their reason, unless they are grid mappings.
  for (const o of group.others) {
    if (gridMappingSet.has(o.name) || o.text) continue;
    const id = group.path === "/" ? o.name : `${group.path.slice(1)}/${o.name}`;
    dropped.push({ name: id, reason: o.reason });
  }
  return {
    data: data.filter((v): v is SourceVariable => !("text" in v)),
    coords,
    texts: texts.filter(kept),
    gridMappings,
    dropped,
  };
}
