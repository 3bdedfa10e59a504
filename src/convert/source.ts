/**
 * Where a conversion reads its values from. A source is described by plain data so that a worker
 * thread can open it itself; `readSourceBox` returns a box of values in C order, in the source's
 * stored data type (packed integers stay packed: transforms run when chunks are encoded).
 *
 * @module
 */

import { type AnyTypedArray, allocate, type DataType } from "../zarr/dtype.js";
import type { ArrayMeta } from "../zarr/metadata/model.js";
import { product } from "../zarr/metadata/model.js";
import { type Box, chunksOverlapping } from "../zarr/ndarray.js";
import { run as readChunks, readGridChunkShape } from "../zarr/read/read-task.js";
import type { StoreRef } from "../zarr/store/ref.js";

export type SourceRef =
  | { kind: "zarr"; store: StoreRef; storeName: string; path: string; meta: ArrayMeta }
  | { kind: "netcdf"; file: string; variable: string; dataType: DataType };

export type SourceReader = (ref: SourceRef, box: Box) => Promise<AnyTypedArray>;

const readers = new Map<SourceRef["kind"], () => Promise<SourceReader>>([["zarr", async () => readZarrBox]]);

export async function readSourceBox(ref: SourceRef, box: Box): Promise<AnyTypedArray> {
  const reader = await readers.get(ref.kind)!();
  return reader(ref, box);
}

/** Zarr sources: decode the chunks overlapping the box (each once) into a fresh buffer. */
async function readZarrBox(ref: SourceRef, box: Box): Promise<AnyTypedArray> {
  if (ref.kind !== "zarr") throw new Error("not a zarr source");
  const out = allocate(ref.meta.dataType, product(box.shape));
  const chunks = chunksOverlapping(box, readGridChunkShape(ref.meta));
  await readChunks({
    store: ref.store,
    storeName: ref.storeName,
    path: ref.path,
    meta: ref.meta,
    chunks,
    out: { buffer: out.buffer, dataType: ref.meta.dataType, box },
  });
  return out;
}
