/**
 * Where a conversion reads its values from. A source is described by plain data so that a worker
 * thread can open it itself. A reader copies the values of a segment (C order, the source's stored
 * data type: packed integers stay packed, transforms run when chunks are encoded) straight into
 * the band buffers the segment overlaps.
 *
 * @module
 */

import type { TiffRef } from "../readers/geotiff.js";
import type { VariableRef } from "../readers/model.js";
import {
  type AnyTypedArray,
  allocate,
  type DataType,
  dataTypeInfo,
  isBigInt,
  viewAs,
} from "../zarr/dtype.js";
import type { ArrayMeta } from "../zarr/metadata/model.js";
import { product } from "../zarr/metadata/model.js";
import { type Box, chunksOverlapping, copyBox, gridIndices, intersect } from "../zarr/ndarray.js";
import type { OutBox } from "../zarr/read/read-task.js";
import type { StoreRef } from "../zarr/store/ref.js";

export type SourceRef =
  | { kind: "zarr"; store: StoreRef; storeName: string; path: string; meta: ArrayMeta }
  | ({ kind: "netcdf" } & VariableRef)
  /** Tiles or strips of one image of a GeoTIFF (readers/geotiff.ts). */
  | ({ kind: "geotiff" } & TiffRef)
  /** The same value everywhere (a CF grid-mapping variable's placeholder value). */
  | { kind: "constant"; value: number | bigint; dataType: DataType }
  /** Values computed by the plan (1-D coordinates of a GeoTIFF grid, the band numbers, times). */
  | { kind: "values"; values: number[]; dataType: DataType }
  /**
   * Sources stacked along one axis (a time series: one granule per part): part `p` holds indices
   * `p.start` to `p.start + p.count - 1` of the axis, as its own indices 0 to count - 1.
   */
  | { kind: "stack"; axis: number; parts: StackPart[] };

export interface StackPart {
  start: number;
  count: number;
  ref: SourceRef;
  /** The part's source has no stacked axis (a GeoTIFF scene: one step, its boxes one rank less). */
  squeeze?: boolean | undefined;
}

/** Read the values of `segment` into the target boxes it overlaps; returns the bytes read. */
export type SourceReader = (ref: SourceRef, segment: Box, targets: OutBox[]) => Promise<number>;

// Each reader's modules load when a source of its kind is read: a worker converting a GeoTIFF
// never compiles zarrita or the NetCDF readers (about 70 ms of CPU per worker thread).
const readers = new Map<SourceRef["kind"], () => Promise<SourceReader>>([
  ["zarr", async () => readZarrInto],
  ["netcdf", async () => readNetcdfInto],
  ["constant", async () => fillConstant],
  ["values", async () => copyValues],
  ["stack", async () => readStackInto],
  // geotiff.js loads only when a GeoTIFF is read.
  [
    "geotiff",
    async () => {
      const { readTiffInto } = await import("../readers/geotiff.js");
      return (ref, segment, targets) => {
        if (ref.kind !== "geotiff") throw new Error("not a geotiff source");
        return readTiffInto(ref, segment, targets);
      };
    },
  ],
]);

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
  const { run: readChunks, readGridChunkShape } = await import("../zarr/read/read-task.js");
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

/**
 * NetCDF sources: NetCDF-4 chunks decoded straight into the bands where possible; otherwise one
 * hyperslab read per segment (aligned to the file's chunks), copied into the bands.
 */
async function readNetcdfInto(ref: SourceRef, segment: Box, targets: OutBox[]): Promise<number> {
  if (ref.kind !== "netcdf") throw new Error("not a netcdf source");
  const { readVariableBox, readVariableInto } = await import("../readers/read.js");
  if (await readVariableInto(ref, segment, targets))
    return product(segment.shape) * dataTypeInfo(ref.dataType).size;
  const values = await readVariableBox(ref, segment);
  copyIntoTargets(values, segment, targets);
  return values.byteLength;
}

