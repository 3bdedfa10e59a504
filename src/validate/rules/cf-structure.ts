/**
 * CF structure rules: coordinate variables, `coordinates` and `grid_mapping` references, missing
 * values and valid ranges, packing, axes and flags (CF 1.11 §2.4-§2.5, §3.5, §4, §5, §8.1).
 * @module
 */

import { integerRange, isDataType } from "../../zarr/dtype.js";
import type { JsonValue } from "../../zarr/json.js";
import { showJson } from "../../zarr/json.js";
import type { RawNode, ValidationContext } from "../context.js";
import {
  arraysIn,
  childPath,
  gridMappingTargets,
  groups,
  isFloat,
  parentOf,
  rolesIn,
  words,
} from "../roles.js";
import { attrPointer, type Finding, finding, metaPointer, type Rule } from "../rule.js";

const nums = (v: JsonValue | undefined): number[] | null =>
  typeof v === "number"
    ? [v]
    : Array.isArray(v) && v.every((x) => typeof x === "number")
      ? (v as number[])
      : null;

/** A variable visible from a group: its own, or an ancestor's (NetCDF-4 scoping). */
function visible(ctx: ValidationContext, group: string, name: string): RawNode | undefined {
  for (let g = group; ; g = parentOf(g)) {
    const n = ctx.nodes.get(childPath(g, name));
    if (n?.kind === "array") return n;
    if (g === "/") return undefined;
  }
}

export const CF04: Rule = {
  id: "CF-04",
  severity: "error",
  summary: "Coordinate variables are numeric, strictly monotonic, without _FillValue/missing_value",
  reference: "CF 1.11 §1.3 (coordinate variable), §2.4, §5",
  async check(ctx) {
    const out: Finding[] = [];
    for (const g of groups(ctx)) {
      for (const p of rolesIn(ctx, g.path).coordinates) {
        const n = ctx.nodes.get(p)!;
        for (const k of ["_FillValue", "missing_value"]) {
          if (n.attributes[k] !== undefined)
            out.push(
              finding(
                this,
                p,
                attrPointer(n.format, k),
                `the coordinate variable has ${k}`,
                `remove ${k}: coordinates may not have missing values`,
              ),
            );
        }
        if (n.meta && n.meta.dataType === "bool")
          out.push(
            finding(
              this,
              p,
              metaPointer(n.format, n.format === 2 ? "dtype" : "data_type"),
              "the coordinate variable is not numeric",
              "store numbers",
            ),
          );
        const v = await ctx.readSmall(p);
        if (!v || v.length < 2) continue;
        const up = v[1]! > v[0]!;
        const bad = v.findIndex((x, i) => i > 0 && !(up ? x > v[i - 1]! : x < v[i - 1]!));
        if (bad > 0 || v.some(Number.isNaN))
          out.push(
            finding(
              this,
              p,
              "",
              `the coordinate values are not strictly monotonic (at index ${bad > 0 ? bad : v.findIndex(Number.isNaN)})`,
              "sort the coordinate (and the data) or remove duplicates",
            ),
          );
      }
    }
    return out;
  },
};

const COORD_DIM =
  /^(lat|latitude|lon|long|longitude|time|t|depth|level|lev|height|altitude|z|plev|pressure)$/i;

export const CF05: Rule = {
  id: "CF-05",
  severity: "error",
  summary:
    "Latitude, longitude, vertical and time dimensions of more than one element have coordinate variables",
  reference: "CF 1.11 §4, §5",
  check(ctx) {
    const out: Finding[] = [];
    for (const g of groups(ctx)) {
      for (const p of rolesIn(ctx, g.path).data) {
        const n = ctx.nodes.get(p)!;
        for (const [i, d] of (n.dims ?? []).entries()) {
          // Only dimensions of size greater than one need a coordinate variable (CF 1.11 §5).
          if (n.shape?.[i] === 1) continue;
          if (COORD_DIM.test(d) && !visible(ctx, g.path, d))
            out.push(
              finding(
                this,
                p,
                n.format === 2 ? "/.zattrs/_ARRAY_DIMENSIONS" : "/dimension_names",
                `dimension "${d}" has no coordinate variable`,
                `add the 1-D coordinate variable "${d}"`,
              ),
            );
        }
      }
    }
    return out;
  },
};

