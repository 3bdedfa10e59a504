/**
 * What the rules look at: every node's raw metadata documents, read from the store itself (not from
 * consolidated metadata, which rules compare against it), parsed leniently, with parse failures
 * kept as data. Nothing here throws on a bad store: a document that cannot be read or parsed is a
 * finding, not a crash. Only 1-D coordinate arrays are ever read, and only when a rule asks.
 * @module
 */

import { standardNameTable } from "../cf/standard-names.js";
import { GeoZarrError, isGeoZarrError, messageOf } from "../errors.js";
import { type DataType, isDataType, parseV2Dtype } from "../zarr/dtype.js";
import { decodeFillValue } from "../zarr/fill-value.js";
import { type NonStandardToken, readDocument } from "../zarr/hierarchy.js";
import type { JsonObject, JsonValue } from "../zarr/json.js";
import { isJsonObject } from "../zarr/json.js";
import type { ArrayMeta, StringArrayMeta } from "../zarr/metadata/model.js";
import { parseArrayV2, parseGroupV2 } from "../zarr/metadata/v2.js";
import { parseArrayV3, parseGroupV3 } from "../zarr/metadata/v3.js";
import { readVector } from "../zarr/read/vector.js";
import { joinKey, prefixOf, type Store, type StoreKey } from "../zarr/store/types.js";
import { decodeStringFill, type StringType, v2StringType, v3StringType } from "../zarr/strings.js";

export interface RawDocument {
  key: StoreKey;
  /** The parsed value, or undefined when the document is missing or does not parse. */
  value: JsonValue | undefined;
  /** Why it does not parse (invalid JSON). */
  error?: string;
  /** JSON pointers of bare NaN/Infinity tokens. */
  nonStandard: string[];
}

export interface RawNode {
  path: string;
  format: 2 | 3;
  kind: "group" | "array";
  /** v2: .zarray/.zgroup and .zattrs; v3: zarr.json. */
  docs: RawDocument[];
  /** The node's attributes (v2 .zattrs, v3 `attributes`); {} when absent or broken. */
  attributes: JsonObject;
  /** The parsed array metadata, when the documents are valid enough to read the array. */
  meta?: ArrayMeta;
  /** The same, for an array of strings (the numeric rules leave it alone). */
  strings?: StringArrayMeta;
  /** Why geozarr's reader refuses the node's metadata (ZR-02; the Z2-/Z3- rules report details). */
  metaError?: string;
  /** Why the engine does not decode the array's fill value (Z2-02, Z3-03). */
  fillError?: string;
  /** Dimension names (v2 `_ARRAY_DIMENSIONS`, v3 `dimension_names`), when well-formed. */
  dims: string[] | null;
  shape: number[] | null;
  /**
   * The node is listed only by the consolidated metadata, not in the store: readers that use
   * consolidated metadata (geozarr's, zarr-python's) see it, so the rules check its documents
   * as given there (ZC-04 reports that the store lacks it).
   */
  consolidatedOnly?: true;
}

export interface ValidationContext {
  storeName: string;
  store: Store;
  format: 2 | 3;
  nodes: Map<string, RawNode>;
  /** Nodes with metadata in both formats (ZJ-03). */
  mixed: string[];
  /** The consolidated document (v2 `.zmetadata`, or the root zarr.json holding one). */
  consolidated: RawDocument | null;
  standardNameVersion: number;
  /** The other format's output of the same conversion, for the parity rule (FV-04). */
  parity?: ValidationContext;
  /** Values of a 1-D array (coordinates), or null when it cannot be read; at most `limit` elements. */
  readSmall(path: string, limit?: number): Promise<Float64Array | null>;
}

/**
 * One document as the reader reads it (hierarchy.ts `readDocument`: the size limit checked before
 * reading, then the lenient parse with its depth limit). Whatever that throws (an I/O error, a
 * GeoZarrError, a RangeError) is a finding about the document (ZR-01), never a crash.
 */
