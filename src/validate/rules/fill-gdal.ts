/**
 * Fill values, the defect that started this project (a v3 fill_value of 0 on float data with
 * missing values, xarray#10646), packing, v2/v3 parity, and what GDAL needs to read the CRS.
 * @module
 */

import { attributeFill } from "../../cf/packing.js";
import { defaultFillValue, sameFillValue } from "../../zarr/fill-value.js";
import type { JsonValue } from "../../zarr/json.js";
import type { RawNode, ValidationContext } from "../context.js";
import { groups, isFloat, rolesIn, spatialDims } from "../roles.js";
import { attrPointer, type Finding, finding, metaPointer, type Rule } from "../rule.js";

function dataVariables(ctx: ValidationContext): RawNode[] {
  return groups(ctx).flatMap((g) => [...rolesIn(ctx, g.path).data].map((p) => ctx.nodes.get(p)!));
}

const packed = (n: RawNode) =>
  n.attributes.scale_factor !== undefined || n.attributes.add_offset !== undefined;
const fillPointer = (n: RawNode) => metaPointer(n.format, "fill_value");

/** A _FillValue attribute as a number (xarray writes v3 float fills as base64: cf/packing.ts). */
function attrFill(v: JsonValue | undefined): number | undefined {
  const x = attributeFill(v);
  return x === undefined ? undefined : Number(x);
}

const declared = (n: RawNode, fill: number) =>
  [attrFill(n.attributes._FillValue), attrFill(n.attributes.missing_value)].some(
    (v) => v !== undefined && sameFillValue(v, fill),
  );

/**
 * FV-01. Zarr v2: xarray carries `_FillValue` in `fill_value` and masks it (and GDAL takes it as
 * nodata), so any fill_value is a declared fill. Zarr v3: current xarray masks only the
 * `_FillValue` attribute (`use_zarr_fill_value_as_mask=False`), GDAL the fill_value: a non-NaN
 * fill_value without an equal `_FillValue`/`missing_value` is masked by some readers and not by
 * others, which is worth a warning, not an error (docs/design.md, "Fill values").
 */
export const FV01: Rule = {
  id: "FV-01",
  severity: "warning",
  summary:
    'Unpacked floating-point data variables in Zarr v3 use fill_value "NaN" or declare it with _FillValue (readers disagree otherwise)',
  reference:
    "xarray#10646, #10064 (v3 fill_value 0 on float data); xarray's Zarr backend (v3 fill values); CF 1.11 §2.5.1",
  check(ctx) {
    const out: Finding[] = [];
    for (const n of dataVariables(ctx)) {
      const fv = n.meta?.fillValue;
      if (n.format !== 3) continue; // v2: fill_value is xarray's _FillValue, masked by every reader
      if (!isFloat(n) || packed(n) || typeof fv !== "number" || Number.isNaN(fv) || declared(n, fv)) continue;
      out.push(
        finding(
          this,
          n.path,
          fillPointer(n),
          `fill_value is ${fv} on ${n.meta!.dataType} data without an equal _FillValue: GDAL masks ${fv}, xarray (v3) reads it as a value`,
          'set fill_value "NaN", or declare the fill with a _FillValue attribute',
        ),
      );
    }
    return out;
  },
};

export const FV02: Rule = {
  id: "FV-02",
  severity: "error",
  summary: "A _FillValue attribute equals the Zarr fill_value (NaN equal to NaN; base64 decoded)",
  reference: "xarray#5475; CF 1.11 §2.5.1",
  check(ctx) {
    const out: Finding[] = [];
    for (const n of ctx.nodes.values()) {
      if (n.kind !== "array" || n.attributes._FillValue === undefined || !n.meta) continue;
      const attr = attrFill(n.attributes._FillValue);
      const fv = n.meta.fillValue;
      const fvNum = typeof fv === "bigint" ? Number(fv) : typeof fv === "boolean" ? Number(fv) : fv;
      if (attr === undefined || fvNum === null || !sameFillValue(attr, fvNum)) {
        out.push(
          finding(
            this,
            n.path,
            attrPointer(n.format, "_FillValue"),
            `_FillValue ${JSON.stringify(n.attributes._FillValue)} differs from fill_value ${String(fv)}`,
            "make them equal (or drop _FillValue and keep fill_value)",
          ),
        );
      }
    }
    return out;
  },
};

export const FV03: Rule = {
  id: "FV-03",
  severity: "warning",
  summary: "Floating-point data variables do not use 0 as their fill value",
  reference: "xarray#10646 (0 is a valid value: e.g. a sea-ice fraction of 0 would read as missing)",
  check(ctx) {
    return dataVariables(ctx)
      .filter((n) => isFloat(n) && n.meta?.fillValue === 0 && declared(n, 0))
      .map((n) =>
        finding(
          this,
          n.path,
          fillPointer(n),
          "0 is declared as the fill value of floating-point data, where 0 is a valid value",
          'use "NaN"',
        ),
      );
  },
};

