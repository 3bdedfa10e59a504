/**
 * GeoZarr v0.4 (the Zarr v2, CF-based draft; the same checks apply to v3 with dimension_names):
 * dimensions on every array, coordinate and auxiliary variables, standard_name and grid_mapping,
 * the GDAL GeoTransform, one grid per dataset (geozarr-spec.md@2f320b9, "Requirements").
 * @module
 */

import { lookupStandardName } from "../../cf/standard-names.js";
import { parseUnits } from "../../cf/units.js";
import type { RawNode, ValidationContext } from "../context.js";
import { arraysIn, gridMappingTargets, groups, nameOf, rolesIn, spatialDims } from "../roles.js";
import { attrPointer, type Finding, finding, type Rule } from "../rule.js";

const arrays = (ctx: ValidationContext) => [...ctx.nodes.values()].filter((n) => n.kind === "array");
const dimsPointer = (n: RawNode) => (n.format === 2 ? "/.zattrs/_ARRAY_DIMENSIONS" : "/dimension_names");

export const G401: Rule = {
  id: "G4-01",
  severity: "error",
  summary: "Every array names its dimensions (_ARRAY_DIMENSIONS in v2, dimension_names in v3), one per axis",
  reference: "GeoZarr v0.4, DataArray",
  check(ctx) {
    const out: Finding[] = [];
    for (const n of arrays(ctx)) {
      const ndim = n.shape?.length ?? 0;
      if (n.format === 2) {
        const d = n.attributes._ARRAY_DIMENSIONS;
        if (!Array.isArray(d) || !d.every((x) => typeof x === "string") || d.length !== ndim) {
          out.push(
            finding(
              this,
              n.path,
              dimsPointer(n),
              d === undefined
                ? "the array has no _ARRAY_DIMENSIONS"
                : "_ARRAY_DIMENSIONS is not one name per dimension",
              ndim === 0 ? 'set "_ARRAY_DIMENSIONS": []' : "name every dimension",
            ),
          );
        }
      } else if (ndim > 0 && !n.dims) {
        out.push(
          finding(
            this,
            n.path,
            dimsPointer(n),
            "dimension_names is missing or has null entries",
            "name every dimension",
          ),
        );
      }
    }
    return out;
  },
};

export const G402: Rule = {
  id: "G4-02",
  severity: "error",
  summary: "A coordinate variable is 1-D and its only dimension is named like the variable",
  reference: "GeoZarr v0.4, Coordinates",
  check(ctx) {
    const out: Finding[] = [];
    for (const g of groups(ctx)) {
      const used = new Set(
        arraysIn(ctx, g.path).flatMap((a) =>
          rolesIn(ctx, g.path).coordinates.has(a.path) ? [] : (a.dims ?? []),
        ),
      );
      for (const a of arraysIn(ctx, g.path)) {
        const name = nameOf(a.path);
        if (!used.has(name) || !a.dims) continue;
        if (a.dims.length !== 1 || a.dims[0] !== name) {
          out.push(
            finding(
              this,
              a.path,
              dimsPointer(a),
              `"${name}" names a dimension but its dimensions are [${a.dims.join(", ")}]`,
              `make it 1-D with dimension ["${name}"]`,
            ),
          );
        }
      }
    }
    return out;
  },
};

export const G403: Rule = {
  id: "G4-03",
  severity: "error",
  summary: "A grid-mapping variable is scalar, with an empty dimension list",
  reference: "GeoZarr v0.4, Auxiliary variables",
  check(ctx) {
    const out: Finding[] = [];
    for (const g of groups(ctx)) {
      for (const p of rolesIn(ctx, g.path).gridMappings) {
        const n = ctx.nodes.get(p);
        if (n?.kind !== "array") continue; // CF-07 reports a missing target
        const dims = n.format === 2 ? n.attributes._ARRAY_DIMENSIONS : [];
        if ((n.shape?.length ?? 0) !== 0 || !Array.isArray(dims) || dims.length !== 0) {
          out.push(
            finding(
              this,
              p,
              dimsPointer(n),
              "the grid-mapping variable is not a scalar with no dimensions",
              'store it with shape [] and "_ARRAY_DIMENSIONS": []',
            ),
          );
        }
      }
    }
    return out;
  },
};

