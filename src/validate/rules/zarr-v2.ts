/**
 * Zarr v2 array metadata rules (zarr-specs docs/v2/v2.0.rst, "Metadata").
 * @module
 */

import { isJsonObject, type JsonObject, type JsonValue } from "../../zarr/json.js";
import type { RawNode, ValidationContext } from "../context.js";
import { type Finding, finding, type Rule } from "../rule.js";

const REQUIRED = ["zarr_format", "shape", "chunks", "dtype", "compressor", "fill_value", "order", "filters"];
const ALLOWED = new Set([...REQUIRED, "dimension_separator"]);

function v2Arrays(ctx: ValidationContext): [RawNode, JsonObject][] {
  return [...ctx.nodes.values()]
    .filter((n) => n.format === 2 && n.kind === "array")
    .flatMap((n) => {
      const d = n.docs.find((x) => x.key.endsWith("/.zarray"))?.value;
      return isJsonObject(d) ? [[n, d] as [RawNode, JsonObject]] : [];
    });
}

const isIntList = (v: JsonValue | undefined, min: number) =>
  Array.isArray(v) && v.every((x) => typeof x === "number" && Number.isInteger(x) && x >= min);

export const Z201: Rule = {
  id: "Z2-01",
  severity: "error",
  summary: ".zarray has the eight required keys with valid values",
  reference: "Zarr v2 spec, Arrays: Metadata",
  check(ctx) {
    const out: Finding[] = [];
    for (const [n, d] of v2Arrays(ctx)) {
      const bad = (field: string, msg: string, fix: string) =>
        out.push(finding(this, n.path, `/.zarray/${field}`, msg, fix));
      for (const k of REQUIRED) if (!(k in d)) bad(k, `.zarray has no "${k}"`, `add "${k}"`);
      if ("zarr_format" in d && d.zarr_format !== 2)
        bad(
          "zarr_format",
          `"zarr_format" is ${JSON.stringify(d.zarr_format)}, not 2`,
          'set "zarr_format": 2',
        );
      if ("shape" in d && !isIntList(d.shape, 0))
        bad("shape", '"shape" is not a list of non-negative integers', "fix the shape");
      if ("chunks" in d && !isIntList(d.chunks, 1))
        bad("chunks", '"chunks" is not a list of positive integers', "fix the chunk shape");
      else if (Array.isArray(d.chunks) && Array.isArray(d.shape) && d.chunks.length !== d.shape.length) {
        bad(
          "chunks",
          `"chunks" has ${d.chunks.length} entries for ${d.shape.length} dimensions`,
          "give one chunk size per dimension",
        );
      }
      if ("order" in d && d.order !== "C" && d.order !== "F")
        bad("order", `"order" is ${JSON.stringify(d.order)}, not "C" or "F"`, 'use "C"');
      if (
        "compressor" in d &&
        d.compressor !== null &&
        !(isJsonObject(d.compressor) && typeof d.compressor.id === "string")
      ) {
        bad("compressor", '"compressor" is neither null nor an object with an "id"', "fix the compressor");
      }
      if (
        "filters" in d &&
        d.filters !== null &&
        !(Array.isArray(d.filters) && d.filters.every((f) => isJsonObject(f) && typeof f.id === "string"))
      ) {
        bad("filters", '"filters" is neither null nor a list of objects with an "id"', "fix the filters");
      }
    }
    return out;
  },
};

export const Z202: Rule = {
  id: "Z2-02",
  severity: "error",
  summary:
    'fill_value is one the engine decodes for the dtype: null, in range for integers, a number, "NaN", "Infinity" or "-Infinity" for floats',
  reference: "Zarr v2 spec, Arrays: fill_value; geozarr's reader (zarr/fill-value.ts)",
  check(ctx) {
    return v2Arrays(ctx)
      .filter(([n]) => n.fillError)
      .map(([n, d]) =>
        finding(
          this,
          n.path,
          "/.zarray/fill_value",
          n.fillError!,
          typeof d.dtype === "string" && d.dtype.slice(1, 2) === "f"
            ? 'use a number or "NaN"'
            : `use a value within the range of ${String(d.dtype)}`,
        ),
      );
  },
};

export const Z203: Rule = {
  id: "Z2-03",
  severity: "error",
  summary: 'dimension_separator, when present, is "." or "/"',
  reference: "Zarr v2 spec, Arrays: dimension_separator",
  check(ctx) {
    return v2Arrays(ctx)
      .filter(
        ([, d]) =>
          "dimension_separator" in d && d.dimension_separator !== "." && d.dimension_separator !== "/",
      )
      .map(([n, d]) =>
        finding(
          this,
          n.path,
          "/.zarray/dimension_separator",
          `dimension_separator is ${JSON.stringify(d.dimension_separator)}`,
          'use "." (the default) or "/"',
        ),
      );
  },
};

export const Z204: Rule = {
  id: "Z2-04",
  severity: "warning",
  summary: ".zarray has no keys beyond the spec's",
  reference: "Zarr v2 spec, Arrays: Metadata (other keys SHOULD NOT be present)",
  check(ctx) {
    return v2Arrays(ctx).flatMap(([n, d]) =>
      Object.keys(d)
        .filter((k) => !ALLOWED.has(k))
        .map((k) =>
          finding(
            this,
            n.path,
            `/.zarray/${k}`,
            `.zarray has a key the v2 spec does not define: "${k}"`,
            "move it to .zattrs or drop it",
          ),
        ),
    );
  },
};

export const Z205: Rule = {
  id: "Z2-05",
  severity: "error",
  summary: 'dtype carries a byte-order character ("<", ">" or "|")',
  reference: "Zarr v2 spec, Data type encoding",
  check(ctx) {
    return v2Arrays(ctx)
      .filter(
        ([, d]) =>
          !(typeof d.dtype === "string" && /^[<>|][biufcmMOSUV]\d*/.test(d.dtype)) && !Array.isArray(d.dtype),
      )
      .map(([n, d]) =>
        finding(
          this,
          n.path,
          "/.zarray/dtype",
          `dtype ${JSON.stringify(d.dtype)} has no byte order`,
          'write it like "<f8", ">i2" or "|u1"',
        ),
      );
  },
};
