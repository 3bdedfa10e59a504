/**
 * Zarr v3 metadata rules (zarr-specs docs/v3/core/index.rst; codecs/*; data-types).
 * @module
 */

import { dataTypeInfo, isDataType } from "../../zarr/dtype.js";
import { isJsonObject, type JsonObject, type JsonValue } from "../../zarr/json.js";
import { v3StringType } from "../../zarr/strings.js";
import type { RawNode, ValidationContext } from "../context.js";
import { nameOf } from "../roles.js";
import { type Finding, finding, type Rule } from "../rule.js";

function v3Docs(ctx: ValidationContext, kind?: "array" | "group"): [RawNode, JsonObject][] {
  return [...ctx.nodes.values()]
    .filter((n) => n.format === 3 && (!kind || n.kind === kind))
    .flatMap((n) =>
      isJsonObject(n.docs[0]?.value) ? [[n, n.docs[0]!.value as JsonObject] as [RawNode, JsonObject]] : [],
    );
}

/** A string extension data type (zarr-extensions; zarr/strings.ts), well-formed or not (ZR-02 says). */
function isStringType(dt: unknown): boolean {
  try {
    return v3StringType(dt, "") !== null;
  } catch {
    return true;
  }
}

const CODEC_KIND: Record<string, "aa" | "ab" | "bb" | undefined> = {
  transpose: "aa",
  scale_offset: "aa",
  cast_value: "aa",
  bitround: "aa",
  bytes: "ab",
  sharding_indexed: "ab",
  "vlen-utf8": "ab",
  "vlen-bytes": "ab",
  gzip: "bb",
  zstd: "bb",
  blosc: "bb",
  crc32c: "bb",
};

const codecName = (c: JsonValue) =>
  typeof c === "string" ? c : isJsonObject(c) && typeof c.name === "string" ? c.name : null;
const codecConfig = (c: JsonValue): JsonObject =>
  isJsonObject(c) && isJsonObject(c.configuration) ? c.configuration : {};

export const Z301: Rule = {
  id: "Z3-01",
  severity: "error",
  summary:
    "Array zarr.json has shape, data_type, a regular chunk_grid, chunk_key_encoding, fill_value (not null) and codecs",
  reference: "Zarr v3 core, Array metadata",
  check(ctx) {
    const out: Finding[] = [];
    for (const [n, d] of v3Docs(ctx, "array")) {
      const bad = (f: string, msg: string, fix: string) => out.push(finding(this, n.path, `/${f}`, msg, fix));
      if (!Array.isArray(d.shape)) bad("shape", 'no "shape" list', "add the shape");
      if (!isDataType(d.data_type) && !isStringType(d.data_type))
        bad(
          "data_type",
          `data_type ${JSON.stringify(d.data_type)} is neither a core data type nor a string type (string, null_terminated_bytes, fixed_length_utf32)`,
          "use a core data type name, or string with the vlen-utf8 codec",
        );
      const grid = d.chunk_grid;
      const cs =
        isJsonObject(grid) && isJsonObject(grid.configuration) ? grid.configuration.chunk_shape : undefined;
      if (!isJsonObject(grid) || grid.name !== "regular" || !Array.isArray(cs))
        bad(
          "chunk_grid",
          'chunk_grid is not {"name": "regular", "configuration": {"chunk_shape": [...]}}',
          "write a regular chunk grid",
        );
      else if (Array.isArray(d.shape) && cs.length !== d.shape.length)
        bad(
          "chunk_grid/configuration/chunk_shape",
          `chunk_shape has ${cs.length} entries for ${d.shape.length} dimensions`,
          "one chunk size per dimension",
        );
      if (!isJsonObject(d.chunk_key_encoding))
        bad("chunk_key_encoding", 'no "chunk_key_encoding"', 'add {"name": "default"}');
      if (d.fill_value === undefined || d.fill_value === null)
        bad(
          "fill_value",
          "fill_value is missing or null",
          "record the fill value (NaN for floats with missing data)",
        );
      if (!Array.isArray(d.codecs) || d.codecs.length === 0)
        bad("codecs", 'no "codecs" list', 'add at least {"name": "bytes"}');
    }
    return out;
  },
};