export const CF06: Rule = {
  id: "CF-06",
  severity: "error",
  summary:
    "coordinates names existing variables whose dimensions are among the variable's (ragged-array discrete sampling geometries excepted)",
  reference: "CF 1.11 §5, §9.3",
  check(ctx) {
    const out: Finding[] = [];
    // Ragged arrays of discrete sampling geometries (CF §9.3) tie data to coordinates of another
    // dimension through count or index variables: the subset rule does not apply (CF §5).
    const ragged =
      ctx.nodes.get("/")?.attributes.featureType !== undefined &&
      [...ctx.nodes.values()].some(
        (x) => x.attributes.sample_dimension !== undefined || x.attributes.instance_dimension !== undefined,
      );
    for (const n of ctx.nodes.values()) {
      if (n.kind !== "array" || n.attributes.coordinates === undefined) continue;
      for (const name of words(n.attributes.coordinates)) {
        const c = visible(ctx, parentOf(n.path), name);
        if (!c)
          out.push(
            finding(
              this,
              n.path,
              attrPointer(n.format, "coordinates"),
              `coordinates names "${name}", which is not in the store`,
              `remove "${name}" from coordinates (or the attribute)`,
            ),
          );
        else if (c.dims && n.dims && c.dims.some((d) => !n.dims!.includes(d)) && !ragged)
          out.push(
            finding(
              this,
              n.path,
              attrPointer(n.format, "coordinates"),
              `coordinates names "${name}", whose dimensions [${c.dims.join(", ")}] are not the variable's`,
              `remove "${name}" from coordinates`,
            ),
          );
      }
    }
    return out;
  },
};

const GRID_MAPPINGS = new Set([
  "albers_conical_equal_area",
  "azimuthal_equidistant",
  "geostationary",
  "lambert_azimuthal_equal_area",
  "lambert_conformal_conic",
  "lambert_cylindrical_equal_area",
  "latitude_longitude",
  "mercator",
  "oblique_mercator",
  "orthographic",
  "polar_stereographic",
  "rotated_latitude_longitude",
  "sinusoidal",
  "stereographic",
  "transverse_mercator",
  "vertical_perspective",
]);
const NAMES = [
  "reference_ellipsoid_name",
  "prime_meridian_name",
  "horizontal_datum_name",
  "geographic_crs_name",
];
const WKT =
  /^\s*(GEOGCS|PROJCS|GEOCCS|COMPD_CS|VERT_CS|GEOGCRS|GEODCRS|PROJCRS|BOUNDCRS|COMPOUNDCRS|VERTCRS|GEOGRAPHICCRS|PROJECTEDCRS|ENGCRS|ENGINEERINGCRS)\[/;

function balanced(s: string): boolean {
  let depth = 0;
  let quoted = false;
  for (const ch of s) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === "[") depth++;
    else if (!quoted && ch === "]" && --depth < 0) return false;
  }
  return depth === 0 && !quoted;
}

