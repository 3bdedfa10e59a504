/**
 * Store-level Zarr rules: strict JSON (ZJ-01), a group at the root (ZJ-02), one format (ZJ-03).
 * Documents that do not parse at all are ZR-01's (reader.ts).
 * @module
 */

import { isJsonObject } from "../../zarr/json.js";
import type { RawDocument, ValidationContext } from "../context.js";
import { finding, type Rule } from "../rule.js";

/** The document key relative to the node ("/a/.zarray" -> ".zarray"), for pointers. */
export const docName = (key: string) => key.slice(key.lastIndexOf("/") + 1);

/** Every metadata document of the store with the node it belongs to (v2 `.zmetadata` at the root). */
export function everyDocument(ctx: ValidationContext): [string, RawDocument][] {
  const docs: [string, RawDocument][] = [...ctx.nodes.values()].flatMap((n) =>
    n.docs.map((d) => [n.path, d] as [string, RawDocument]),
  );
  if (ctx.consolidated && ctx.format === 2) docs.push(["/", ctx.consolidated]);
  return docs;
}

/** The pointer of a document inside its node: "" for zarr.json, "/.zattrs" for v2 documents. */
export const docPointer = (d: RawDocument) => (d.key.endsWith("zarr.json") ? "" : `/${docName(d.key)}`);

export const ZJ01: Rule = {
  id: "ZJ-01",
  severity: "error",
  summary:
    "Every metadata document is strict RFC 8259 JSON: no bare NaN/Infinity tokens (ZR-01 reports documents that do not parse)",
  reference: "Zarr v2 spec, fill_value encoding; Zarr v3 core, Metadata (RFC 8259)",
  check(ctx) {
    const out = [];
    for (const [path, d] of everyDocument(ctx)) {
      // v2 nodes have several documents: pointers start with the document's name.
      const prefix = docPointer(d);
      for (const p of d.nonStandard) {
        out.push(
          finding(
            this,
            path,
            `${prefix}${p}`,
            `${docName(d.key)} has a bare NaN/Infinity token at ${p || "/"} (not JSON)`,
            'write it as the string "NaN", "Infinity" or "-Infinity"',
          ),
        );
      }
    }
    return out;
  },
};

export const ZJ02: Rule = {
  id: "ZJ-02",
  severity: "error",
  summary: "The store root is a group (.zgroup in v2, zarr.json with node_type group in v3)",
  reference: "Zarr v2 spec, Groups; Zarr v3 core, Hierarchy",
  check(ctx) {
    const root = ctx.nodes.get("/");
    if (root?.kind === "group") {
      const doc = root.docs[0]?.value;
      if (root.format === 3 && !(isJsonObject(doc) && doc.node_type === "group")) {
        return [
          finding(
            this,
            "/",
            "/node_type",
            "the root zarr.json is not a group document",
            'set "node_type": "group"',
          ),
        ];
      }
      return [];
    }
    if (root?.kind === "array")
      return [finding(this, "/", "", "the store root is an array, not a group", "put the array in a group")];
    return [
      finding(
        this,
        "/",
        "",
        "the store root has no group metadata (no .zgroup / zarr.json)",
        "add the root group document",
      ),
    ];
  },
};

export const ZJ03: Rule = {
  id: "ZJ-03",
  severity: "error",
  summary: "The hierarchy uses one Zarr format: no v2 and v3 metadata mixed",
  reference: "Zarr v3 core, Stores (a hierarchy has one format)",
  check(ctx) {
    const out = ctx.mixed.map((p) =>
      finding(
        this,
        p,
        "",
        "the node has both zarr.json and v2 metadata",
        "remove the metadata of the other format",
      ),
    );
    for (const n of ctx.nodes.values()) {
      if (n.format !== ctx.format && !ctx.mixed.includes(n.path)) {
        out.push(
          finding(
            this,
            n.path,
            "",
            `the node is Zarr v${n.format} in a v${ctx.format} hierarchy`,
            `convert it to Zarr v${ctx.format}`,
          ),
        );
      }
    }
    return out;
  },
};
