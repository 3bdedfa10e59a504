/**
 * CF value rules: missing values and valid ranges, packing, axes and flags (CF 1.11 §2.5, §3.5,
 * §8.1). Split from cf-structure.ts, which keeps the coordinate and grid-mapping rules.
 * @module
 */

import { integerRange, isDataType } from "../../zarr/dtype.js";
import type { JsonValue } from "../../zarr/json.js";
import { showJson } from "../../zarr/json.js";
import type { RawNode } from "../context.js";
import { arraysIn, groups, isFloat, rolesIn, visible, words } from "../roles.js";
import { attrPointer, type Finding, finding, metaPointer, type Rule } from "../rule.js";

const nums = (v: JsonValue | undefined): number[] | null =>
  typeof v === "number"
    ? [v]
    : Array.isArray(v) && v.every((x) => typeof x === "number")
      ? (v as number[])
      : null;

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