export const Z302: Rule = {
  id: "Z3-02",
  severity: "error",
  summary:
    "Codecs are ordered array->array, one array->bytes, bytes->bytes; bytes has endian for multi-byte types",
  reference: "Zarr v3 core, Codecs",
  check(ctx) {
    const out: Finding[] = [];
    const checkChain = (n: RawNode, codecs: JsonValue[], where: string, dt: string) => {
      const kinds = codecs.map((c) => CODEC_KIND[codecName(c) ?? ""] ?? "?");
      const known = kinds.filter((k) => k !== "?");
      const ab = known.filter((k) => k === "ab").length;
      const order = known.join(",");
      if (ab !== 1)
        out.push(
          finding(
            this,
            n.path,
            where,
            `the codecs have ${ab} array-to-bytes codecs (one is required)`,
            'use exactly one of "bytes" or "sharding_indexed"',
          ),
        );
      else if (!/^(aa,)*ab(,bb)*$/.test(order))
        out.push(
          finding(
            this,
            n.path,
            where,
            `codecs are out of order (${codecs.map(codecName).join(", ")})`,
            "order them array->array, array->bytes, bytes->bytes",
          ),
        );
      codecs.forEach((c, i) => {
        if (
          codecName(c) === "bytes" &&
          isDataType(dt) &&
          dataTypeInfo(dt).size > 1 &&
          codecConfig(c).endian === undefined
        ) {
          out.push(
            finding(
              this,
              n.path,
              `${where}/${i}/configuration/endian`,
              `the bytes codec has no "endian" for ${dt}`,
              'add "endian": "little"',
            ),
          );
        }
        if (codecName(c) === "sharding_indexed") {
          const inner = codecConfig(c).codecs;
          if (Array.isArray(inner)) checkChain(n, inner, `${where}/${i}/configuration/codecs`, dt);
        }
      });
    };
    for (const [n, d] of v3Docs(ctx, "array"))
      if (Array.isArray(d.codecs)) checkChain(n, d.codecs, "/codecs", String(d.data_type));
    return out;
  },
};

export const Z303: Rule = {
  id: "Z3-03",
  severity: "error",
  summary:
    'fill_value is one the engine decodes for data_type: in range for integers, a number, "NaN", "Infinity", "-Infinity" or raw bits "0x..." for floats',
  reference: "Zarr v3 data types, Fill value representation; geozarr's reader (zarr/fill-value.ts)",
  check(ctx) {
    // Missing or null fill values are Z3-01's.
    return v3Docs(ctx, "array")
      .filter(([n, d]) => n.fillError && d.fill_value !== undefined && d.fill_value !== null)
      .map(([n, d]) =>
        finding(
          this,
          n.path,
          "/fill_value",
          n.fillError!,
          isDataType(d.data_type) && dataTypeInfo(d.data_type).kind === "float"
            ? 'use a number, "NaN", "Infinity" or "-Infinity"'
            : `use a value within the range of ${String(d.data_type)}`,
        ),
      );
  },
};

export const Z304: Rule = {
  id: "Z3-04",
  severity: "error",
  summary: "dimension_names has one entry per dimension, each a string or null",
  reference: "Zarr v3 core, dimension_names",
  check(ctx) {
    return v3Docs(ctx, "array")
      .filter(([, d]) => d.dimension_names !== undefined)
      .filter(
        ([, d]) =>
          !(
            Array.isArray(d.dimension_names) &&
            d.dimension_names.every((x) => typeof x === "string" || x === null) &&
            (!Array.isArray(d.shape) || d.dimension_names.length === d.shape.length)
          ),
      )
      .map(([n]) =>
        finding(
          this,
          n.path,
          "/dimension_names",
          "dimension_names is not one string (or null) per dimension",
          "give each dimension a name",
        ),
      );
  },
};

export const Z305: Rule = {
  id: "Z3-05",
  severity: "warning",
  summary: "Non-null dimension names are distinct within an array",
  reference: "Zarr v3 core, dimension_names",
  check(ctx) {
    return v3Docs(ctx, "array")
      .filter(([, d]) => Array.isArray(d.dimension_names))
      .filter(([, d]) => {
        const names = (d.dimension_names as JsonValue[]).filter((x) => typeof x === "string");
        return new Set(names).size !== names.length;
      })
      .map(([n]) =>
        finding(
          this,
          n.path,
          "/dimension_names",
          "a dimension name is used twice",
          "name every dimension differently",
        ),
      );
  },
};

const ARRAY_KEYS = new Set([
  "zarr_format",
  "node_type",
  "shape",
  "data_type",
  "chunk_grid",
  "chunk_key_encoding",
  "fill_value",
  "codecs",
  "attributes",
  "dimension_names",
  "storage_transformers",
]);
const GROUP_KEYS = new Set(["zarr_format", "node_type", "attributes", "consolidated_metadata"]);

export const Z306: Rule = {
  id: "Z3-06",
  severity: "error",
  summary: 'No unknown top-level fields unless they carry "must_understand": false',
  reference: "Zarr v3 core, Extension points",
  check(ctx) {
    return v3Docs(ctx).flatMap(([n, d]) =>
      Object.entries(d)
        .filter(
          ([k, v]) =>
            !(n.kind === "array" ? ARRAY_KEYS : GROUP_KEYS).has(k) &&
            !(isJsonObject(v) && v.must_understand === false),
        )
        .map(([k]) =>
          finding(
            this,
            n.path,
            `/${k}`,
            `unknown field "${k}" without "must_understand": false`,
            'move it to "attributes" or mark it "must_understand": false',
          ),
        ),
    );
  },
};

const BLOSC_CNAMES = ["lz4", "lz4hc", "blosclz", "zstd", "snappy", "zlib"];