export const G404: Rule = {
  id: "G4-04",
  severity: "error",
  summary:
    "Data and coordinate variables have a standard_name (grid-mapping and boundary variables are exempt, CF §7.1)",
  reference: "GeoZarr v0.4, Metadata (CF attributes)",
  check(ctx) {
    const out: Finding[] = [];
    for (const g of groups(ctx)) {
      const r = rolesIn(ctx, g.path);
      for (const p of [...r.data, ...r.coordinates]) {
        const n = ctx.nodes.get(p)!;
        const sn = n.attributes.standard_name;
        if (typeof sn !== "string" || sn.trim() === "")
          out.push(
            finding(
              this,
              p,
              attrPointer(n.format, "standard_name"),
              "the variable has no standard_name",
              "add the CF standard name (or drop the variable: geozarr convert --require-standard-name)",
            ),
          );
      }
    }
    return out;
  },
};

export const G405: Rule = {
  id: "G4-05",
  severity: "error",
  summary: "Data variables on the grid name their CRS variable in grid_mapping",
  reference: "GeoZarr v0.4, Metadata; CF 1.11 §5.6",
  check(ctx) {
    const out: Finding[] = [];
    for (const g of groups(ctx)) {
      const yx = spatialDims(ctx, g.path);
      if (!yx) continue;
      for (const p of rolesIn(ctx, g.path).data) {
        const n = ctx.nodes.get(p)!;
        if (!n.dims?.includes(yx.y) || !n.dims.includes(yx.x)) continue;
        if (typeof n.attributes.grid_mapping !== "string")
          out.push(
            finding(
              this,
              p,
              attrPointer(n.format, "grid_mapping"),
              `the variable is on the ${yx.y}/${yx.x} grid but has no grid_mapping`,
              'add "grid_mapping": "spatial_ref" naming a CRS variable',
            ),
          );
      }
    }
    return out;
  },
};

/** The six numbers of a GeoTransform attribute, or null when it is not six finite numbers. */
export function parseGeoTransform(v: unknown): number[] | null {
  if (typeof v !== "string") return null;
  const parts = v.trim().split(/\s+/);
  if (parts.length !== 6) return null;
  const nums = parts.map(Number);
  return nums.every(Number.isFinite) ? nums : null;
}

export const G406: Rule = {
  id: "G4-06",
  severity: "error",
  summary: "GeoTransform, when present, is six space-separated finite numbers (GDAL order)",
  reference: "GeoZarr v0.4, CRS (GDAL raster data model)",
  check(ctx) {
    return arrays(ctx)
      .filter((n) => n.attributes.GeoTransform !== undefined && !parseGeoTransform(n.attributes.GeoTransform))
      .map((n) =>
        finding(
          this,
          n.path,
          attrPointer(n.format, "GeoTransform"),
          `GeoTransform ${JSON.stringify(n.attributes.GeoTransform)} is not six numbers`,
          'write "x0 dx 0 y0 0 dy"',
        ),
      );
  },
};

export const G407: Rule = {
  id: "G4-07",
  severity: "warning",
  summary: "Data and coordinate variables with dimensional quantities have UDUNITS-2 units",
  reference: "GeoZarr v0.4, Other CF attributes; CF 1.11 §3.1",
  check(ctx) {
    const out: Finding[] = [];
    for (const g of groups(ctx)) {
      const r = rolesIn(ctx, g.path);
      for (const p of [...r.data, ...r.coordinates]) {
        const n = ctx.nodes.get(p)!;
        const u = n.attributes.units;
        const sn =
          typeof n.attributes.standard_name === "string"
            ? lookupStandardName(n.attributes.standard_name)
            : null;
        const dimensionless =
          sn?.canonicalUnits === "1" ||
          sn?.canonicalUnits === "" ||
          n.attributes.flag_values !== undefined ||
          n.attributes.flag_masks !== undefined;
        if (u === undefined) {
          if (!dimensionless)
            out.push(
              finding(
                this,
                p,
                attrPointer(n.format, "units"),
                "the variable has no units",
                "add UDUNITS-2 units",
              ),
            );
        } else if (typeof u !== "string" || !parseUnits(u)) {
          out.push(
            finding(
              this,
              p,
              attrPointer(n.format, "units"),
              `units ${JSON.stringify(u)} are not UDUNITS-2`,
              sn?.canonicalUnits ? `use "${sn.canonicalUnits}" or an equivalent` : "use UDUNITS-2 syntax",
            ),
          );
        }
      }
    }
    return out;
  },
};

