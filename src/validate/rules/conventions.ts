/**
 * The Zarr conventions GeoZarr composes: `zarr_conventions` declarations (zarr-conventions-spec),
 * `proj:` (geo-proj) and `spatial:`. Conventions are identified by UUID, since names and URLs
 * changed between revisions (geozarr-spec#121).
 * @module
 */

import { MULTISCALES_UUID, PROJ_UUID, SPATIAL_UUID } from "../../geo/conventions.js";
import { epsgOfWkt, knownCodes } from "../../geo/crs.js";
import { isJsonObject, type JsonObject, type JsonValue } from "../../zarr/json.js";
import type { RawNode } from "../context.js";
import { gridMappingTargets, parentOf } from "../roles.js";
import { attrPointer, type Finding, finding, type Rule } from "../rule.js";
import { isV04Multiscales } from "./multiscales.js";

const CMO_KEYS = new Set(["uuid", "schema_url", "spec_url", "name", "description"]);

/** Known revisions of each convention's metadata object (zarr-conventions repos, 2025-2026). */
const KNOWN: Record<string, { names: string[]; urls: string[]; descriptions: string[] }> = {
  [PROJ_UUID]: {
    names: ["proj:", "proj"],
    urls: [
      "https://raw.githubusercontent.com/zarr-conventions/geo-proj/refs/tags/v1/schema.json",
      "https://github.com/zarr-conventions/geo-proj/blob/v1/README.md",
      "https://raw.githubusercontent.com/zarr-experimental/geo-proj/refs/tags/v1/schema.json",
      "https://github.com/zarr-experimental/geo-proj/blob/v1/README.md",
      "https://raw.githubusercontent.com/zarr-conventions/proj/refs/tags/v0.1/schema.json",
      "https://github.com/zarr-conventions/proj/blob/v0.1/README.md",
    ],
    descriptions: ["Coordinate reference system information for geospatial data"],
  },
  [SPATIAL_UUID]: {
    names: ["spatial:", "spatial"],
    urls: [
      "https://raw.githubusercontent.com/zarr-conventions/spatial/refs/tags/v1/schema.json",
      "https://github.com/zarr-conventions/spatial/blob/v1/README.md",
      "https://raw.githubusercontent.com/zarr-conventions/spatial/refs/tags/v0.1/schema.json",
      "https://github.com/zarr-conventions/spatial/blob/v0.1/README.md",
    ],
    descriptions: ["Spatial coordinate information", "Spatial coordinate and transformation information"],
  },
  [MULTISCALES_UUID]: {
    names: ["multiscales"],
    urls: [
      "https://raw.githubusercontent.com/zarr-conventions/multiscales/refs/tags/v1/schema.json",
      "https://github.com/zarr-conventions/multiscales/blob/v1/README.md",
    ],
    descriptions: ["Multiscale layout of zarr datasets"],
  },
};

const cmosOf = (n: RawNode): JsonValue[] =>
  Array.isArray(n.attributes.zarr_conventions) ? n.attributes.zarr_conventions : [];
const declares = (n: RawNode | undefined, uuid: string) =>
  !!n && cmosOf(n).some((c) => isJsonObject(c) && c.uuid === uuid);
