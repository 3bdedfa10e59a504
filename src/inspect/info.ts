/**
 * Node metadata for `geozarr info` and the inspector: a readable summary (like zarr-python's
 * `.info`), and the metadata documents themselves as one strict-JSON document.
 * @module
 */

import { dataTypeInfo, displayDtype } from "../zarr/dtype.js";
import { formatFillValue } from "../zarr/fill-value.js";
import { childrenOf, getNode, type Hierarchy } from "../zarr/hierarchy.js";
import type { JsonObject, JsonValue } from "../zarr/json.js";
import { chunkGridShape, describeCodecs, product, shardingOf } from "../zarr/metadata/model.js";
import { listChunkKeys, storedBytes } from "../zarr/store/sizes.js";
import { displayStringType, formatStringFill, itemSize } from "../zarr/strings.js";

export interface ArrayInfo {
  kind: "array";
  path: string;
  zarrFormat: 2 | 3;
  dtype: string;
  shape: number[];
  chunks: number[];
  innerChunks?: number[];
  order: "C" | "F";
  codecs: string[];
  fillValue: string;
  dimensions: (string | null)[] | null;
  attributes: JsonObject;
  /** Decoded size; for variable-length strings (unknown until read) the stored size. */
  bytes: number;
  chunksTotal: number;
  chunksStored: number;
  storedBytes: number | null;
}

export interface GroupInfo {
  kind: "group";
  path: string;
  zarrFormat: 2 | 3;
  consolidated: boolean;
  arrays: string[];
  groups: string[];
  attributes: JsonObject;
}

export async function nodeInfo(h: Hierarchy, path = "/"): Promise<ArrayInfo | GroupInfo> {
  const node = getNode(h, path);
  const meta = node.meta;
  if (meta.kind === "group") {
    const children = childrenOf(h, node.path);
    const names = (kind: "array" | "group") =>
      children
        .filter((c) => (c.meta.kind === "group") === (kind === "group"))
        .map((c) => c.path.slice(c.path.lastIndexOf("/") + 1));
    return {
      kind: "group",
      path: node.path,
      zarrFormat: meta.zarrFormat,
      consolidated: h.consolidated !== null,
      arrays: names("array"),
      groups: names("group"),
      attributes: meta.attributes,
    };
  }
  const keys = await listChunkKeys(h.store, node.path, meta);
  const sharding = shardingOf(meta);
  const stored = (await storedBytes(h.store, node.path, keys)) ?? null;
  const strings = meta.kind === "strings";
  const size = strings ? itemSize(meta.stringType) : dataTypeInfo(meta.dataType).size;
  return {
    kind: "array",
    path: node.path,
    zarrFormat: meta.zarrFormat,
    dtype: strings ? displayStringType(meta.stringType) : displayDtype(meta.dataType, meta.endian),
    shape: meta.shape,
    chunks: meta.chunkShape,
    ...(sharding ? { innerChunks: sharding.chunkShape } : {}),
    order: meta.order,
    codecs: describeCodecs(meta),
    fillValue: strings ? formatStringFill(meta.fillValue, meta.stringType) : formatFillValue(meta.fillValue),
    dimensions: meta.dimensionNames,
    attributes: meta.attributes,
    bytes: size === undefined ? (stored ?? 0) : product(meta.shape) * size,
    chunksTotal: product(chunkGridShape(meta.shape, meta.chunkShape)),
    chunksStored: keys.length,
    storedBytes: stored,
  };
}

/**
 * The consolidated metadata of the store: the one it has (v2 `.zmetadata`, or the v3 root
 * `zarr.json` with `consolidated_metadata`), or the same document built from the nodes.
 */
export function consolidatedDocument(h: Hierarchy): JsonObject {
  if (h.consolidated) return h.consolidated;
  if (h.zarrFormat === 2) {
    const metadata: JsonObject = {};
    for (const node of h.nodes.values())
      for (const [key, doc] of Object.entries(node.documents)) metadata[key.slice(1)] = doc;
    return { metadata, zarr_consolidated_format: 1 };
  }
  const root = h.nodes.get("/");
  const rootDoc = (root?.documents["/zarr.json"] ?? {}) as JsonObject;
  const metadata: JsonObject = {};
  for (const node of h.nodes.values()) {
    if (node.path === "/") continue;
    metadata[node.path.slice(1)] = Object.values(node.documents)[0] as JsonValue;
  }
  return { ...rootDoc, consolidated_metadata: { kind: "inline", must_understand: false, metadata } };
}

/** One node's documents: v3 its zarr.json; v2 {".zarray"|".zgroup": ..., ".zattrs": ...}. */
export function nodeDocuments(h: Hierarchy, path: string): JsonObject {
  const node = getNode(h, path);
  if (h.zarrFormat === 3) return Object.values(node.documents)[0] as JsonObject;
  const out: JsonObject = {};
  for (const [key, doc] of Object.entries(node.documents)) out[key.slice(key.lastIndexOf("/") + 1)] = doc;
  return out;
}

const unescapePointer = (s: string) => s.replace(/~1/g, "/").replace(/~0/g, "~");
const escapePointer = (s: string) => s.replace(/~/g, "~0").replace(/\//g, "~1");

/**
 * JSON pointers, into {@link nodeDocuments}' document for `path`, of values that were bare
 * NaN/Infinity tokens in the store (non-standard JSON; strict output carries them as strings).
 * Tokens are found in the node's own documents or in the consolidated metadata holding them.
 */
export function nonStandardPointers(h: Hierarchy, path: string): string[] {
  const node = getNode(h, path);
  const v2 = h.zarrFormat === 2;
  const rel = node.path === "/" ? "" : node.path.slice(1);
  const out = new Set<string>();
  for (const t of h.nonStandardJson) {
    if (t.key in node.documents) {
      out.add(v2 ? `/${escapePointer(t.key.slice(t.key.lastIndexOf("/") + 1))}${t.pointer}` : t.pointer);
      continue;
    }
    // Consolidated copies: v2 /.zmetadata "/metadata/<key>/...", v3 /zarr.json "/consolidated_metadata/metadata/<path>/...".
    const m = /^\/(?:consolidated_metadata\/)?metadata\/([^/]+)(\/.*)?$/.exec(t.pointer);
    if (!m || (t.key !== "/.zmetadata" && t.key !== "/zarr.json")) continue;
    const key = unescapePointer(m[1]!);
    const rest = m[2] ?? "";
    if (v2 && t.key === "/.zmetadata") {
      const slash = key.lastIndexOf("/");
      const owner = slash < 0 ? "" : key.slice(0, slash);
      if (owner === rel) out.add(`/${escapePointer(key.slice(slash + 1))}${rest}`);
    } else if (!v2 && t.key === "/zarr.json" && key === rel) out.add(rest);
  }
  return [...out];
}