async function readDoc(store: Store, key: StoreKey, name: string): Promise<RawDocument | null> {
  const tokens: NonStandardToken[] = [];
  try {
    const value = await readDocument(store, key, name, tokens);
    if (value === undefined) return null;
    return { key, value, nonStandard: tokens.map((t) => t.pointer) };
  } catch (err) {
    return {
      key,
      value: undefined,
      error: messageOf(err).replace(/^.*?: (invalid JSON: )?/, ""),
      nonStandard: [],
    };
  }
}

function attributesOf(node: RawNode): JsonObject {
  if (node.format === 3) {
    const d = node.docs[0]?.value;
    return isJsonObject(d) && isJsonObject(d.attributes) ? d.attributes : {};
  }
  const a = node.docs.find((d) => d.key.endsWith("/.zattrs"))?.value;
  return isJsonObject(a) ? a : {};
}

/** The raw fill value and data type of an array, decoded by the engine: why it does not decode. */
function fillErrorOf(node: RawNode, doc: JsonValue | undefined, name: string): string | undefined {
  if (!isJsonObject(doc)) return undefined;
  const where = `${name}${node.docs[0]?.key}`;
  let dt: DataType | StringType;
  try {
    const text =
      node.format === 3 ? v3StringType(doc.data_type, where) : v2StringType(doc.dtype, doc.filters, where);
    if (text) dt = text;
    else if (node.format === 3) {
      if (!isDataType(doc.data_type)) return undefined; // Z3-01 reports the data type
      dt = doc.data_type;
    } else dt = parseV2Dtype(doc.dtype, where).dataType;
  } catch {
    return undefined; // Z2-05 / Z2-01 / Z3-01 / ZR-02 report the dtype
  }
  if (doc.fill_value === undefined && node.format === 3) return '"fill_value" is required';
  try {
    if (typeof dt === "string") decodeFillValue(doc.fill_value ?? null, dt, node.format, where);
    else decodeStringFill(doc.fill_value ?? null, dt, node.format, where);
    return undefined;
  } catch (err) {
    const msg = messageOf(err);
    return msg.startsWith(where) ? msg.slice(where.length).replace(/^:?\s*/, "") : msg;
  }
}

function finish(node: RawNode, name: string): RawNode {
  node.attributes = attributesOf(node);
  const main = node.docs[0];
  const where = `${name}${main?.key}`;
  // The reader's parse of the node (hierarchy.ts addV2/addV3), recorded for ZR-02.
  try {
    if (node.kind === "array") {
      const meta =
        node.format === 2
          ? parseArrayV2(main?.value, node.docs[1]?.value, where)
          : parseArrayV3(main?.value, where);
      if (meta.kind === "strings") node.strings = meta;
      else node.meta = meta;
    } else if (node.format === 2) parseGroupV2(main?.value, node.docs[1]?.value, where);
    else parseGroupV3(main?.value, where);
  } catch (err) {
    // Whatever the reader's parse throws is its refusal of the node (a bigint where it formats a
    // number throws a TypeError): a finding, not a crash of the validator. Without the
    // "store/path/zarr.json: " the reader starts with, since findings name the node.
    const msg = messageOf(err);
    node.metaError = msg.startsWith(where) ? msg.slice(where.length).replace(/^:?\s*/, "") : msg;
  }
  if (node.kind !== "array") return node;
  node.fillError = fillErrorOf(node, main?.value, name);
  const doc = node.docs.find((d) => d.key.endsWith(node.format === 2 ? "/.zarray" : "/zarr.json"))?.value;
  const shape =
    isJsonObject(doc) && Array.isArray(doc.shape) && doc.shape.every((x) => Number.isInteger(x))
      ? (doc.shape as number[])
      : null;
  node.shape = shape;
  const rawDims =
    node.format === 2
      ? node.attributes._ARRAY_DIMENSIONS
      : isJsonObject(doc)
        ? doc.dimension_names
        : undefined;
  node.dims =
    Array.isArray(rawDims) &&
    rawDims.every((d) => typeof d === "string") &&
    (!shape || rawDims.length === shape.length)
      ? (rawDims as string[])
      : null;
  return node;
}

