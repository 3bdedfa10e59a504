/**
 * Consolidated metadata (the product requires it): present and well-formed in v2 (`.zmetadata`,
 * zarr-python's convention) and v3 (inline in the root zarr.json, core spec "Additional fields"),
 * and equal to the per-node documents, which is what goes stale in practice.
 * @module
 */

import { isJsonObject, type JsonObject, type JsonValue, jsonEqual } from "../../zarr/json.js";
import type { ValidationContext } from "../context.js";
import { type Finding, finding, type Rule } from "../rule.js";

/** The consolidated node documents by node path: v2 {".zarray": ..., ".zattrs": ...}, v3 the zarr.json. */
function consolidatedNodes(ctx: ValidationContext): Map<string, Record<string, JsonValue>> | null {
  const doc = ctx.consolidated?.value;
  const out = new Map<string, Record<string, JsonValue>>();
  if (ctx.format === 2) {
    if (!isJsonObject(doc) || !isJsonObject(doc.metadata)) return null;
    for (const [key, v] of Object.entries(doc.metadata)) {
      const m = /^(?:(.*)\/)?(\.zarray|\.zgroup|\.zattrs)$/.exec(key);
      if (!m) continue;
      const path = m[1] ? `/${m[1]}` : "/";
      out.set(path, { ...(out.get(path) ?? {}), [m[2]!]: v });
    }
    return out;
  }
  const cm = isJsonObject(doc) ? doc.consolidated_metadata : undefined;
  if (!isJsonObject(cm) || !isJsonObject(cm.metadata)) return null;
  for (const [rel, v] of Object.entries(cm.metadata))
    out.set(`/${rel.replace(/^\/+/, "")}`, { "zarr.json": v });
  return out;
}

const withoutConsolidated = (v: JsonValue | undefined): JsonValue | undefined => {
  if (!isJsonObject(v) || !("consolidated_metadata" in v)) return v;
  const { consolidated_metadata: _, ...rest } = v;
  return rest;
};

export const ZC01: Rule = {
  id: "ZC-01",
  severity: "error",
  summary: "Zarr v2: .zmetadata exists with zarr_consolidated_format 1 and lists every node's documents",
  reference: "zarr-python consolidated metadata convention (zarr.consolidate_metadata)",
  check(ctx) {
    if (ctx.format !== 2) return [];
    const doc = ctx.consolidated?.value;
    if (!ctx.consolidated)
      return [
        finding(
          this,
          "/",
          "",
          "the store has no consolidated metadata (.zmetadata)",
          "write .zmetadata (zarr.consolidate_metadata, or geozarr convert)",
        ),
      ];
    if (!isJsonObject(doc)) return []; // ZR-01 reports a document that does not parse
    const out: Finding[] = [];
    if (doc.zarr_consolidated_format !== 1)
      out.push(
        finding(
          this,
          "/",
          "/.zmetadata/zarr_consolidated_format",
          "zarr_consolidated_format is not 1",
          'set "zarr_consolidated_format": 1',
        ),
      );
    const nodes = consolidatedNodes(ctx);
    if (!nodes)
      return [
        ...out,
        finding(
          this,
          "/",
          "/.zmetadata/metadata",
          '.zmetadata has no "metadata" object',
          "rewrite .zmetadata",
        ),
      ];
    for (const n of ctx.nodes.values()) {
      for (const d of n.docs) {
        const name = d.key.slice(d.key.lastIndexOf("/") + 1);
        if (!(name in (nodes.get(n.path) ?? {}))) {
          const key = n.path === "/" ? name : `${n.path.slice(1)}/${name}`;
          out.push(
            finding(
              this,
              n.path,
              `/.zmetadata/metadata/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`,
              `.zmetadata does not list ${key}`,
              "re-consolidate the metadata",
            ),
          );
        }
      }
    }
    return out;
  },
};