/** The compressor of an array as "name:level", to compare v2 and v3 spellings. */
function compression(n: RawNode): string {
  const codecs = n.meta?.codecs ?? [];
  const shard = codecs.find((c) => c.name === "sharding_indexed");
  const list = shard ? ((shard.configuration?.codecs as unknown as typeof codecs) ?? []) : codecs;
  const c = list.find((x) => !["bytes", "transpose"].includes(x.name));
  if (!c) return "none";
  const cfg = c.configuration ?? {};
  return `${c.name.replace(/^numcodecs\./, "")}:${cfg.level ?? cfg.clevel ?? ""}`;
}

export const FV04: Rule = {
  id: "FV-04",
  severity: "error",
  summary:
    "The v2 and v3 outputs agree per array: data type, fill value, chunks and compression (with --parity)",
  reference: "product rule: one conversion, two formats",
  check(ctx) {
    const other = ctx.parity;
    if (!other) return [];
    const out: Finding[] = [];
    for (const n of ctx.nodes.values()) {
      const m = other.nodes.get(n.path);
      if (n.kind !== "array" || !n.meta) continue;
      if (!m?.meta) {
        out.push(
          finding(
            this,
            n.path,
            "",
            `${other.storeName} has no array ${n.path}`,
            "convert both formats from the same source with the same options",
          ),
        );
        continue;
      }
      const a = n.meta;
      const b = m.meta;
      const inner = (x: typeof a) =>
        (x.codecs.find((c) => c.name === "sharding_indexed")?.configuration?.chunk_shape as
          | number[]
          | undefined) ?? x.chunkShape;
      const diffs: string[] = [];
      if (a.dataType !== b.dataType) diffs.push(`data type ${a.dataType} vs ${b.dataType}`);
      // v2 may say null ("no fill value") where v3 must record one (the type's default, or
      // netCDF-C's for integers): neither is a declared missing value, so they mean the same.
      const fill = (x: typeof a) => x.fillValue ?? defaultFillValue(x.dataType);
      if (a.fillValue !== null && b.fillValue !== null && !sameFillValue(fill(a), fill(b)))
        diffs.push(`fill_value ${String(a.fillValue)} vs ${String(b.fillValue)}`);
      if (inner(a).join(",") !== inner(b).join(",")) diffs.push(`chunks [${inner(a)}] vs [${inner(b)}]`);
      if (compression(n) !== compression(m)) diffs.push(`compression ${compression(n)} vs ${compression(m)}`);
      if (diffs.length)
        out.push(
          finding(
            this,
            n.path,
            "",
            `differs from ${other.storeName}: ${diffs.join("; ")}`,
            "write both formats with the same encoding",
          ),
        );
    }
    return out;
  },
};

/**
 * A warning, not an error: CF allows packed data without a fill value (it then has no missing
 * values; xarray writes such variables with fill_value null), so nothing is wrong, but a missing
 * value can never be marked in it.
 */
export const FV05: Rule = {
  id: "FV-05",
  severity: "warning",
  summary:
    "Packed integer variables (scale_factor/add_offset) have an integer fill_value, so that missing values can be marked",
  reference: "CF 1.11 §8.1, §2.5.1",
  check(ctx) {
    const out: Finding[] = [];
    for (const n of dataVariables(ctx)) {
      if (!packed(n) || !n.meta) continue;
      if (isFloat(n)) continue; // floats with scale_factor are not packed by CF's definition
      const fv = n.meta.fillValue;
      if (fv === null || (typeof fv === "number" && !Number.isInteger(fv))) {
        out.push(
          finding(
            this,
            n.path,
            fillPointer(n),
            `packed ${n.meta.dataType} data without an integer fill_value (${String(fv)}): missing values cannot be marked`,
            "set fill_value to the packed fill (e.g. -32768)",
          ),
        );
      }
    }
    return out;
  },
};

export const GI01: Rule = {
  id: "GI-01",
  severity: "info",
  summary:
    "GDAL can read the grid: 1-D coordinates for the geotransform, crs_wkt or spatial_ref on the grid mapping",
  reference: "GDAL Zarr driver (3.9+: CF grid_mapping; geotransform from 1-D indexing variables)",
  check(ctx) {
    const out: Finding[] = [];
    for (const g of groups(ctx)) {
      const r = rolesIn(ctx, g.path);
      if (r.data.size === 0) continue;
      if (!spatialDims(ctx, g.path)) {
        out.push(
          finding(
            this,
            g.path,
            "",
            "no 1-D X/Y (or lat/lon) coordinate variables: GDAL cannot derive a geotransform",
            "keep the 1-D coordinate variables",
          ),
        );
      }
      for (const p of r.gridMappings) {
        const n = ctx.nodes.get(p);
        if (n && n.attributes.crs_wkt === undefined && n.attributes.spatial_ref === undefined) {
          out.push(
            finding(
              this,
              p,
              attrPointer(n.format, "crs_wkt"),
              "no crs_wkt or spatial_ref: GDAL has to rebuild the CRS from CF parameters",
              "add crs_wkt",
            ),
          );
        }
      }
    }
    return out;
  },
};