export const CF07: Rule = {
  id: "CF-07",
  severity: "error",
  summary:
    "grid_mapping names variables in the same group with a known grid_mapping_name, valid crs_wkt and all-or-none *_name attributes",
  reference: "CF 1.11 §5.6, Appendix F; conformance §5.6",
  check(ctx) {
    const out: Finding[] = [];
    const checked = new Set<string>();
    for (const n of ctx.nodes.values()) {
      const gm = n.attributes.grid_mapping;
      if (n.kind !== "array" || gm === undefined) continue;
      const ptr = attrPointer(n.format, "grid_mapping");
      const targets = gridMappingTargets(gm);
      if (typeof gm !== "string" || targets.length === 0) {
        out.push(
          finding(
            this,
            n.path,
            ptr,
            `grid_mapping ${JSON.stringify(gm)} is not "name" or "name: coords ..."`,
            "name the grid-mapping variable",
          ),
        );
        continue;
      }
      for (const t of targets) {
        const path = childPath(parentOf(n.path), t);
        const target = ctx.nodes.get(path);
        if (target?.kind !== "array") {
          out.push(
            finding(
              this,
              n.path,
              ptr,
              `grid_mapping names "${t}", which is not an array in the same group (GDAL looks there only)`,
              `add the "${t}" variable next to the data`,
            ),
          );
          continue;
        }
        if (checked.has(path)) continue;
        checked.add(path);
        const a = target.attributes;
        const tp = (k: string) => attrPointer(target.format, k);
        if (typeof a.grid_mapping_name !== "string" || !GRID_MAPPINGS.has(a.grid_mapping_name))
          out.push(
            finding(
              this,
              path,
              tp("grid_mapping_name"),
              `grid_mapping_name ${JSON.stringify(a.grid_mapping_name)} is not one of CF Appendix F`,
              'set e.g. "latitude_longitude"',
            ),
          );
        if (
          a.crs_wkt !== undefined &&
          !(typeof a.crs_wkt === "string" && WKT.test(a.crs_wkt) && balanced(a.crs_wkt))
        )
          out.push(
            finding(
              this,
              path,
              tp("crs_wkt"),
              "crs_wkt is not a well-formed WKT string",
              "write OGC WKT (WKT2 preferred)",
            ),
          );
        const present = NAMES.filter((k) => a[k] !== undefined);
        if (present.length > 0 && present.length < NAMES.length)
          out.push(
            finding(
              this,
              path,
              tp(NAMES.find((k) => a[k] === undefined)!),
              `only ${present.join(", ")} of the four *_name attributes are present`,
              `add ${NAMES.filter((k) => a[k] === undefined).join(", ")} or remove them all`,
            ),
          );
        if (a.projected_crs_name !== undefined && a.geographic_crs_name === undefined)
          out.push(
            finding(
              this,
              path,
              tp("geographic_crs_name"),
              "projected_crs_name is given without geographic_crs_name",
              "add geographic_crs_name",
            ),
          );
      }
    }
    return out;
  },
};

export const CF08: Rule = {
  id: "CF-08",
  severity: "warning",
  summary: "A grid-mapping variable has no dimensions (shape [])",
  reference: "CF 1.11 §5.6 (recommendation)",
  check(ctx) {
    const out: Finding[] = [];
    for (const g of groups(ctx)) {
      for (const p of rolesIn(ctx, g.path).gridMappings) {
        const n = ctx.nodes.get(p);
        if (n?.kind === "array" && (n.shape?.length ?? 0) > 0)
          out.push(
            finding(
              this,
              p,
              metaPointer(n.format, "shape"),
              `the grid-mapping variable has shape [${n.shape!.join(", ")}]`,
              "make it a scalar",
            ),
          );
      }
    }
    return out;
  },
};

/** xarray writes v3 float fill values as base64 of the IEEE bytes ("AAAAAAAA+H8=" is NaN). */
export function base64Float(s: string): number | null {
  if (!/^[A-Za-z0-9+/]{11}=$/.test(s) && !/^[A-Za-z0-9+/]{6}==$/.test(s)) return null;
  const b = Buffer.from(s, "base64");
  if (b.length === 8) return b.readDoubleLE(0);
  if (b.length === 4) return b.readFloatLE(0);
  return null;
}

function representable(v: JsonValue, n: RawNode): boolean {
  const dt = n.meta?.dataType;
  if (!dt || !isDataType(dt)) return true;
  const range = integerRange(dt);
  // 64-bit integers beyond 2^53 are bigints (json.ts keeps them exact).
  if (typeof v === "bigint" && range)
    return dt === "int64" ? v >= -(2n ** 63n) && v < 2n ** 63n : dt === "uint64" && v >= 0n && v < 2n ** 64n;
  if (range) return typeof v === "number" && Number.isInteger(v) && v >= range[0] && v <= range[1];
  // An integer literal beyond 2^53 (a bigint here) is a float value too.
  return (
    typeof v === "number" ||
    typeof v === "bigint" ||
    (typeof v === "string" && (base64Float(v) !== null || ["NaN", "Infinity", "-Infinity"].includes(v)))
  );
}

