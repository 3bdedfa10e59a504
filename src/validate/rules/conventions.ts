/**
 * The Zarr conventions GeoZarr composes: `zarr_conventions` declarations (zarr-conventions-spec),
 * proj and spatial. Conventions are identified by UUID (else schema_url, else spec_url), since
 * names and URLs changed between revisions (geozarr-spec#121): geo/conventions.ts knows them all.
 * The official schemas' own checks are in convention-schemas.ts.
 * @module
 */

import {
  type ConventionName,
  declarationsOf,
  describeForm,
  identify,
  MULTISCALES_UUID,
  PROJ_UUID,
  SPATIAL_UUID,
} from "../../geo/conventions.js";
import { epsgOfWkt, knownCodes } from "../../geo/crs.js";
import { isJsonObject, type JsonObject, type JsonValue } from "../../zarr/json.js";
import type { RawNode } from "../context.js";
import { gridMappingTargets, parentOf } from "../roles.js";
import { attrPointer, type Finding, finding, type Rule } from "../rule.js";
import { conventionSchema, schemaErrors } from "../schemas.js";
import { isV04Multiscales } from "./multiscales.js";

const CMO_KEYS = new Set(["uuid", "schema_url", "spec_url", "name", "description"]);

/** Whether the node declares the convention (by uuid, schema_url or spec_url). */
export const declares = (n: RawNode | undefined, name: ConventionName) =>
  !!n && declarationsOf(n.attributes).some((c) => identify(c)?.convention.name === name);
const usesPrefix = (a: JsonObject, prefix: string) => Object.keys(a).some((k) => k.startsWith(prefix));

/** Whether the node's attributes use the convention (its prefixed keys, or a layout `multiscales`). */
export function usesConvention(a: JsonObject, name: ConventionName): boolean {
  if (name === "multiscales") return a.multiscales !== undefined && !isV04Multiscales(a.multiscales);
  return usesPrefix(a, `${name}:`);
}

export const GC01: Rule = {
  id: "GC-01",
  severity: "error",
  summary:
    "zarr_conventions is a list of objects, each with uuid, schema_url or spec_url, and no other keys than those, name and description",
  reference: "zarr-conventions-spec, Convention Metadata Object",
  check(ctx) {
    const out: Finding[] = [];
    for (const n of ctx.nodes.values()) {
      const zc = n.attributes.zarr_conventions;
      if (zc === undefined) continue;
      const ptr = attrPointer(n.format, "zarr_conventions");
      if (!Array.isArray(zc)) {
        out.push(
          finding(
            this,
            n.path,
            ptr,
            "zarr_conventions is not a list",
            "make it a list of convention objects",
          ),
        );
        continue;
      }
      zc.forEach((c, i) => {
        if (!isJsonObject(c)) {
          out.push(
            finding(
              this,
              n.path,
              `${ptr}/${i}`,
              "a convention entry is not an object",
              "use {uuid, schema_url, spec_url, name, description}",
            ),
          );
          return;
        }
        if (!["uuid", "schema_url", "spec_url"].some((k) => typeof c[k] === "string"))
          out.push(
            finding(
              this,
              n.path,
              `${ptr}/${i}`,
              "the convention entry has no uuid, schema_url or spec_url",
              "add its uuid",
            ),
          );
        for (const k of Object.keys(c))
          if (!CMO_KEYS.has(k))
            out.push(
              finding(
                this,
                n.path,
                `${ptr}/${i}/${k}`,
                `the convention entry has a key the spec does not allow: "${k}"`,
                "remove it",
              ),
            );
      });
    }
    return out;
  },
};