/** Copy the values of `segment` (C order) into the part of each target box it overlaps. */
export function copyIntoTargets(values: AnyTypedArray, segment: Box, targets: readonly OutBox[]): void {
  for (const t of targets) {
    const part = intersect(segment, t.box);
    if (!part) continue;
    copyBox(
      values,
      segment.shape,
      part.start.map((s, d) => s - segment.start[d]!),
      viewAs(t.dataType, new Uint8Array(t.buffer)),
      t.box.shape,
      part.start.map((s, d) => s - t.box.start[d]!),
      part.shape,
    );
  }
}

/** A stack: each part the segment reaches reads its share, into the targets moved into its indices. */
async function readStackInto(ref: SourceRef, segment: Box, targets: OutBox[]): Promise<number> {
  if (ref.kind !== "stack") throw new Error("not a stack source");
  const a = ref.axis;
  let bytes = 0;
  for (const p of ref.parts) {
    const from = Math.max(segment.start[a]!, p.start);
    const to = Math.min(segment.start[a]! + segment.shape[a]!, p.start + p.count);
    if (from >= to) continue;
    const shift = (b: Box): Box => ({
      start: b.start.map((s, d) => (d === a ? s - p.start : s)),
      shape: b.shape,
    });
    const part: Box = {
      start: segment.start.map((s, d) => (d === a ? from - p.start : s)),
      shape: segment.shape.map((n, d) => (d === a ? to - from : n)),
    };
    bytes += p.squeeze
      ? await readSqueezed(p.ref, part, a, segment, targets, from)
      : await readSourceInto(
          p.ref,
          part,
          targets.map((t) => ({ ...t, box: shift(t.box) })),
        );
  }
  return bytes;
}

/**
 * A part without the stacked axis: its one step read as a box of one rank less into a buffer of
 * its own, then copied into the targets at index `at` of the axis (a target box may span several
 * steps, so the step's values are not one run of the target's buffer in general).
 */
async function readSqueezed(
  ref: SourceRef,
  part: Box,
  axis: number,
  segment: Box,
  targets: OutBox[],
  at: number,
): Promise<number> {
  if (targets.length === 0) return 0;
  const dataType = targets[0]!.dataType;
  const box: Box = {
    start: part.start.filter((_, d) => d !== axis),
    shape: part.shape.filter((_, d) => d !== axis),
  };
  const buffer = new ArrayBuffer(product(box.shape) * dataTypeInfo(dataType).size);
  const bytes = await readSourceInto(ref, box, [{ buffer, dataType, box }]);
  const step: Box = {
    start: segment.start.map((s, d) => (d === axis ? at : s)),
    shape: segment.shape.map((n, d) => (d === axis ? 1 : n)),
  };
  copyIntoTargets(viewAs(dataType, new Uint8Array(buffer)), step, targets);
  return bytes;
}

async function copyValues(ref: SourceRef, segment: Box, targets: OutBox[]): Promise<number> {
  if (ref.kind !== "values" || segment.shape.length !== 1) throw new Error("not a 1-D values source");
  const all = allocate(ref.dataType, ref.values.length) as Float64Array;
  if (isBigInt(ref.dataType)) (all as unknown as BigInt64Array).set(ref.values.map((v) => BigInt(v)));
  else all.set(ref.values);
  const [s0] = segment.start as [number];
  copyIntoTargets(all.subarray(s0, s0 + segment.shape[0]!), segment, targets);
  return segment.shape[0]! * dataTypeInfo(ref.dataType).size;
}

async function fillConstant(ref: SourceRef, segment: Box, targets: OutBox[]): Promise<number> {
  if (ref.kind !== "constant") throw new Error("not a constant source");
  for (const t of targets) {
    const part = intersect(segment, t.box);
    if (!part) continue;
    const view = viewAs(t.dataType, new Uint8Array(t.buffer)) as Float64Array;
    if (part.shape.length === 0) view[0] = ref.value as number;
    else {
      const strides = part.shape.map((_, d) => t.box.shape.slice(d + 1).reduce((a, b) => a * b, 1));
      for (const idx of gridIndices(part.shape)) {
        let off = 0;
        idx.forEach((i, d) => {
          off += (i + part.start[d]! - t.box.start[d]!) * strides[d]!;
        });
        view[off] = ref.value as number;
      }
    }
  }
  return 0;
}