export const G408: Rule = {
  id: "G4-08",
  severity: "error",
  summary: "The root group's gridded data variables share one grid (dimension sizes) and one grid mapping",
  reference: "GeoZarr v0.4, Dataset (one homogeneous set at the root)",
  check(ctx) {
    const yx = spatialDims(ctx, "/");
    if (!yx) return [];
    const gridded = [...rolesIn(ctx, "/").data]
      .map((p) => ctx.nodes.get(p)!)
      .filter((n) => n.dims?.includes(yx.y) && n.dims.includes(yx.x));
    if (gridded.length < 2) return [];
    const sig = (n: RawNode) => {
      const i = n.dims!.indexOf(yx.y);
      const j = n.dims!.indexOf(yx.x);
      return `${n.shape?.[i]}x${n.shape?.[j]}|${gridMappingTargets(n.attributes.grid_mapping).join(",")}`;
    };
    const first = sig(gridded[0]!);
    return gridded
      .filter((n) => sig(n) !== first)
      .map((n) =>
        finding(
          this,
          n.path,
          dimsPointer(n),
          `the variable is on a different grid or grid mapping (${sig(n)}) than ${gridded[0]!.path} (${first})`,
          "move heterogeneous variables to a child group",
        ),
      );
  },
};

export const G410: Rule = {
  id: "G4-10",
  severity: "warning",
  summary:
    "GeoTransform agrees with the 1-D coordinates (cell centres, within float32 precision, same y direction)",
  reference: "GeoZarr v0.4, CRS; geozarr-spec#17 (float32 coordinates)",
  async check(ctx) {
    const out: Finding[] = [];
    for (const g of groups(ctx)) {
      const yx = spatialDims(ctx, g.path);
      if (!yx) continue;
      const xs = await ctx.readSmall(g.path === "/" ? `/${yx.x}` : `${g.path}/${yx.x}`);
      const ys = await ctx.readSmall(g.path === "/" ? `/${yx.y}` : `${g.path}/${yx.y}`);
      if (!xs || !ys || xs.length < 2 || ys.length < 2) continue;
      for (const p of rolesIn(ctx, g.path).gridMappings) {
        const n = ctx.nodes.get(p);
        const gt = n ? parseGeoTransform(n.attributes.GeoTransform) : null;
        if (!n || !gt) continue;
        const tolOf = (v: Float64Array, step: number) =>
          Math.max(Math.abs(step) * 1e-3, Math.max(...v.map(Math.abs)) * 2 ** -23 * 4);
        const check = (v: Float64Array, origin: number, step: number, axis: string) => {
          const tol = tolOf(v, step);
          const worst = v.reduce((m, c, i) => Math.max(m, Math.abs(c - (origin + (i + 0.5) * step))), 0);
          if (Math.sign(step) !== Math.sign(v[v.length - 1]! - v[0]!)) {
            out.push(
              finding(
                this,
                p,
                attrPointer(n.format, "GeoTransform"),
                `the ${axis} step ${step} runs against the ${axis} coordinates (${v[0]} .. ${v[v.length - 1]})`,
                `use a ${step > 0 ? "negative" : "positive"} ${axis} step`,
              ),
            );
          } else if (worst > tol) {
            out.push(
              finding(
                this,
                p,
                attrPointer(n.format, "GeoTransform"),
                `GeoTransform places ${axis} cell centres up to ${worst.toPrecision(3)} from the coordinates`,
                "recompute the GeoTransform from the coordinates",
              ),
            );
          }
        };
        check(xs, gt[0]!, gt[1]!, "x");
        check(ys, gt[3]!, gt[5]!, "y");
      }
    }
    return out;
  },
};