/** Walk the store: nodes are directories with metadata; arrays' chunk directories are not entered. */
async function walk(store: Store, name: string): Promise<{ nodes: Map<string, RawNode>; mixed: string[] }> {
  const nodes = new Map<string, RawNode>();
  const mixed: string[] = [];
  let named: Set<string> | undefined;
  const visit = async (path: string): Promise<void> => {
    const k = (n: string) => joinKey(path, n);
    const [v3, zarray, zgroup] = await Promise.all([
      readDoc(store, k("zarr.json"), name),
      readDoc(store, k(".zarray"), name),
      readDoc(store, k(".zgroup"), name),
    ]);
    if (v3 && (zarray || zgroup)) mixed.push(path);
    let node: RawNode | null = null;
    if (v3) {
      const type = isJsonObject(v3.value) ? v3.value.node_type : undefined;
      node = {
        path,
        format: 3,
        kind: type === "array" ? "array" : "group",
        docs: [v3],
        attributes: {},
        dims: null,
        shape: null,
      };
    } else if (zarray || zgroup) {
      const zattrs = await readDoc(store, k(".zattrs"), name);
      const docs = [zarray ?? zgroup!, ...(zattrs ? [zattrs] : [])];
      node = {
        path,
        format: 2,
        kind: zarray ? "array" : "group",
        docs,
        attributes: {},
        dims: null,
        shape: null,
      };
    }
    if (node) nodes.set(path, finish(node, name));
    if (node?.kind === "array") return;
    let prefixes: string[];
    try {
      prefixes = (await store.listDir(prefixOf(path))).prefixes;
    } catch (err) {
      // A store that cannot list (HTTP): the children its consolidated metadata names, each then
      // read from the store itself like any other node.
      if (!isGeoZarrError(err, "Unsupported")) return;
      named ??= await consolidatedPaths(store, name);
      prefixes = childNames(named, path);
    }
    for (const p of prefixes) await visit(joinKey(path, p));
  };
  await visit("/");
  return {
    nodes: new Map([...nodes].sort(([a], [b]) => (a === "/" ? -1 : b === "/" ? 1 : a < b ? -1 : 1))),
    mixed,
  };
}

/**
 * The nodes the consolidated metadata lists that the store itself lacks (v2 `.zmetadata` keys,
 * v3 inline `consolidated_metadata.metadata`), built from their consolidated documents, keyed
 * where the store would hold them.
 */
function consolidatedOnlyNodes(
  format: 2 | 3,
  consolidated: RawDocument | null,
  nodes: Map<string, RawNode>,
): RawNode[] {
  const doc = consolidated?.value;
  const out: RawNode[] = [];
  const add = (path: string, kind: RawNode["kind"], docs: [StoreKey, JsonValue][]) => {
    if (path === "/" || nodes.has(path)) return;
    out.push({
      path,
      format,
      kind,
      docs: docs.map(([key, value]) => ({ key, value, nonStandard: [] })),
      attributes: {},
      dims: null,
      shape: null,
      consolidatedOnly: true,
    });
  };
  if (format === 3) {
    const cm = isJsonObject(doc) ? doc.consolidated_metadata : undefined;
    if (!isJsonObject(cm) || !isJsonObject(cm.metadata)) return out;
    for (const [rel, d] of Object.entries(cm.metadata)) {
      const path = joinKey(rel);
      add(path, isJsonObject(d) && d.node_type === "array" ? "array" : "group", [
        [joinKey(path, "zarr.json"), d],
      ]);
    }
    return out;
  }
  const md = isJsonObject(doc) && isJsonObject(doc.metadata) ? doc.metadata : undefined;
  if (!md) return out;
  const paths = new Set<string>();
  for (const key of Object.keys(md)) {
    const m = /^(?:(.*)\/)?\.(zarray|zgroup)$/.exec(key);
    if (m) paths.add(joinKey(m[1] ?? ""));
  }
  for (const path of paths) {
    const rel = path === "/" ? "" : `${path.slice(1)}/`;
    const main = md[`${rel}.zarray`] ?? md[`${rel}.zgroup`];
    const isArray = md[`${rel}.zarray`] !== undefined;
    const docs: [StoreKey, JsonValue][] = [[joinKey(path, isArray ? ".zarray" : ".zgroup"), main!]];
    if (md[`${rel}.zattrs`] !== undefined) docs.push([joinKey(path, ".zattrs"), md[`${rel}.zattrs`]!]);
    add(path, isArray ? "array" : "group", docs);
  }
  return out;
}

