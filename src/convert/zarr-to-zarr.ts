/**
 * Plan the re-encoding of a Zarr store (v2 or v3) into another: same hierarchy, attributes carried
 * over (`_ARRAY_DIMENSIONS` becomes `dimension_names` when upgrading to v3; convention declarations
 * of older revisions become v0.1, geo/conventions.ts), new chunking, codec, sharding and format.
 * @module
 */

import { GeoZarrError } from "../errors.js";
import { upgradeDeclarations } from "../geo/conventions.js";
import type { CodecChoice } from "../zarr/codecs/choice.js";
import { defaultFillValue } from "../zarr/fill-value.js";
import type { Hierarchy } from "../zarr/hierarchy.js";
import { gridSize } from "../zarr/limits.js";
import type { ArrayMeta, StringArrayMeta } from "../zarr/metadata/model.js";
import { chunkBox, chunksOverlapping } from "../zarr/ndarray.js";
import { readGridChunkShape } from "../zarr/read/read-task.js";
import { readStrings } from "../zarr/read/strings.js";
import { refFor } from "../zarr/store/ref.js";
import { storedChunkCoords } from "../zarr/store/sizes.js";
import type { NodePlan } from "./execute.js";
import { checkDimNames, chunkShapeFor, type DimSizes, shardShapeFor } from "./options.js";
import { planStrings } from "./strings.js";
import { IDENTITY } from "./transform.js";

export interface ZarrPlanOptions {
  zarrFormat: 2 | 3;
  chunks?: DimSizes | undefined;
  shards?: DimSizes | undefined;
  codec: CodecChoice;
  /** Read through worker threads (the source store must be re-openable there). */
  useWorkers: boolean;
}

export async function planZarrCopy(src: Hierarchy, opts: ZarrPlanOptions): Promise<NodePlan[]> {
  // An array we cannot read cannot be copied: refuse rather than write a store without it.
  const [first] = src.unsupported.values();
  if (first) {
    const paths = [...src.unsupported.keys()];
    throw new GeoZarrError(
      "Unsupported",
      `${src.name}: cannot convert ${paths.length} array${paths.length > 1 ? "s" : ""} (${paths.slice(0, 3).join(", ")}${paths.length > 3 ? ", ..." : ""}): ${first.message}`,
      { where: src.name },
    );
  }
  if (opts.shards && opts.zarrFormat === 2)
    throw new GeoZarrError("Usage", "--shard needs --zarr-format 3 (Zarr v2 has no sharding)");
  const known = new Set<string>();
  for (const n of src.nodes.values()) {
    if (n.meta.kind !== "group") for (const d of n.meta.dimensionNames ?? []) if (d) known.add(d);
  }
  checkDimNames("--chunks", opts.chunks, known);
  checkDimNames("--shard", opts.shards, known);
  const store = refFor(src.store, opts.useWorkers);
  const plan: NodePlan[] = [];
  for (const node of src.nodes.values()) {
    const meta = node.meta;
    if (meta.kind === "group") {
      plan.push({ kind: "group", path: node.path, attributes: upgradeDeclarations(meta.attributes) });
      continue;
    }
    const readGrid = readGridChunkShape(meta);
    const chunkShape = chunkShapeFor(meta.shape, meta.dimensionNames, opts.chunks, readGrid);
    const dims = meta.dimensionNames?.every((d): d is string => typeof d === "string")
      ? meta.dimensionNames
      : null;
    if (meta.kind === "strings") {
      plan.push(await stringCopy(src, node.path, meta, chunkShape, dims, opts));
      continue;
    }
    const fillValue = meta.fillValue ?? (opts.zarrFormat === 3 ? defaultFillValue(meta.dataType) : null);
    const shardShape = shardShapeFor(node.path, meta.shape, meta.dimensionNames, opts.shards, chunkShape);
    const unitShape = shardShape ?? chunkShape;
    plan.push({
      kind: "array",
      path: node.path,
      spec: {
        shape: meta.shape,
        chunkShape,
        shardShape,
        dataType: meta.dataType,
        fillValue,
        dimensionNames: dims,
        attributes: upgradeDeclarations(meta.attributes),
        codec: opts.codec,
      },
      copy: {
        source: { kind: "zarr", store, storeName: src.name, path: node.path, meta },
        sourceChunks: readGrid,
        sourceType: meta.dataType,
        sourceFill: fillValue,
        transform: IDENTITY,
        // An array declared too large to iterate is copied from the chunks it really stores.
        ...(gridSize(meta.shape, unitShape).dense
          ? {}
          : { units: await sparseUnits(src, node.path, meta, unitShape) }),
      },
    });
  }
  return plan;
}

/** A string array read whole and written whole (not sharded: strings are small). */
async function stringCopy(
  src: Hierarchy,
  path: string,
  meta: StringArrayMeta,
  chunkShape: number[],
  dims: string[] | null,
  opts: ZarrPlanOptions,
): Promise<NodePlan> {
  const planned = planStrings(
    {
      path,
      shape: meta.shape,
      chunkShape,
      stringType: meta.stringType,
      fillValue: meta.fillValue,
      dimensionNames: dims,
      attributes: upgradeDeclarations(meta.attributes),
      values: await readStrings(src.store, path, meta, src.name),
    },
    opts.zarrFormat,
    opts.codec,
  );
  if ("refused" in planned)
    throw new GeoZarrError("Unsupported", `${src.name}${path}: cannot convert: ${planned.refused}`, {
      where: `${src.name}${path}`,
    });
  return planned.node;
}

/** The output units (chunks or shards) that overlap a chunk the source stores, in C order. */
async function sparseUnits(
  src: Hierarchy,
  path: string,
  meta: ArrayMeta,
  unitShape: number[],
): Promise<number[][]> {
  const units = new Map<string, number[]>();
  for (const coords of await storedChunkCoords(src.store, path, meta)) {
    for (const u of chunksOverlapping(chunkBox(coords, meta.chunkShape, meta.shape), unitShape))
      units.set(u.join(","), u);
  }
  return [...units.values()].sort((a, b) => {
    for (let d = 0; d < a.length; d++) if (a[d] !== b[d]) return a[d]! - b[d]!;
    return 0;
  });
}