const usesPrefix = (a: JsonObject, prefix: string) => Object.keys(a).some((k) => k.startsWith(prefix));

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
    "A node using proj:, spatial: or multiscales declares the convention by UUID (itself, or its parent group for arrays)",
  reference: "zarr-conventions-spec; geo-proj inheritance (group to direct child arrays)",
  check(ctx) {
    const out: Finding[] = [];
    for (const n of ctx.nodes.values()) {
      const parent = n.kind === "array" ? ctx.nodes.get(parentOf(n.path)) : undefined;
      for (const [prefix, uuid, name] of [
        ["proj:", PROJ_UUID, "proj:"],
        ["spatial:", SPATIAL_UUID, "spatial:"],
        ["multiscales", MULTISCALES_UUID, "multiscales"],
      ] as const) {
        const used =
          prefix === "multiscales"
            ? n.attributes.multiscales !== undefined && !isV04Multiscales(n.attributes.multiscales)
            : usesPrefix(n.attributes, prefix);
        if (used && !declares(n, uuid) && !declares(parent, uuid)) {
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
  summary: "A declared convention's name, URLs and description match a known revision of it",
  reference: "geozarr-spec#121 (validation strategy); zarr-conventions schemas",
  check(ctx) {
    const out: Finding[] = [];
    for (const n of ctx.nodes.values()) {
      cmosOf(n).forEach((c, i) => {
        if (!isJsonObject(c) || typeof c.uuid !== "string") return;
        const k = KNOWN[c.uuid];
        if (!k) return;
        const ptr = `${attrPointer(n.format, "zarr_conventions")}/${i}`;
        if (typeof c.name === "string" && !k.names.includes(c.name))
          out.push(
            finding(
              this,
              n.path,
              `${ptr}/name`,
              `name ${JSON.stringify(c.name)} is not a known name of this convention`,
              `use ${JSON.stringify(k.names[0])}`,
            ),
          );
        for (const f of ["schema_url", "spec_url"]) {
          if (typeof c[f] === "string" && !k.urls.includes(c[f] as string))
            out.push(
              finding(
                this,
                n.path,
                `${ptr}/${f}`,
                `${f} ${c[f]} is not a known revision of this convention`,
                "use the URL of a published tag",
              ),
            );
        }
        if (typeof c.description === "string" && !k.descriptions.includes(c.description))
          out.push(
            finding(
              this,
              n.path,
              `${ptr}/description`,
              "the description differs from the convention's",
              `use ${JSON.stringify(k.descriptions[0])}`,
            ),
          );
      });
    }
    return out;
  },
};

export const GC04: Rule = {
  id: "GC-04",
  severity: "error",
  summary: "proj: gives at least one of proj:code (AUTHORITY:CODE), proj:wkt2, proj:projjson",
  reference: "geo-proj README (the prose: at least one; the v1 schema's oneOf is a known bug)",
  check(ctx) {
    const out: Finding[] = [];
    for (const n of ctx.nodes.values()) {
      const a = n.attributes;
      if (!usesPrefix(a, "proj:")) continue;
      const code = a["proj:code"];
      const has = [code, a["proj:wkt2"], a["proj:projjson"]].some((v) => v !== undefined && v !== null);
      if (!has)
        out.push(
          finding(
            this,
            n.path,
            attrPointer(n.format, "proj:code"),
            "proj: attributes without proj:code, proj:wkt2 or proj:projjson",
            "add proj:code (e.g. EPSG:4326) or proj:wkt2",
          ),
        );
      if (code !== undefined && code !== null && !(typeof code === "string" && /^[A-Z]+:[0-9]+$/.test(code)))
        out.push(
          finding(
            this,
            n.path,
            attrPointer(n.format, "proj:code"),
            `proj:code ${JSON.stringify(code)} is not AUTHORITY:CODE`,
            'write it like "EPSG:4326"',
          ),
        );
      if (a["proj:wkt2"] !== undefined && a["proj:wkt2"] !== null && typeof a["proj:wkt2"] !== "string")
        out.push(
          finding(
            this,
            n.path,
            attrPointer(n.format, "proj:wkt2"),
            "proj:wkt2 is not a string",
            "write the WKT2 string",
          ),
        );
      if (
        a["proj:projjson"] !== undefined &&
        a["proj:projjson"] !== null &&
        !isJsonObject(a["proj:projjson"])
      )
        out.push(
          finding(
            this,
            n.path,
            attrPointer(n.format, "proj:projjson"),
            "proj:projjson is not an object",
            "write the PROJJSON object",
          ),
        );
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

export const GC07: Rule = {
  id: "GC-07",
  severity: "error",
  summary:
    "spatial: values are well-formed: 6-number transform, 2-integer shape, 4-number bbox, registration pixel|node",
  reference: "spatial convention schema",
  check(ctx) {
    const out: Finding[] = [];
    const visit = (n: RawNode, a: JsonObject, base: string) => {
      const ptr = (k: string) => (base ? `${base}/${k}` : attrPointer(n.format, k));
      const tt = a["spatial:transform_type"];
      if (
        a["spatial:transform"] !== undefined &&
        (tt === undefined || tt === "affine") &&
        !finite(a["spatial:transform"], 6)
      )
        out.push(
          finding(
            this,
            n.path,
            ptr("spatial:transform"),
            "spatial:transform is not six finite numbers",
            "write [a, b, c, d, e, f]",
          ),
        );
      const sh = a["spatial:shape"];
      if (
        sh !== undefined &&
        !(
          Array.isArray(sh) &&
          sh.length === 2 &&
          sh.every((x) => typeof x === "number" && Number.isInteger(x) && x >= 1)
        )
      )
        out.push(
          finding(
            this,
            n.path,
            ptr("spatial:shape"),
            "spatial:shape is not two positive integers",
            "write [height, width]",
          ),
        );
      if (a["spatial:bbox"] !== undefined && !finite(a["spatial:bbox"], 4))
        out.push(
          finding(
            this,
            n.path,
            ptr("spatial:bbox"),
            "spatial:bbox is not four numbers",
            "write [xmin, ymin, xmax, ymax]",
          ),
        );
      const reg = a["spatial:registration"];
      if (reg !== undefined && reg !== "pixel" && reg !== "node")
        out.push(
          finding(
            this,
            n.path,
            ptr("spatial:registration"),
            `spatial:registration ${JSON.stringify(reg)} is not "pixel" or "node"`,
            'use "pixel"',
          ),
        );
    };
    for (const n of ctx.nodes.values()) {
      visit(n, n.attributes, "");
      const ms = n.attributes.multiscales;
      if (!isJsonObject(ms) || !Array.isArray(ms.layout)) continue;
      ms.layout.forEach((l, i) => {
        if (isJsonObject(l)) visit(n, l, `${attrPointer(n.format, "multiscales")}/layout/${i}`);
      });
    }
    return out;
  },
};

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
