/**
 * The official v0.1 JSON schemas of the proj, spatial and multiscales conventions, vendored in
 * data/zarr-conventions/ (sources and checksums in its README), compiled once with ajv.
 *
 * Why ajv: it is the maintained JSON Schema validator for JavaScript (metazarr, the conventions'
 * own web validator, uses it too) and supports draft-07, the schemas' dialect. One difference from
 * a strict draft-07 validator matters here: ajv 8 applies keywords beside `$ref`, which draft-07
 * ignores; the proj and spatial schemas put their `contains` check of `zarr_conventions` beside a
 * `$ref`. The rules never depend on that check: declarations are checked against
 * `$defs/conventionMetadata` directly (GC-03) and read as v0.1 before the document is validated.
 *
 * The PROJJSON schema the proj schema refers to is not vendored; a stand-in accepts any object.
 * @module
 */

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Ajv as AjvClass, ErrorObject, ValidateFunction } from "ajv";
import type { ConventionName } from "../geo/conventions.js";
import type { JsonValue } from "../zarr/json.js";

const FILES: Record<ConventionName, string> = {
  proj: "proj-v0.1.schema.json",
  spatial: "spatial-v0.1.schema.json",
  multiscales: "multiscales-v0.1.schema.json",
};

/** Where a convention's own attributes are defined in its schema (for nodes that do not declare it). */
const ATTRIBUTES_DEF: Record<ConventionName, string> = {
  proj: "projAttributes",
  spatial: "spatialAttributes",
  multiscales: "multiscalesProperties",
};

const PROJJSON_ID = "https://proj.org/schemas/v0.7/projjson.schema.json";

export interface ConventionSchema {
  /** The schema's `$id`. */
  id: string;
  /** A whole node document ({zarr_format, node_type, attributes, ...}). */
  document: ValidateFunction;
  /** One Convention Metadata Object. */
  declaration: ValidateFunction;
  /** The convention's attributes alone (multiscales: the `multiscales` object). */
  attributes: ValidateFunction;
}

let compiled: Map<ConventionName, ConventionSchema> | undefined;

function compile(): Map<ConventionName, ConventionSchema> {
  // ajv (CommonJS, about 30 ms to load) is required here, on the first validation, not when the
  // library is imported: a conversion never validates against the schemas.
  const { Ajv } = createRequire(import.meta.url)("ajv") as { Ajv: typeof AjvClass };
  const ajv = new Ajv({ allErrors: true, strict: false });
  ajv.addSchema({ $id: PROJJSON_ID, type: "object" });
  const out = new Map<ConventionName, ConventionSchema>();
  for (const [name, file] of Object.entries(FILES) as [ConventionName, string][]) {
    const schema = JSON.parse(
      readFileSync(new URL(`../../data/zarr-conventions/${file}`, import.meta.url), "utf8"),
    ) as { $id: string };
    ajv.addSchema(schema);
    const get = (ref: string) => ajv.getSchema(`${schema.$id}${ref}`)!;
    out.set(name, {
      id: schema.$id,
      document: get(""),
      declaration: get("#/$defs/conventionMetadata"),
      attributes: get(`#/$defs/${ATTRIBUTES_DEF[name]}`),
    });
  }
  return out;
}

export function conventionSchema(name: ConventionName): ConventionSchema {
  compiled ??= compile();
  return compiled.get(name)!;
}

export interface SchemaError {
  /** JSON pointer into the validated value. */
  pointer: string;
  keyword: string;
  /** The schema's message, with the allowed values where ajv gives them. */
  message: string;
  fix: string;
}

const quote = (v: unknown) => JSON.stringify(v);

function describe(e: ErrorObject): { message: string; fix: string } {
  const p = e.params as Record<string, unknown>;
  const base = e.message ?? e.keyword;
  switch (e.keyword) {
    case "const":
      return { message: `${base} ${quote(p.allowedValue)}`, fix: `set it to ${quote(p.allowedValue)}` };
    case "enum":
      return {
        message: `${base}: ${(p.allowedValues as unknown[]).map(quote).join(", ")}`,
        fix: `use one of ${(p.allowedValues as unknown[]).map(quote).join(", ")}`,
      };
    case "required":
      return { message: base, fix: `add ${quote(p.missingProperty)}` };
    case "pattern":
      return { message: base, fix: `write it to match ${p.pattern}` };
    case "type":
      return { message: base, fix: `make it ${p.type === "integer" ? "an integer" : `a JSON ${p.type}`}` };
    case "minItems":
    case "maxItems":
      return {
        message: base,
        fix: `give it ${e.keyword === "minItems" ? "at least" : "at most"} ${p.limit} items`,
      };
    case "minimum":
      return { message: base, fix: `make it at least ${p.limit}` };
    default:
      return { message: base, fix: "see the convention's specification" };
  }
}

/**
 * Validate `value`; errors as findings-to-be: one per failing keyword, `anyOf` of `required`
 * branches folded into one ("must have one of ..."), `if` wrappers dropped (their `then`
 * failures are reported themselves).
 */
export function schemaErrors(validate: ValidateFunction, value: JsonValue): SchemaError[] {
  if (validate(value)) return [];
  const errors = validate.errors ?? [];
  const out: SchemaError[] = [];
  const folded = new Set<ErrorObject>();
  for (const e of errors) {
    if (e.keyword !== "anyOf") continue;
    const branches = errors.filter(
      (b) => b !== e && b.instancePath === e.instancePath && b.schemaPath.startsWith(`${e.schemaPath}/`),
    );
    for (const b of branches) folded.add(b);
    const missing = branches.filter((b) => b.keyword === "required").map((b) => b.params.missingProperty);
    if (missing.length === branches.length && missing.length > 0) {
      out.push({
        pointer: e.instancePath,
        keyword: "anyOf",
        message: `must have one of ${missing.map(quote).join(", ")}`,
        fix: `add ${missing.map(quote).join(" or ")}`,
      });
    } else {
      const first = branches[0];
      out.push({
        pointer: e.instancePath,
        keyword: "anyOf",
        message: `must match one of the schema's alternatives${first ? ` (${first.instancePath || "/"} ${first.message})` : ""}`,
        fix: "see the convention's specification",
      });
    }
    folded.add(e);
  }
  for (const e of errors) {
    if (folded.has(e) || e.keyword === "if") continue;
    out.push({ pointer: e.instancePath, keyword: e.keyword, ...describe(e) });
  }
  return out;
}