export const GC02: Rule = {
  id: "GC-02",
  severity: "error",
  summary:
    "A node using proj:, spatial: or multiscales declares the convention (itself, or its parent group for arrays), identified by UUID, else schema_url or spec_url",
  reference: "zarr-conventions-spec; geo-proj inheritance (group to direct child arrays)",
  check(ctx) {
    const out: Finding[] = [];
    for (const n of ctx.nodes.values()) {
      const parent = n.kind === "array" ? ctx.nodes.get(parentOf(n.path)) : undefined;
      for (const [name, uuid] of [
        ["proj", PROJ_UUID],
        ["spatial", SPATIAL_UUID],
        ["multiscales", MULTISCALES_UUID],
      ] as const) {
        if (usesConvention(n.attributes, name) && !declares(n, name) && !declares(parent, name)) {
          out.push(
            finding(
              this,
              n.path,
              attrPointer(n.format, "zarr_conventions"),
              `the node uses ${name} attributes without declaring the convention (uuid ${uuid})`,
              `add the ${name} convention object to zarr_conventions`,
            ),
          );
        }
      }
    }
    return out;
  },
};

export const GC03: Rule = {
  id: "GC-03",
  severity: "warning",
  summary:
    "Each proj, spatial and multiscales declaration is the convention's v0.1 object (the official schema's $defs/conventionMetadata); older forms are read, and reported with the v0.1 object as the fix",
  reference:
    "zarr-conventions proj, spatial, multiscales v0.1 schemas ($defs/conventionMetadata); geozarr-spec#121",
  check(ctx) {
    const out: Finding[] = [];
    for (const n of ctx.nodes.values()) {
      declarationsOf(n.attributes).forEach((c, i) => {
        const d = identify(c);
        if (!d || !isJsonObject(c)) return;
        // The schema's draft-07 `contains` never checks declarations: check each one here.
        // Extra keys are GC-01's (an error of the conventions spec).
        const errors = schemaErrors(conventionSchema(d.convention.name).declaration, c).filter(
          (e) => e.keyword !== "additionalProperties",
        );
        if (errors.length === 0) return;
        const consts = errors.filter((e) => e.keyword === "const").map((e) => e.pointer.slice(1));
        const others = errors
          .filter((e) => e.keyword !== "const")
          .map((e) => `${e.pointer.slice(1)} ${e.message}`);
        const what = [
          ...(consts.length ? [`${consts.join(", ")} must be equal to the v0.1 constants`] : []),
          ...others,
        ].join("; ");
        out.push(
          finding(
            this,
            n.path,
            `${attrPointer(n.format, "zarr_conventions")}/${i}`,
            `${d.convention.name} is declared in ${describeForm(c, d)}, not v0.1: ${what}`,
            `replace the declaration with ${JSON.stringify(d.convention.current)}`,
          ),
        );
      });
    }
    return out;
  },
};

export const GC05: Rule = {
  id: "GC-05",
  severity: "warning",
  summary: "proj:code names a known CRS (EPSG codes checked against geozarr's table)",
  reference: "geozarr-toolkit validate_code_resolves; data/crs/epsg.json",
  check(ctx) {
    const known = new Set(knownCodes());
    const out: Finding[] = [];
    for (const n of ctx.nodes.values()) {
      const code = n.attributes["proj:code"];
      if (typeof code !== "string" || !code.startsWith("EPSG:") || known.has(code)) continue;
      // Not a defect in itself: our table has 159 codes. Say we could not check it.
      out.push(
        finding(
          this,
          n.path,
          attrPointer(n.format, "proj:code"),
          `${code} is not in geozarr's CRS table, so it was not checked`,
          "check the code, or give proj:wkt2 too",
          "info",
        ),
      );
    }
    return out;
  },
};

export const GC06: Rule = {
  id: "GC-06",
  severity: "error",
  summary:
    "Arrays with spatial: attributes have spatial:dimensions, two names that are among their dimension names",
  reference: "spatial convention, spatial:dimensions",
  check(ctx) {
    const out: Finding[] = [];
    for (const n of ctx.nodes.values()) {
      if (n.kind !== "array" || !usesPrefix(n.attributes, "spatial:")) continue;
      const sd = n.attributes["spatial:dimensions"];
      const ptr = attrPointer(n.format, "spatial:dimensions");
      if (!Array.isArray(sd) || sd.length !== 2 || !sd.every((s) => typeof s === "string"))
        out.push(
          finding(
            this,
            n.path,
            ptr,
            "spatial:dimensions is missing or not two names",
            'add ["y", "x"] style names',
          ),
        );
      else if (!n.dims || sd.some((s) => !n.dims!.includes(s as string)))
        out.push(
          finding(
            this,
            n.path,
            ptr,
            `spatial:dimensions [${sd.join(", ")}] are not dimensions of the array`,
            "name dimensions the array has (and declare dimension_names)",
          ),
        );
    }
    return out;
  },
};

