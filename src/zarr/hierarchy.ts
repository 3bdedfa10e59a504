/**
 * Open a Zarr hierarchy: find its format, list its nodes and parse their metadata.
 *
 * Nodes come from consolidated metadata when the store has it (v2 `.zmetadata`, the zarr-python
 * convention; v3 inline `consolidated_metadata`, core spec "Additional fields"), otherwise from a
 * walk of the store. Every document is parsed leniently (see json.ts): bare NaN/Infinity tokens are
 * accepted and recorded in `nonStandardJson`.
 *
 * @module
 */

import { GeoZarrError, isGeoZarrError } from "../errors.js";
import { faultPoint } from "../faults.js";
import {
  checkDocumentSize,
  isJsonObject,
  type JsonObject,
  type JsonValue,
  parseJsonLenient,
} from "./json.js";
import { MAX_DOCUMENT_BYTES } from "./limits.js";
import type { NodeMeta } from "./metadata/model.js";
import { parseArrayV2, parseGroupV2 } from "./metadata/v2.js";
import { nodeTypeV3, parseArrayV3, parseGroupV3 } from "./metadata/v3.js";
import { isSized } from "./store/sizes.js";
import {
  joinKey,
  type Listing,
  prefixOf,
  type ReadableStore,
  type Store,
  type StoreKey,
} from "./store/types.js";

export interface NodeRecord {
  /** "/" for the root, "/a/b" below it. */
  path: string;
  meta: NodeMeta;
  /** The raw documents of this node as parsed, keyed by store key ("/a/.zarray", "/a/zarr.json"). */
  documents: Record<string, JsonValue>;
}

export interface NonStandardToken {
  key: string;
  pointer: string;
}

export interface Hierarchy {
  store: Store;
  /** How the store is named in messages (usually the path the user gave). */
  name: string;
  zarrFormat: 2 | 3;
  /** All nodes, sorted by path, the root first. */
  nodes: Map<string, NodeRecord>;
  /** Where the node list came from. */
  source: "consolidated" | "listing";
  /** The consolidated document when there is one (`.zmetadata`, or the root zarr.json). */
  consolidated: JsonObject | null;
  nonStandardJson: NonStandardToken[];
  /** Store entries the walk did not follow (directory links), and why. */
  notFollowed: { key: string; reason: string }[];
  /**
   * Arrays whose metadata is valid but which this version cannot read (a string dtype, a
   * structured one), by path, with the error that says why: listed by `tree`, refused only when
   * asked for, so one such array does not block the rest of the store.
   */
  unsupported: Map<string, GeoZarrError>;
}

export interface OpenOptions {
  /** Name used in messages; default "store". */
  name?: string;
  /** "auto" uses consolidated metadata when present; "ignore" always walks the store. */
  consolidated?: "auto" | "ignore";
}

/** Read and leniently parse one metadata document; undefined when the key is absent. */
export async function readDocument(
  store: ReadableStore,
  key: StoreKey,
  name: string,
  nonStandard?: NonStandardToken[],
): Promise<JsonValue | undefined> {
  // A document larger than the parser accepts is refused before it is read into memory (remote
  // stores: from the response's length, in the same request).
  let bytes: Uint8Array | undefined;
  if (store.getUpTo) {
    const got = await store.getUpTo(key, MAX_DOCUMENT_BYTES);
    if (typeof got === "number") checkDocumentSize(got, `${name}${key}`);
    bytes = got as Uint8Array | undefined;
  } else {
    const size = isSized(store) ? await store.sizeOf(key) : undefined;
    if (size !== undefined) checkDocumentSize(size, `${name}${key}`);
    bytes = await store.get(key);
  }
  if (bytes === undefined) return undefined;
  const parsed = parseJsonLenient(bytes, `${name}${key}`);
  for (const pointer of parsed.nonStandard) nonStandard?.push({ key, pointer });
  return parsed.value;
}