export const CF09: Rule = {
  id: "CF-09",
  severity: "error",
  summary: "_FillValue and missing_value are representable in the variable's data type",
  reference: "CF 1.11 §2.5.1; xarray FillValueCoder (base64 floats in Zarr v3)",
  check(ctx) {
    const out: Finding[] = [];
    for (const n of ctx.nodes.values()) {
      if (n.kind !== "array") continue;
      for (const k of ["_FillValue", "missing_value"]) {
        const v = n.attributes[k];
        if (v === undefined) continue;
        const values = Array.isArray(v) && k === "missing_value" ? v : [v];
        if (values.some((x) => !representable(x, n)))
          out.push(
            finding(
              this,
              n.path,
              attrPointer(n.format, k),
              `${k} ${showJson(v)} is not a ${n.meta?.dataType} value`,
              `use a value of the variable's type`,
            ),
          );
      }
    }
    return out;
  },
};

function validRange(n: RawNode): [number, number] | null {
  const vr = nums(n.attributes.valid_range);
  if (vr && vr.length === 2) return [vr[0]!, vr[1]!];
  const lo = nums(n.attributes.valid_min)?.[0];
  const hi = nums(n.attributes.valid_max)?.[0];
  return lo !== undefined || hi !== undefined
    ? [lo ?? Number.NEGATIVE_INFINITY, hi ?? Number.POSITIVE_INFINITY]
    : null;
}

export const CF10: Rule = {
  id: "CF-10",
  severity: "warning",
  summary: "missing_value equals _FillValue when both are given, and _FillValue lies outside the valid range",
  reference: "CF 1.11 §2.5.1",
  check(ctx) {
    const out: Finding[] = [];
    for (const n of ctx.nodes.values()) {
      if (n.kind !== "array") continue;
      const fill = nums(n.attributes._FillValue)?.[0];
      const missing = nums(n.attributes.missing_value);
      if (fill !== undefined && missing && !missing.includes(fill))
        out.push(
          finding(
            this,
            n.path,
            attrPointer(n.format, "missing_value"),
            `missing_value ${missing.join(", ")} differs from _FillValue ${fill}`,
            "make them equal",
          ),
        );
      const range = validRange(n);
      if (fill !== undefined && range && fill >= range[0] && fill <= range[1])
        out.push(
          finding(
            this,
            n.path,
            attrPointer(n.format, "_FillValue"),
            `_FillValue ${fill} lies inside the valid range [${range.join(", ")}]`,
            "choose a fill value outside the valid range",
          ),
        );
    }
    return out;
  },
};

export const CF11: Rule = {
  id: "CF-11",
  severity: "error",
  summary: "valid_range is not given together with valid_min or valid_max",
  reference: "CF 1.11 §2.5.1",
  check(ctx) {
    return [...ctx.nodes.values()]
      .filter(
        (n) =>
          n.kind === "array" &&
          n.attributes.valid_range !== undefined &&
          (n.attributes.valid_min !== undefined || n.attributes.valid_max !== undefined),
      )
      .map((n) =>
        finding(
          this,
          n.path,
          attrPointer(n.format, "valid_range"),
          "valid_range is given with valid_min/valid_max",
          "keep either valid_range or valid_min/valid_max",
        ),
      );
  },
};

export const CF12: Rule = {
  id: "CF-12",
  severity: "error",
  summary: "Packed data: scale_factor/add_offset are single numbers, and packed integers are at most 32-bit",
  reference: "CF 1.11 §8.1",
  check(ctx) {
    const out: Finding[] = [];
    for (const n of ctx.nodes.values()) {
      if (n.kind !== "array") continue;
      for (const k of ["scale_factor", "add_offset"]) {
        const v = n.attributes[k];
        if (v !== undefined && typeof v !== "number")
          out.push(
            finding(
              this,
              n.path,
              attrPointer(n.format, k),
              `${k} ${JSON.stringify(v)} is not a number`,
              `write ${k} as one number`,
            ),
          );
      }
      const packed = n.attributes.scale_factor !== undefined || n.attributes.add_offset !== undefined;
      if (packed && (n.meta?.dataType === "int64" || n.meta?.dataType === "uint64"))
        out.push(
          finding(
            this,
            n.path,
            metaPointer(n.format, n.format === 2 ? "dtype" : "data_type"),
            `packed data are ${n.meta.dataType}; CF packs into 8-, 16- or 32-bit integers`,
            "pack into int16 or int32",
          ),
        );
    }
    return out;
  },
};

const INT_LIMITS = new Set([-32768, -32767, 32767, 65535, -128, -127, 127, 255, -2147483647, 2147483647]);

