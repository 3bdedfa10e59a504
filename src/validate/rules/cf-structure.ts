/**
 * CF structure rules: coordinate variables, `coordinates` and `grid_mapping` references (CF 1.11
 * §4, §5, §5.6). Missing values, valid ranges, packing and flags are in cf-values.ts.
 * @module
 */

import { childPath, gridMappingTargets, groups, parentOf, rolesIn, visible, words } from "../roles.js";
import { attrPointer, type Finding, finding, metaPointer, type Rule } from "../rule.js";

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