export async function openHierarchy(store: Store, options: OpenOptions = {}): Promise<Hierarchy> {
  await faultPoint("open-store");
  const name = (options.name ?? "store").replace(/\/+$/, "");
  const nonStandardJson: NonStandardToken[] = [];
  const read = (key: StoreKey) => readDocument(store, key, name, nonStandardJson);

  const rootV3 = await read("/zarr.json");
  const rootZgroup = rootV3 === undefined ? await read("/.zgroup") : undefined;
  const rootZarray = rootV3 === undefined && rootZgroup === undefined ? await read("/.zarray") : undefined;
  if (rootV3 === undefined && rootZgroup === undefined && rootZarray === undefined) {
    const why = store.explainMissing?.();
    throw new GeoZarrError(
      "NotFound",
      `${name}: not a Zarr store (no zarr.json, .zgroup or .zarray at its root)${why ? `; ${why}` : ""}`,
      { where: name },
    );
  }
  const zarrFormat = rootV3 !== undefined ? 3 : 2;
  const useConsolidated = (options.consolidated ?? "auto") === "auto";
  const h: Hierarchy = {
    store,
    name,
    zarrFormat,
    nodes: new Map(),
    source: "listing",
    consolidated: null,
    nonStandardJson,
    notFollowed: [],
    unsupported: new Map(),
  };

  if (zarrFormat === 3) {
    const cm = isJsonObject(rootV3) ? rootV3.consolidated_metadata : undefined;
    if (useConsolidated && isJsonObject(cm) && isJsonObject(cm.metadata)) {
      h.source = "consolidated";
      h.consolidated = rootV3 as JsonObject;
      addV3(h, "/", rootV3!, "/zarr.json");
      for (const [rel, doc] of Object.entries(cm.metadata)) {
        const path = joinKey(rel);
        addV3(h, path, doc, `/zarr.json#consolidated_metadata/${rel}`);
      }
    } else {
      await walkV3(h, "/", rootV3!, read);
    }
  } else {
    const zmeta = useConsolidated && rootZarray === undefined ? await read("/.zmetadata") : undefined;
    if (zmeta !== undefined) {
      h.source = "consolidated";
      h.consolidated = consolidatedV2(zmeta, `${name}/.zmetadata`);
      addFromZmetadata(h, h.consolidated);
    } else {
      await walkV2(h, "/", read, { zgroup: rootZgroup, zarray: rootZarray });
    }
  }
  h.nodes = new Map([...h.nodes.entries()].sort(([a], [b]) => comparePaths(a, b)));
  return h;
}