export const Z307: Rule = {
  id: "Z3-07",
  severity: "error",
  summary: "Codec configurations are valid (zstd level/checksum, gzip level, blosc, sharding chunk_shape)",
  reference: "Zarr v3 codecs: zstd (zarr-extensions), gzip, blosc, sharding-indexed",
  check(ctx) {
    const out: Finding[] = [];
    const visit = (n: RawNode, codecs: JsonValue[], where: string, shard: JsonValue) => {
      codecs.forEach((c, i) => {
        const name = codecName(c);
        const cfg = codecConfig(c);
        const at = `${where}/${i}/configuration`;
        const bad = (msg: string, fix: string) => out.push(finding(this, n.path, at, `${name}: ${msg}`, fix));
        const int = (v: JsonValue | undefined, lo: number, hi: number) =>
          typeof v === "number" && Number.isInteger(v) && v >= lo && v <= hi;
        if (name === "zstd") {
          if (!int(cfg.level, -131072, 22))
            bad(`level ${JSON.stringify(cfg.level)} is not an integer in [-131072, 22]`, "set a valid level");
          if (typeof cfg.checksum !== "boolean")
            bad(`checksum ${JSON.stringify(cfg.checksum)} is not a boolean`, 'add "checksum": false');
        }
        if (name === "gzip" && !int(cfg.level, 0, 9))
          bad(`level ${JSON.stringify(cfg.level)} is not in 0..9`, "set a level from 0 to 9");
        if (name === "blosc") {
          if (!BLOSC_CNAMES.includes(String(cfg.cname)))
            bad(`cname ${JSON.stringify(cfg.cname)} is unknown`, `use one of ${BLOSC_CNAMES.join(", ")}`);
          if (!int(cfg.clevel, 0, 9))
            bad(`clevel ${JSON.stringify(cfg.clevel)} is not in 0..9`, "set clevel from 0 to 9");
          if (!["noshuffle", "shuffle", "bitshuffle"].includes(String(cfg.shuffle)))
            bad(
              `shuffle ${JSON.stringify(cfg.shuffle)} is not noshuffle, shuffle or bitshuffle`,
              "use a shuffle name",
            );
          if (cfg.shuffle !== "noshuffle" && !int(cfg.typesize, 1, 255))
            bad("typesize is required with shuffling", "set typesize to the element size");
        }
        if (name === "sharding_indexed") {
          const inner = cfg.chunk_shape;
          if (
            !Array.isArray(inner) ||
            !Array.isArray(shard) ||
            inner.length !== shard.length ||
            inner.some((x, d) => typeof x !== "number" || (shard[d] as number) % x !== 0)
          ) {
            bad(
              "chunk_shape does not divide the shard shape",
              "make the shard shape a multiple of the inner chunk shape",
            );
          }
          if (Array.isArray(cfg.codecs)) visit(n, cfg.codecs, `${at}/codecs`, null);
        }
      });
    };
    for (const [n, d] of v3Docs(ctx, "array")) {
      const grid =
        isJsonObject(d.chunk_grid) && isJsonObject(d.chunk_grid.configuration)
          ? d.chunk_grid.configuration.chunk_shape
          : null;
      if (Array.isArray(d.codecs)) visit(n, d.codecs, "/codecs", grid ?? null);
    }
    return out;
  },
};

export const Z308: Rule = {
  id: "Z3-08",
  severity: "error",
  summary: 'Node names are legal: not empty, not only dots, not starting with "__", not "zarr.json"',
  reference: "Zarr v3 core, Node names",
  check(ctx) {
    return [...ctx.nodes.values()]
      .filter((n) => n.format === 3 && n.path !== "/")
      .filter((n) => {
        const name = nameOf(n.path);
        return name === "" || /^\.+$/.test(name) || name.startsWith("__") || name === "zarr.json";
      })
      .map((n) =>
        finding(this, n.path, "", `"${nameOf(n.path)}" is not a legal node name`, "rename the node"),
      );
  },
};

export const Z309: Rule = {
  id: "Z3-09",
  severity: "warning",
  summary: "v3 arrays do not carry the v2 attribute _ARRAY_DIMENSIONS (dimension_names replaces it)",
  reference: "geozarr-spec PR #85; xarray zarr encoding spec",
  check(ctx) {
    return v3Docs(ctx, "array")
      .filter(([n]) => n.attributes._ARRAY_DIMENSIONS !== undefined)
      .map(([n]) =>
        finding(
          this,
          n.path,
          "/attributes/_ARRAY_DIMENSIONS",
          "a v3 array has the v2 attribute _ARRAY_DIMENSIONS",
          "remove it; keep dimension_names",
        ),
      );
  },
};

export const Z310: Rule = {
  id: "Z3-10",
  severity: "error",
  summary: "Arrays declare no storage_transformers (geozarr's reader supports none)",
  reference: "Zarr v3 core, storage_transformers (a reader must refuse transformers it does not support)",
  check(ctx) {
    return v3Docs(ctx, "array")
      .filter(([, d]) => d.storage_transformers !== undefined)
      .filter(([, d]) => !(Array.isArray(d.storage_transformers) && d.storage_transformers.length === 0))
      .map(([n]) =>
        finding(
          this,
          n.path,
          "/storage_transformers",
          "the array declares storage_transformers, which geozarr cannot read",
          "rewrite the array without storage transformers (geozarr convert does)",
        ),
      );
  },
};
