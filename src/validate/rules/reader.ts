/**
 * One definition of valid: everything geozarr's own reader refuses is an error of the validator,
 * found by calling the reader's code rather than a copy of it. ZR-01: documents that do not parse
 * (the reader's JSON parse, with its limits); ZR-02: node metadata the reader refuses (its array
 * and group parsers); ZR-03: codec chains it cannot build (the engine's codec check, no chunk
 * read). Fill values (Z2-02, Z3-03) and storage transformers (Z3-10) have rules of their own, so
 * ZR-02 leaves them to those.
 * @module
 */

import { isGeoZarrError, messageOf } from "../../errors.js";
import { isJsonObject } from "../../zarr/json.js";
import { checkCodecChain } from "../../zarr/read/codec-chain.js";
import type { RawNode } from "../context.js";
import { type Finding, finding, metaPointer, type Rule } from "../rule.js";
import { docName, docPointer, everyDocument } from "./zarr-store.js";

export const ZR01: Rule = {
  id: "ZR-01",
  severity: "error",
  summary:
    "Every metadata document can be read and parses with geozarr's reader (JSON syntax, nesting depth and size limits)",
  reference:
    "Zarr v2 spec, Metadata; Zarr v3 core, Metadata (JSON documents); geozarr's reader (zarr/json.ts)",
  check(ctx) {
    return everyDocument(ctx)
      .filter(([, d]) => d.error)
      .map(([path, d]) =>
        finding(
          this,
          path,
          docPointer(d),
          `${docName(d.key)} cannot be read as JSON: ${d.error}`,
          "rewrite the document as valid JSON",
        ),
      );
  },
};

/** Nodes whose refusal another reader rule already names. */
function explainedElsewhere(n: RawNode): boolean {
  if (n.docs.some((d) => d.error)) return true; // ZR-01
  if (n.fillError) return true; // Z2-02, Z3-03
  const doc = n.docs[0]?.value;
  // Z3-10
  return (
    n.format === 3 &&
    isJsonObject(doc) &&
    Array.isArray(doc.storage_transformers) &&
    doc.storage_transformers.length > 0
  );
}

export const ZR02: Rule = {
  id: "ZR-02",
  severity: "error",
  summary:
    "geozarr's reader accepts every node's metadata (array and group documents as parsed for reading: info, stats and convert refuse the store otherwise)",
  reference:
    "Zarr v2 spec, Metadata; Zarr v3 core, Array and Group metadata; geozarr's reader (zarr/metadata/)",
  check(ctx) {
    return [...ctx.nodes.values()]
      .filter((n) => n.metaError && !explainedElsewhere(n))
      .map((n) =>
        finding(
          this,
          n.path,
          "",
          `geozarr cannot read this ${n.kind}: ${n.metaError}`,
          "fix the document as the message says",
        ),
      );
  },
};

export const ZR03: Rule = {
  id: "ZR-03",
  severity: "error",
  summary:
    "geozarr's reader can build every array's codec chain: known codecs (v3 names, numcodecs ids in v2) with configurations they accept",
  reference:
    "Zarr v3 core, Codecs; Zarr v2 spec, compressor and filters; geozarr's reader (zarr/read/codec-chain.ts)",
  async check(ctx) {
    const out: Finding[] = [];
    for (const n of ctx.nodes.values()) {
      const meta = n.meta ?? n.strings;
      if (!meta) continue; // ZR-02 reports metadata the reader cannot parse
      try {
        await checkCodecChain(meta, `${ctx.storeName}${n.path}`);
      } catch (err) {
        if (!isGeoZarrError(err)) throw err;
        out.push(
          finding(
            this,
            n.path,
            metaPointer(n.format, n.format === 3 ? "codecs" : "compressor"),
            messageOf(err).slice(`${ctx.storeName}${n.path}: `.length),
            "use a codec geozarr reads (zstd, gzip, zlib, blosc, lz4, bz2, crc32c, transpose, bytes, sharding)",
          ),
        );
      }
    }
    return out;
  },
};