export const CF13: Rule = {
  id: "CF-13",
  severity: "warning",
  summary:
    "valid_min/valid_max/valid_range are in the stored units (not packed-integer limits on unpacked floats)",
  reference: "CF 1.11 §2.5.1, §8.1",
  check(ctx) {
    const out: Finding[] = [];
    for (const n of ctx.nodes.values()) {
      if (
        n.kind !== "array" ||
        !isFloat(n) ||
        n.attributes.scale_factor !== undefined ||
        n.attributes.add_offset !== undefined
      )
        continue;
      const range = validRange(n);
      if (
        range &&
        [range[0], range[1]].every((x) => !Number.isFinite(x) || INT_LIMITS.has(x)) &&
        range.some((x) => INT_LIMITS.has(x) && x !== 127 && x !== 255 && x !== -127 && x !== -128)
      ) {
        const key = n.attributes.valid_range !== undefined ? "valid_range" : "valid_min";
        out.push(
          finding(
            this,
            n.path,
            attrPointer(n.format, key),
            `the valid range [${range.join(", ")}] looks like packed-integer limits on unpacked ${n.meta?.dataType} values`,
            "convert valid_min/valid_max with scale_factor and add_offset, or drop them",
          ),
        );
      }
    }
    return out;
  },
};

export const CF14: Rule = {
  id: "CF-14",
  severity: "error",
  summary: "axis is X, Y, Z or T, on coordinate variables only, one per axis for each variable",
  reference: "CF 1.11 §4",
  check(ctx) {
    const out: Finding[] = [];
    for (const g of groups(ctx)) {
      const r = rolesIn(ctx, g.path);
      for (const a of arraysIn(ctx, g.path)) {
        const ax = a.attributes.axis;
        if (ax === undefined) continue;
        const ptr = attrPointer(a.format, "axis");
        if (!["X", "Y", "Z", "T"].includes(String(ax)))
          out.push(
            finding(this, a.path, ptr, `axis ${JSON.stringify(ax)} is not X, Y, Z or T`, "use X, Y, Z or T"),
          );
        else if (!r.coordinates.has(a.path) && !r.auxiliary.has(a.path))
          out.push(
            finding(this, a.path, ptr, "axis is on a variable that is not a coordinate", "remove axis"),
          );
      }
      for (const p of r.data) {
        const n = ctx.nodes.get(p)!;
        const axes = (n.dims ?? [])
          .map((d) => visible(ctx, g.path, d)?.attributes.axis)
          .filter((x) => typeof x === "string");
        const dup = axes.find((x, i) => axes.indexOf(x) !== i);
        if (dup)
          out.push(
            finding(
              this,
              p,
              n.format === 2 ? "/.zattrs/_ARRAY_DIMENSIONS" : "/dimension_names",
              `two of the variable's coordinates have axis ${dup}`,
              "keep axis on one coordinate per axis",
            ),
          );
      }
    }
    return out;
  },
};

export const CF15: Rule = {
  id: "CF-15",
  severity: "error",
  summary:
    "flag_values / flag_masks match flag_meanings one to one; flag_masks are non-zero on integer variables",
  reference: "CF 1.11 §3.5",
  check(ctx) {
    const out: Finding[] = [];
    for (const n of ctx.nodes.values()) {
      if (n.kind !== "array") continue;
      const meanings = words(n.attributes.flag_meanings);
      for (const k of ["flag_values", "flag_masks"]) {
        const v = n.attributes[k];
        if (v === undefined) continue;
        const list = nums(v);
        const ptr = attrPointer(n.format, k);
        if (!list)
          out.push(finding(this, n.path, ptr, `${k} is not a list of numbers`, `write ${k} as numbers`));
        else if (list.length !== meanings.length)
          out.push(
            finding(
              this,
              n.path,
              ptr,
              `${k} has ${list.length} entries for ${meanings.length} flag_meanings`,
              "give one meaning per value",
            ),
          );
        else if (k === "flag_masks" && list.includes(0))
          out.push(finding(this, n.path, ptr, "flag_masks has a zero mask", "use non-zero bit masks"));
        if (k === "flag_masks" && isFloat(n))
          out.push(
            finding(this, n.path, ptr, "flag_masks on a floating-point variable", "store flags as integers"),
          );
      }
    }
    return out;
  },
};