export const ZC02: Rule = {
  id: "ZC-02",
  severity: "error",
  summary:
    'Zarr v3: the root zarr.json has consolidated_metadata {"kind": "inline", "must_understand": false, "metadata": {...}}',
  reference: "Zarr v3 core, Additional fields: consolidated_metadata",
  check(ctx) {
    if (ctx.format !== 3) return [];
    const root = ctx.nodes.get("/")?.docs[0]?.value;
    const cm = isJsonObject(root) ? root.consolidated_metadata : undefined;
    if (cm === undefined)
      return [
        finding(
          this,
          "/",
          "/consolidated_metadata",
          "the root zarr.json has no consolidated metadata",
          "consolidate the metadata (geozarr convert writes it)",
        ),
      ];
    const out: Finding[] = [];
    if (!isJsonObject(cm))
      return [
        finding(this, "/", "/consolidated_metadata", "consolidated_metadata is not an object", "rewrite it"),
      ];
    if (cm.kind !== "inline")
      out.push(
        finding(
          this,
          "/",
          "/consolidated_metadata/kind",
          `kind is ${JSON.stringify(cm.kind)}, not "inline"`,
          'set "kind": "inline"',
        ),
      );
    if (cm.must_understand !== false)
      out.push(
        finding(
          this,
          "/",
          "/consolidated_metadata/must_understand",
          "must_understand is not false",
          'set "must_understand": false',
        ),
      );
    if (!isJsonObject(cm.metadata))
      out.push(
        finding(
          this,
          "/",
          "/consolidated_metadata/metadata",
          "metadata is not an object of node documents",
          "rewrite it",
        ),
      );
    return out;
  },
};

export const ZC03: Rule = {
  id: "ZC-03",
  severity: "warning",
  summary: "Consolidated metadata lists every node in the store (readers that use it do not see the others)",
  reference: "consistency of consolidated metadata (stale .zmetadata is the common real-world bug)",
  check(ctx) {
    const nodes = consolidatedNodes(ctx);
    if (!nodes) return [];
    return [...ctx.nodes.values()]
      .filter((n) => !nodes.has(n.path) && !(ctx.format === 3 && n.path === "/"))
      .map((n) =>
        finding(
          this,
          n.path,
          "",
          "the node is in the store but not in the consolidated metadata",
          "re-consolidate the metadata",
        ),
      );
  },
};

export const ZC04: Rule = {
  id: "ZC-04",
  severity: "error",
  summary:
    "Consolidated metadata agrees with the store: every document it lists equals the node's own, and every node it lists exists (readers use it instead of the node documents)",
  reference:
    "zarr-python consolidated metadata convention; Zarr v3 core, consolidated_metadata; geozarr's reader (zarr/hierarchy.ts)",
  check(ctx) {
    const nodes = consolidatedNodes(ctx);
    if (!nodes) return [];
    const out: Finding[] = [];
    const where = ctx.format === 2 ? "/.zmetadata/metadata" : "/consolidated_metadata/metadata";
    for (const n of ctx.nodes.values()) {
      const c = nodes.get(n.path);
      if (!c || n.consolidatedOnly || (ctx.format === 3 && n.path === "/")) continue;
      const names = new Set([
        ...Object.keys(c),
        ...n.docs.map((d) => d.key.slice(d.key.lastIndexOf("/") + 1)),
      ]);
      for (const name of names) {
        const d = n.docs.find((x) => x.key.endsWith(`/${name}`));
        if (d && d.value === undefined) continue; // ZR-01 reports a document that does not parse
        if (!(name in c)) continue; // a document missing from .zmetadata is ZC-01's
        // A missing .zattrs and an empty one say the same.
        const onDisk = d?.value ?? (name === ".zattrs" ? {} : undefined);
        if (onDisk === undefined) {
          out.push(
            finding(
              this,
              n.path,
              ctx.format === 2 ? `/${name}` : "",
              `the consolidated metadata has a ${name} that the store does not`,
              "re-consolidate the metadata",
            ),
          );
          continue;
        }
        if (!jsonEqual(withoutConsolidated(c[name] as JsonObject), withoutConsolidated(onDisk)))
          out.push(
            finding(
              this,
              n.path,
              ctx.format === 2 ? `/${name}` : "",
              `the consolidated ${name} differs from the one in the store (readers see the consolidated one)`,
              "re-consolidate the metadata",
            ),
          );
      }
    }
    // Nodes only the consolidated metadata lists: the other rules check them as readers see them.
    for (const path of nodes.keys()) {
      if (!ctx.nodes.has(path) || ctx.nodes.get(path)!.consolidatedOnly)
        out.push(
          finding(
            this,
            path,
            where,
            "the consolidated metadata lists a node that is not in the store",
            "re-consolidate the metadata",
          ),
        );
    }
    return out;
  },
};
