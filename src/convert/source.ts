/**
 * Where a conversion reads its values from. A source is described by plain data so that a worker
 * thread can open it itself. A reader copies the values of a segment (C order, the source's stored
 * data type: packed integers stay packed, transforms run when chunks are encoded) straight into
 * the band buffers the segment overlaps.
 *
 * @module
 */

import { type DataType, dataTypeInfo } from "../zarr/dtype.js";
import type { ArrayMeta } from "../zarr/metadata/model.js";
import { product } from "../zarr/metadata/model.js";
import { type Box, chunksOverlapping } from "../zarr/ndarray.js";
import { type OutBox, run as readChunks, readGridChunkShape } from "../zarr/read/read-task.js";
import type { StoreRef } from "../zarr/store/ref.js";

export type SourceRef =
  | { kind: "zarr"; store: StoreRef; storeName: string; path: string; meta: ArrayMeta }
  | { kind: "netcdf"; file: string; variable: string; dataType: DataType };

/** Read the values of `segment` into the target boxes it overlaps; returns the bytes read. */
export type SourceReader = (ref: SourceRef, segment: Box, targets: OutBox[]) => Promise<number>;

const readers = new Map<SourceRef["kind"], () => Promise<SourceReader>>([["zarr", async () => readZarrInto]]);

export async function readSourceInto(ref: SourceRef, segment: Box, targets: OutBox[]): Promise<number> {
  const reader = await readers.get(ref.kind)!();
  return reader(ref, segment, targets);
}

/**
 * Zarr sources: decode each chunk overlapping the segment once and copy it straight into the
 * target boxes (no intermediate segment buffer).
 */
async function readZarrInto(ref: SourceRef, segment: Box, targets: OutBox[]): Promise<number> {
  if (ref.kind !== "zarr") throw new Error("not a zarr source");
  await readChunks({
    store: ref.store,
    storeName: ref.storeName,
    path: ref.path,
    meta: ref.meta,
    chunks: chunksOverlapping(segment, readGridChunkShape(ref.meta)),
    // Chunks reaching past the segment write their values there too: the same values another
    // segment would write, so harmless, and clipped to each target box.
    outs: targets,
  });
  return product(segment.shape) * dataTypeInfo(ref.meta.dataType).size;
}
