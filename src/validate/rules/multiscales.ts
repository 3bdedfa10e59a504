/**
 * Multiscale rules: GeoZarr v0.4's `multiscales` attribute (G4-09) and the zarr-conventions
 * `multiscales` layout (GC-09), including that every level agrees with what the layout says about
 * it (shape, transform, the scale between a level and the one it derives from).
 * @module
 */

import { isJsonObject, type JsonObject } from "../../zarr/json.js";
import type { RawNode } from "../context.js";
import { attrPointer, type Finding, finding, type Rule } from "../rule.js";

/** GeoZarr v0.4's resampling methods (Multiscales section). */
const V04_RESAMPLING = [
  "nearest",
  "bilinear",
  "cubic",
  "cubic_spline",
  "lanczos",
  "average",
  "mode",
  "gauss",
  "max",
  "min",
  "med",
  "q1",
  "q3",
  "sum",
  "rms",
];

/** The multiscales schema's relative-path pattern for `asset` and `derived_from`. */
const RELATIVE_PATH = /^(?!\/)(?!.*(\.\.))([^/]+(\/[^/]+)*)$/;

const parentOf = (path: string) => (path.lastIndexOf("/") <= 0 ? "/" : path.slice(0, path.lastIndexOf("/")));
const under = (group: string, rel: string) => (group === "/" ? `/${rel}` : `${group}/${rel}`);
const nums = (v: unknown): number[] | null =>
  Array.isArray(v) && v.every((x) => typeof x === "number" && Number.isFinite(x)) ? (v as number[]) : null;

/** GeoZarr v0.4's form (`tile_matrix_set`), as opposed to the convention's `layout`. */
export function isV04Multiscales(v: unknown): v is JsonObject {
  return isJsonObject(v) && "tile_matrix_set" in v && !("layout" in v);
}

/** Arrays directly in a group. */
function arraysIn(nodes: Map<string, RawNode>, group: string): RawNode[] {
  return [...nodes.values()].filter((n) => n.kind === "array" && parentOf(n.path) === group);
}

export const G409: Rule = {
  id: "G4-09",
  severity: "error",
  summary:
    "multiscales (v0.4) names a tile matrix set and a known resampling method; its tile matrices are level groups whose chunks match the tiles",
  reference: "GeoZarr v0.4, Multiscales",
  check(ctx) {
    const out: Finding[] = [];
    for (const n of ctx.nodes.values()) {
      const ms = n.attributes.multiscales;
      if (!isV04Multiscales(ms)) continue;
      const ptr = attrPointer(n.format, "multiscales");
      const bad = (p: string, message: string, fix: string) =>
        out.push(finding(this, n.path, p, message, fix));
      const tms = ms.tile_matrix_set;
      if (typeof ms.resampling_method !== "string" || !V04_RESAMPLING.includes(ms.resampling_method))
        bad(
          `${ptr}/resampling_method`,
          `resampling_method ${JSON.stringify(ms.resampling_method)} is not one of GeoZarr v0.4's methods`,
          `use one of ${V04_RESAMPLING.join(", ")}`,
        );
      if (typeof tms === "string") continue; // a well-known id or a URI: nothing more to check offline
      if (!isJsonObject(tms) || !Array.isArray(tms.tileMatrices) || tms.tileMatrices.length === 0) {
        bad(
          `${ptr}/tile_matrix_set`,
          "tile_matrix_set is neither an identifier nor a TileMatrixSet object with tileMatrices",
          'name a well-known set ("WebMercatorQuad") or inline an OGC TileMatrixSet',
        );
        continue;
      }
      // The level groups live in the group holding the multiscale dataset (for an array: its
      // level group's parent).
      const home = n.kind === "group" ? n.path : parentOf(parentOf(n.path));
      tms.tileMatrices.forEach((m, i) => {
        const mp = `${ptr}/tile_matrix_set/tileMatrices/${i}`;
        if (!isJsonObject(m) || typeof m.id !== "string") {
          bad(mp, "a tile matrix without an id", "give every tile matrix the path of its level group");
          return;
        }
        const level = under(home, m.id);
        if (ctx.nodes.get(level)?.kind !== "group") {
          bad(
            `${mp}/id`,
            `tile matrix "${m.id}" has no level group ${level}`,
            "write the level or remove it",
          );
          return;
        }
        const tw = m.tileWidth;
        const th = m.tileHeight;
        for (const a of arraysIn(ctx.nodes, level)) {
          const chunks = a.meta?.chunkShape;
          if (!a.shape || a.shape.length < 2 || !chunks || typeof a.attributes.grid_mapping !== "string")
            continue;
          const [cy, cx] = chunks.slice(-2);
          if (cy !== th || cx !== tw)
            bad(
              `${mp}/tileWidth`,
              `${a.path} is chunked ${cy} x ${cx} but the tiles of "${m.id}" are ${th} x ${tw}`,
              "chunk every level's spatial dimensions by the tile size",
            );
          const [rows, cols] = a.shape.slice(-2) as [number, number];
          if (
            typeof tw === "number" &&
            typeof th === "number" &&
            (m.matrixWidth !== Math.ceil(cols / tw) || m.matrixHeight !== Math.ceil(rows / th))
          )
            bad(
              `${mp}/matrixWidth`,
              `tile matrix "${m.id}" is ${m.matrixWidth} x ${m.matrixHeight} tiles but ${a.path} (${rows} x ${cols}) needs ${Math.ceil(cols / tw)} x ${Math.ceil(rows / th)}`,
              "recompute matrixWidth/matrixHeight from the level's shape",
            );
        }
      });
    }
    return out;
  },
};

