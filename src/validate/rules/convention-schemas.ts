/**
 * Nodes against the conventions' official v0.1 JSON schemas (data/zarr-conventions/, compiled by
 * ../schemas.ts): GC-04 proj, GC-07 spatial, GC-11 multiscales.
 *
 * A node that declares a convention is validated whole ({zarr_format, node_type, attributes}; a
 * v2 node's `.zattrs` stand for its attributes), with its declarations of any revision read as
 * the v0.1 object: what a declaration says is GC-03's business (a warning), what the attributes say
 * is the schema's (an error). A node that uses a convention's attributes without declaring it
 * (GC-02) has those attributes validated against the schema's own definition of them.
 * @module
 */

import { type ConventionName, identify } from "../../geo/conventions.js";
import { isJsonObject, type JsonObject, type JsonValue } from "../../zarr/json.js";
import type { RawNode } from "../context.js";
import { type Finding, finding, type Rule } from "../rule.js";
import { conventionSchema, schemaErrors } from "../schemas.js";
import { declares, usesConvention } from "./conventions.js";

/** The document the schemas describe: the v3 zarr.json, or the v2 node with .zattrs as attributes. */
function schemaDocument(n: RawNode): JsonValue | undefined {
  const doc =
    n.format === 3
      ? n.docs[0]?.value
      : ({ zarr_format: 2, node_type: n.kind, attributes: n.attributes } as JsonObject);
  if (!isJsonObject(doc) || !isJsonObject(doc.attributes) || !Array.isArray(doc.attributes.zarr_conventions))
    return doc;
  const zarr_conventions = doc.attributes.zarr_conventions.map((c) => identify(c)?.convention.current ?? c);
  return { ...doc, attributes: { ...doc.attributes, zarr_conventions } };
}

/** A schema pointer as a pointer into the node's own document (v2: attributes live in .zattrs). */
function nodePointer(n: RawNode, pointer: string): string {
  if (n.format === 3) return pointer;
  return pointer === "/attributes" || pointer.startsWith("/attributes/")
    ? `/.zattrs${pointer.slice("/attributes".length)}`
    : "";
}

const unescapeToken = (s: string) => s.replace(/~1/g, "/").replace(/~0/g, "~");

/** What a pointer names, for messages: the key ("proj:code", "layout/1/asset"), or the document. */
function label(pointer: string): string {
  if (pointer === "") return "the document";
  if (pointer === "/attributes") return "attributes";
  const rel = pointer.startsWith("/attributes/") ? pointer.slice("/attributes/".length) : pointer.slice(1);
  return rel.split("/").map(unescapeToken).join("/");
}

function schemaRule(id: string, name: ConventionName, summary: string): Rule {
  return {
    id,
    severity: "error",
    summary,
    reference: `zarr-conventions ${name} v0.1, schema.json (data/zarr-conventions/${name}-v0.1.schema.json)`,
    check(ctx) {
      const schema = conventionSchema(name);
      const out: Finding[] = [];
      for (const n of ctx.nodes.values()) {
        let errors: { pointer: string; message: string; fix: string }[];
        if (declares(n, name)) {
          const doc = schemaDocument(n);
          if (doc === undefined) continue; // ZR-01 reports a document that does not parse
          // Declarations are GC-01's and GC-03's; here they are read as v0.1.
          errors = schemaErrors(schema.document, doc).filter(
            (e) => !e.pointer.startsWith("/attributes/zarr_conventions"),
          );
        } else if (usesConvention(n.attributes, name)) {
          const [value, base] =
            name === "multiscales"
              ? [n.attributes.multiscales!, "/attributes/multiscales"]
              : [n.attributes as JsonValue, "/attributes"];
          errors = schemaErrors(schema.attributes, value).map((e) => ({
            ...e,
            pointer: `${base}${e.pointer}`,
          }));
        } else continue;
        for (const e of errors)
          out.push(
            finding(
              this,
              n.path,
              nodePointer(n, e.pointer),
              `${name} v0.1 schema: ${label(e.pointer)} ${e.message}`,
              e.fix,
            ),
          );
      }
      return out;
    },
  };
}

export const GC04 = schemaRule(
  "GC-04",
  "proj",
  "Nodes declaring or using proj validate against the official proj v0.1 schema: at least one of proj:code (AUTHORITY:CODE, e.g. OGC:CRS84), proj:wkt2, proj:projjson",
);

export const GC07 = schemaRule(
  "GC-07",
  "spatial",
  "Nodes declaring or using spatial validate against the official spatial v0.1 schema: arrays have spatial:dimensions; 2 dimensions, 6-number transform, 2-integer shape, 4-number bbox, registration pixel|node",
);

export const GC11 = schemaRule(
  "GC-11",
  "multiscales",
  "Nodes declaring or using multiscales validate against the official multiscales v0.1 schema: a group with a layout whose entries have a relative asset, and a transform when derived_from is given",
);
