/**
 * geozarr: read, write, inspect and validate GeoZarr stores (Zarr v2 and v3).
 *
 * This entry point has no Node.js-only imports; `geozarr/node` adds the file system, conversion
 * and worker threads.
 *
 * @module
 */

export { type ErrorTag, GeoZarrError, isGeoZarrError } from "./errors.js";
export {
  type ArrayInfo,
  consolidatedDocument,
  type GroupInfo,
  nodeDocuments,
  nodeInfo,
} from "./inspect/info.js";
export { buildTree, type TreeNode } from "./inspect/tree.js";
export { childrenOf, getNode, type Hierarchy, type NodeRecord, openHierarchy } from "./zarr/hierarchy.js";
export { parseJsonLenient, toStrictJson } from "./zarr/json.js";
export type { ArrayMeta, CodecSpec, GroupMeta, NodeMeta } from "./zarr/metadata/model.js";
export { MemoryStore } from "./zarr/store/memory.js";
export type {
  ListableStore,
  MutableStore,
  ReadableStore,
  Store,
  StoreKey,
  WritableStore,
} from "./zarr/store/types.js";