function comparePaths(a: string, b: string): number {
  if (a === "/") return -1;
  if (b === "/") return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Parse a node's metadata; an array of a kind we cannot read is set aside, not fatal. */
function parsed(h: Hierarchy, path: string, parse: () => NodeMeta): NodeMeta | undefined {
  try {
    return parse();
  } catch (err) {
    if (!isGeoZarrError(err, "Unsupported")) throw err;
    h.unsupported.set(path, err);
    return undefined;
  }
}

function addV3(h: Hierarchy, path: string, doc: JsonValue, key: string): void {
  const where = `${h.name}${key}`;
  const meta = parsed(h, path, () =>
    nodeTypeV3(doc, where) === "array" ? parseArrayV3(doc, where) : parseGroupV3(doc, where),
  );
  if (meta) h.nodes.set(path, { path, meta, documents: { [key]: doc } });
}

async function walkV3(
  h: Hierarchy,
  path: string,
  doc: JsonValue,
  read: (key: StoreKey) => Promise<JsonValue | undefined>,
): Promise<void> {
  addV3(h, path, doc, joinKey(path, "zarr.json"));
  if (h.nodes.get(path)?.meta.kind !== "group") return; // chunks live below arrays, not nodes
  const { prefixes } = await listChildren(h, path);
  for (const child of prefixes) {
    const childPath = joinKey(path, child);
    const childDoc = await read(joinKey(childPath, "zarr.json"));
    if (childDoc !== undefined) await walkV3(h, childPath, childDoc, read);
  }
}

async function walkV2(
  h: Hierarchy,
  path: string,
  read: (key: StoreKey) => Promise<JsonValue | undefined>,
  known?: { zgroup: JsonValue | undefined; zarray: JsonValue | undefined },
): Promise<void> {
  const zarrayKey = joinKey(path, ".zarray");
  const zgroupKey = joinKey(path, ".zgroup");
  const zattrsKey = joinKey(path, ".zattrs");
  const zarray = known ? known.zarray : await read(zarrayKey);
  const zgroup = zarray === undefined ? (known ? known.zgroup : await read(zgroupKey)) : undefined;
  if (zarray === undefined && zgroup === undefined) return;
  const zattrs = await read(zattrsKey);
  addV2(h, path, zarray, zgroup, zattrs);
  if (zarray !== undefined) return;
  const { prefixes } = await listChildren(h, path);
  for (const child of prefixes) await walkV2(h, joinKey(path, child), read);
}

/** The child prefixes of a node, recording what the store declined to list. */
async function listChildren(h: Hierarchy, path: string): Promise<Listing> {
  const listing = await h.store.listDir(prefixOf(path));
  for (const s of listing.skipped ?? []) h.notFollowed.push({ key: joinKey(path, s.name), reason: s.reason });
  return listing;
}

function addV2(
  h: Hierarchy,
  path: string,
  zarray: JsonValue | undefined,
  zgroup: JsonValue | undefined,
  zattrs: JsonValue | undefined,
): void {
  const documents: Record<string, JsonValue> = {};
  const k = (name: string) => joinKey(path, name);
  if (zarray !== undefined) documents[k(".zarray")] = zarray;
  if (zgroup !== undefined) documents[k(".zgroup")] = zgroup;
  if (zattrs !== undefined) documents[k(".zattrs")] = zattrs;
  const meta = parsed(h, path, () =>
    zarray !== undefined
      ? parseArrayV2(zarray, zattrs, `${h.name}${k(".zarray")}`)
      : parseGroupV2(zgroup, zattrs, `${h.name}${k(".zgroup")}`),
  );
  if (meta) h.nodes.set(path, { path, meta, documents });
}

function consolidatedV2(doc: JsonValue, where: string): JsonObject {
  if (!isJsonObject(doc) || !isJsonObject(doc.metadata)) {
    throw new GeoZarrError(
      "InvalidMetadata",
      `${where}: consolidated metadata must have a "metadata" object`,
      {
        where,
      },
    );
  }
  return doc;
}

function addFromZmetadata(h: Hierarchy, zmeta: JsonObject): void {
  const meta = zmeta.metadata as JsonObject;
  const paths = new Set<string>();
  for (const key of Object.keys(meta)) {
    const m = /^(?:(.*)\/)?\.(zarray|zgroup|zattrs)$/.exec(key);
    if (m) paths.add(joinKey(m[1] ?? ""));
  }
  for (const path of paths) {
    const rel = path === "/" ? "" : `${path.slice(1)}/`;
    const zarray = meta[`${rel}.zarray`];
    const zgroup = meta[`${rel}.zgroup`];
    if (zarray === undefined && zgroup === undefined) continue; // attributes without a node
    addV2(h, path, zarray, zgroup, meta[`${rel}.zattrs`]);
  }
}

/** The node at `path`, or a NotFound error naming the store. */
export function getNode(h: Hierarchy, path: string): NodeRecord {
  const node = h.nodes.get(joinKey(path));
  const unsupported = h.unsupported.get(joinKey(path));
  if (unsupported) throw unsupported;
  if (!node) {
    throw new GeoZarrError("NotFound", `${h.name}: no array or group named ${JSON.stringify(path)}`, {
      where: path,
    });
  }
  return node;
}

/** Direct children of a group, in path order. */
export function childrenOf(h: Hierarchy, path: string): NodeRecord[] {
  const prefix = prefixOf(path);
  return [...h.nodes.values()].filter(
    (n) => n.path !== "/" && n.path.startsWith(prefix) && !n.path.slice(prefix.length).includes("/"),
  );
}