export const GC09: Rule = {
  id: "GC-09",
  severity: "error",
  summary:
    "multiscales (convention) sits on a group; its layout's assets resolve to levels that match their declared shape, transform and scale",
  reference: "zarr-conventions multiscales schema (layout, asset, derived_from, transform)",
  check(ctx) {
    const out: Finding[] = [];
    for (const n of ctx.nodes.values()) {
      const ms = n.attributes.multiscales;
      if (ms === undefined || isV04Multiscales(ms)) continue;
      const ptr = attrPointer(n.format, "multiscales");
      const bad = (p: string, message: string, fix: string) =>
        out.push(finding(this, n.path, p, message, fix));
      if (n.kind !== "group") {
        bad(ptr, "multiscales is on an array; the convention puts it on a group", "move it to the group");
        continue;
      }
      if (!isJsonObject(ms) || !Array.isArray(ms.layout) || ms.layout.length === 0) {
        bad(
          ptr,
          "multiscales has no layout (a list of at least one level)",
          "add layout: [{asset: ...}, ...]",
        );
        continue;
      }
      const entries = new Map<string, JsonObject>();
      for (const l of ms.layout) if (isJsonObject(l) && typeof l.asset === "string") entries.set(l.asset, l);
      const dims = n.attributes["spatial:dimensions"];
      ms.layout.forEach((l, i) => {
        const lp = `${ptr}/layout/${i}`;
        if (!isJsonObject(l) || typeof l.asset !== "string" || !RELATIVE_PATH.test(l.asset)) {
          bad(
            `${lp}/asset`,
            "a layout entry without a relative asset path",
            'set asset to the level\'s path ("0")',
          );
          return;
        }
        const level = ctx.nodes.get(under(n.path, l.asset));
        if (!level) {
          bad(`${lp}/asset`, `asset "${l.asset}" does not exist`, "write the level or remove the entry");
          return;
        }
        if (l.derived_from !== undefined) {
          if (
            typeof l.derived_from !== "string" ||
            !RELATIVE_PATH.test(l.derived_from) ||
            !entries.has(l.derived_from)
          )
            bad(
              `${lp}/derived_from`,
              `derived_from ${JSON.stringify(l.derived_from)} is not another level of the layout`,
              "name the asset this level was computed from",
            );
          if (!isJsonObject(l.transform))
            bad(`${lp}/transform`, "derived_from without a transform", "add transform: {scale: [...]}");
        }
        out.push(
          ...levelAgrees(this, n, l, lp, level, ctx.nodes, Array.isArray(dims) ? (dims as string[]) : null),
        );
        const parent = typeof l.derived_from === "string" ? entries.get(l.derived_from) : undefined;
        const scale = isJsonObject(l.transform) ? nums(l.transform.scale) : null;
        const t = nums(l["spatial:transform"]);
        const pt = nums(parent?.["spatial:transform"]);
        if (parent && scale?.length === 2 && t?.length === 6 && pt?.length === 6) {
          const [sy, sx] = scale as [number, number];
          const close = (a: number, b: number) => Math.abs(a - b) <= Math.abs(b) * 1e-6;
          if (!close(t[0]!, pt[0]! * sx) || !close(t[4]!, pt[4]! * sy))
            bad(
              `${lp}/transform/scale`,
              `scale [${scale.join(", ")}] does not turn ${parent.asset}'s cell size (${pt[4]}, ${pt[0]}) into this level's (${t[4]}, ${t[0]})`,
              "make transform.scale the ratio of the two levels' cell sizes",
            );
        }
      });
    }
    return out;
  },
};

/** A level's arrays and `spatial:` attributes against its layout entry. */
function levelAgrees(
  rule: Rule,
  n: RawNode,
  entry: JsonObject,
  lp: string,
  level: RawNode,
  nodes: Map<string, RawNode>,
  rootDims: string[] | null,
): Finding[] {
  const out: Finding[] = [];
  const shape = nums(entry["spatial:shape"]);
  const dims = (level.attributes["spatial:dimensions"] as string[] | undefined) ?? rootDims;
  if (shape && dims) {
    const arrays = level.kind === "array" ? [level] : arraysIn(nodes, level.path);
    for (const a of arrays) {
      if (!a.dims || !a.shape || !dims.every((d) => a.dims!.includes(d))) continue;
      const got = dims.map((d) => a.shape![a.dims!.indexOf(d)]!);
      if (got.some((g, i) => g !== shape[i]))
        out.push(
          finding(
            rule,
            n.path,
            `${lp}/spatial:shape`,
            `${a.path} is [${got.join(", ")}] along ${dims.join(", ")} but the layout says [${shape.join(", ")}]`,
            "make the layout's spatial:shape the level's size",
          ),
        );
    }
  }
  const t = nums(entry["spatial:transform"]);
  const own = nums(level.attributes["spatial:transform"]);
  if (t && own && t.some((v, i) => Math.abs(v - own[i]!) > Math.abs(t[0]!) * 1e-6))
    out.push(
      finding(
        rule,
        n.path,
        `${lp}/spatial:transform`,
        `level ${level.path} says spatial:transform [${own.join(", ")}], the layout [${t.join(", ")}]`,
        "write the same transform in both places",
      ),
    );
  return out;
}