/** Node paths named by the consolidated metadata (v3 root zarr.json, else v2 .zmetadata). */
async function consolidatedPaths(store: Store, name: string): Promise<Set<string>> {
  const paths = new Set<string>();
  const v3 = (await readDoc(store, "/zarr.json", name))?.value;
  const cm = isJsonObject(v3) ? v3.consolidated_metadata : undefined;
  if (isJsonObject(cm) && isJsonObject(cm.metadata)) {
    for (const rel of Object.keys(cm.metadata)) paths.add(joinKey(rel));
    return paths;
  }
  const zmeta = (await readDoc(store, "/.zmetadata", name))?.value;
  const meta = isJsonObject(zmeta) ? zmeta.metadata : undefined;
  if (isJsonObject(meta))
    for (const key of Object.keys(meta)) {
      const m = /^(?:(.*)\/)?\.(zarray|zgroup)$/.exec(key);
      if (m) paths.add(joinKey(m[1] ?? ""));
    }
  return paths;
}

/** The names of the nodes directly below `path` among `paths`, each once, sorted. */
function childNames(paths: Set<string>, path: string): string[] {
  const prefix = prefixOf(path);
  const out = new Set<string>();
  for (const p of paths)
    if (p !== "/" && p.startsWith(prefix)) out.add(p.slice(prefix.length).split("/")[0]!);
  return [...out].sort();
}

export async function buildContext(store: Store, storeName: string): Promise<ValidationContext> {
  const { nodes, mixed } = await walk(store, storeName);
  if (nodes.size === 0) {
    throw new GeoZarrError(
      "NotFound",
      `${storeName}: not a Zarr store (no zarr.json, .zgroup or .zarray found)`,
      { where: storeName },
    );
  }
  const formats = new Set([...nodes.values()].map((n) => n.format));
  const format: 2 | 3 = nodes.get("/")?.format ?? (formats.has(3) ? 3 : 2);
  let consolidated: RawDocument | null = null;
  if (format === 2) consolidated = await readDoc(store, "/.zmetadata", storeName);
  else {
    const root = nodes.get("/")?.docs[0];
    if (root && isJsonObject(root.value) && root.value.consolidated_metadata !== undefined)
      consolidated = root;
  }
  for (const node of consolidatedOnlyNodes(format, consolidated, nodes))
    nodes.set(node.path, finish(node, storeName));
  const sorted = new Map([...nodes].sort(([a], [b]) => (a === "/" ? -1 : b === "/" ? 1 : a < b ? -1 : 1)));
  nodes.clear();
  for (const [k, v] of sorted) nodes.set(k, v);
  const small = new Map<string, Float64Array | null>();
  return {
    storeName,
    store,
    format,
    nodes,
    mixed,
    consolidated,
    standardNameVersion: standardNameTable().version,
    async readSmall(path, limit = 10_000_000) {
      if (small.has(path)) return small.get(path)!;
      const node = nodes.get(path);
      let values: Float64Array | null = null;
      if (node?.meta && node.meta.shape.length === 1 && node.meta.shape[0]! <= limit) {
        try {
          values = await readVector(store, node.path, node.meta, storeName);
        } catch (err) {
          if (!isGeoZarrError(err)) throw err;
          values = null;
        }
      }
      small.set(path, values);
      return values;
    },
  };
}