const finite = (v: JsonValue | undefined, n: number) =>
  Array.isArray(v) && v.length === n && v.every((x) => typeof x === "number" && Number.isFinite(x));

export const GC08: Rule = {
  id: "GC-08",
  severity: "warning",
  summary: "spatial:shape matches the array's spatial dimensions, and spatial:bbox the transform's corners",
  reference: "spatial convention README (shape, bbox)",
  check(ctx) {
    const out: Finding[] = [];
    for (const n of ctx.nodes.values()) {
      const a = n.attributes;
      const sh = a["spatial:shape"];
      const sd = a["spatial:dimensions"];
      if (n.kind === "array" && Array.isArray(sh) && Array.isArray(sd) && n.dims && n.shape) {
        const want = sd.map((d) => n.shape![n.dims!.indexOf(d as string)]);
        if (want.some((w, i) => w !== sh[i]))
          out.push(
            finding(
              this,
              n.path,
              attrPointer(n.format, "spatial:shape"),
              `spatial:shape [${sh.join(", ")}] differs from the array's [${want.join(", ")}]`,
              `set it to [${want.join(", ")}]`,
            ),
          );
      }
      const t = a["spatial:transform"];
      const bb = a["spatial:bbox"];
      if (finite(t, 6) && finite(bb, 4) && Array.isArray(sh) && sh.length === 2) {
        const [ta, tb, tc, td, te, tf] = t as number[];
        const [h, w] = sh as number[];
        const xs = [tc!, ta! * w! + tc!, tb! * h! + tc!, ta! * w! + tb! * h! + tc!];
        const ys = [tf!, td! * w! + tf!, te! * h! + tf!, td! * w! + te! * h! + tf!];
        const want = [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
        const tol = Math.max(Math.abs(ta!), Math.abs(te!)) * 1e-3;
        if (want.some((v, i) => Math.abs(v - (bb as number[])[i]!) > tol))
          out.push(
            finding(
              this,
              n.path,
              attrPointer(n.format, "spatial:bbox"),
              `spatial:bbox [${(bb as number[]).join(", ")}] differs from the transform's extent [${want.join(", ")}]`,
              "recompute the bbox from the transform and shape",
            ),
          );
      }
    }
    return out;
  },
};

export const GC10: Rule = {
  id: "GC-10",
  severity: "warning",
  summary:
    "The CF grid mapping and proj: describe the same CRS (EPSG code of crs_wkt/spatial_ref = proj:code)",
  reference: "zarr-conventions CF README (keep both consistent)",
  check(ctx) {
    const out: Finding[] = [];
    for (const n of ctx.nodes.values()) {
      if (n.kind !== "array") continue;
      const code = n.attributes["proj:code"] ?? ctx.nodes.get(parentOf(n.path))?.attributes["proj:code"];
      if (typeof code !== "string") continue;
      for (const t of gridMappingTargets(n.attributes.grid_mapping)) {
        const gm = ctx.nodes.get(parentOf(n.path) === "/" ? `/${t}` : `${parentOf(n.path)}/${t}`);
        const wkt = gm?.attributes.crs_wkt ?? gm?.attributes.spatial_ref;
        const epsg = typeof wkt === "string" ? epsgOfWkt(wkt) : null;
        if (epsg && epsg !== code)
          out.push(
            finding(
              this,
              n.path,
              attrPointer(n.format, "grid_mapping"),
              `the grid mapping says ${epsg} but proj:code says ${code}`,
              "make the CF grid mapping and proj: agree",
            ),
          );
      }
    }
    return out;
  },
};
