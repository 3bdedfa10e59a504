/**
 * The hierarchy as a tree of plain data, for the CLI (`geozarr tree`) and the inspector.
 * @module
 */

import { displayDtype } from "../zarr/dtype.js";
import { formatFillValue } from "../zarr/fill-value.js";
import { childrenOf, getNode, type Hierarchy, type NodeRecord } from "../zarr/hierarchy.js";
import { chunkGridShape, describeCodecs, product, shardingOf } from "../zarr/metadata/model.js";
import { displayStringType, formatStringFill } from "../zarr/strings.js";

export interface TreeNode {
  name: string;
  path: string;
  kind: "group" | "array";
  shape?: number[];
  dtype?: string;
  chunks?: number[];
  /** Inner chunk shape for sharded arrays (`chunks` is then the shard shape). */
  innerChunks?: number[];
  chunkCount?: number;
  codecs?: string[];
  fillValue?: string;
  dimensions?: (string | null)[] | null;
  /** Why this array cannot be read (its metadata is valid, its data type or codec is not ours). */
  unsupported?: string;
  children?: TreeNode[];
}

/** The arrays set aside under `group` (hierarchy.unsupported), as leaves saying why. */
function unsupportedUnder(h: Hierarchy, group: string): TreeNode[] {
  const prefix = group === "/" ? "/" : `${group}/`;
  return [...h.unsupported]
    .filter(([p]) => p !== "/" && p.startsWith(prefix) && !p.slice(prefix.length).includes("/"))
    .map(([p, err]) => ({
      name: p.slice(prefix.length),
      path: p,
      kind: "array" as const,
      unsupported: err.message.replace(/^.*?: (?=unsupported|structured|nested)/, ""),
    }));
}

function nodeOf(h: Hierarchy, rec: NodeRecord): TreeNode {
  const name = rec.path === "/" ? "/" : rec.path.slice(rec.path.lastIndexOf("/") + 1);
  const meta = rec.meta;
  if (meta.kind === "group") {
    return {
      name,
      path: rec.path,
      kind: "group",
      children: [...childrenOf(h, rec.path).map((c) => nodeOf(h, c)), ...unsupportedUnder(h, rec.path)].sort(
        (a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
      ),
    };
  }
  const sharding = shardingOf(meta);
  const strings = meta.kind === "strings";
  return {
    name,
    path: rec.path,
    kind: "array",
    shape: meta.shape,
    dtype: strings ? displayStringType(meta.stringType) : displayDtype(meta.dataType, meta.endian),
    chunks: meta.chunkShape,
    ...(sharding ? { innerChunks: sharding.chunkShape } : {}),
    chunkCount: product(chunkGridShape(meta.shape, meta.chunkShape)),
    codecs: describeCodecs(meta),
    fillValue: strings ? formatStringFill(meta.fillValue, meta.stringType) : formatFillValue(meta.fillValue),
    dimensions: meta.dimensionNames,
  };
}

export function buildTree(h: Hierarchy, path = "/"): TreeNode {
  return nodeOf(h, getNode(h, path));
}
