/**
 * Direct chunk reads of NetCDF-4/HDF5 variables: each stored chunk is read from the file with one
 * `pread`, inflated by Node's zlib (native, SIMD) and un-shuffled straight into the buffers that
 * want its values, instead of h5wasm's hyperslab read (zlib and the shuffle filter compiled to
 * WebAssembly, then a copy out of its heap). Measured on mur_full.nc's analysed_sst: 239 MB/s
 * through h5wasm, 676 MB/s for node:zlib's inflate alone (docs/design.md, "Reading NetCDF-4").
 *
 * Only the common case takes this path: little-endian numbers, a filter pipeline of shuffle
 * and/or deflate (HDF5 filters 2 and 1, as netCDF-C writes them), a chunk index
 * `readChunkIndex` understands, and every chunk of the read present in the file (absent chunks
 * hold the fill value, which h5wasm applies). Anything else reads through h5wasm.
 *
 * @module
 */

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { fsError, GeoZarrError } from "../errors.js";
import { viewAs } from "../zarr/dtype.js";
import { type Box, chunksOverlapping, forEachRun, intersect } from "../zarr/ndarray.js";
import type { OutBox } from "../zarr/read/read-task.js";
import { type ChunkIndex, readChunkIndex, type StoredChunk } from "./hdf5-index.js";
import { inflateChunk } from "./inflate.js";
import { fileVersion, Kept } from "./kept.js";
import type { Hdf5Storage } from "./model.js";

/** HDF5 filter identifiers (H5Zpublic.h). */
const DEFLATE = 1;
const SHUFFLE = 2;

export interface DirectVariable {
  file: string;
  path: string;
  /** The version of the file the index was read from (kept.ts): its descriptor is looked up by it. */
  version: string;
  /** The file's size: a chunk the index places beyond it is corrupt. */
  fileSize: number;
  itemSize: number;
  index: ChunkIndex;
  /** Position in the pipeline of each filter, or -1 when absent. */
  shuffle: number;
  deflate: number;
}

/**
 * Descriptors open per thread: a bounded number, the least recently used closed beyond it, so that
 * a long series (thousands of granules, each read once) does not run into the process's limit of
 * open files. A variable's reads look its descriptor up by file (decodeChunk), never keep it.
 */
const files = new Kept<{ fd: number; size: number }>((f) => closeSync(f.fd), 64);

function openFile(file: string, version: string): { fd: number; size: number } {
  const kept = files.lookup(file, version);
  if (kept) return kept;
  try {
    const fd = openSync(file, "r");
    return files.keep(file, version, { fd, size: fstatSync(fd).size });
  } catch (err) {
    throw fsError(err, file, "open");
  }
}

/** Prepare direct reads of a variable, or null when it must go through h5wasm. */
export function directVariable(
  file: string,
  path: string,
  facts: Hdf5Storage,
  version = fileVersion(file),
): DirectVariable | null {
  if (!facts.littleEndian || facts.shape.length === 0) return null;
  const ids = facts.filters.map((f) => f.id);
  if (ids.some((id) => id !== DEFLATE && id !== SHUFFLE)) return null;
  if (new Set(ids).size !== ids.length) return null;
  const shuffle = ids.indexOf(SHUFFLE);
  const deflate = ids.indexOf(DEFLATE);
  // Shuffle first, then deflate, when writing (netCDF-C's order): the shuffle is undone last.
  if (shuffle > 0) return null;
  const { fd, size } = openFile(file, version);
  const index = readChunkIndex(fd, size, facts.objectAddress, facts.shape, facts.itemSize);
  if (!index) return null;
  return { file, path, version, fileSize: size, itemSize: facts.itemSize, index, shuffle, deflate };
}

/** Close the files this thread opened for direct reads. */
export function closeDirect(): void {
  files.clear();
}

/** A read buffer kept per thread, grown as needed. */
let stored = new Uint8Array(1 << 20);

function fail(v: DirectVariable, why: string): GeoZarrError {
  return new GeoZarrError("Format", `${v.file}: cannot read ${v.path}: ${why}`, { where: v.file });
}

/** The chunk's values as stored bytes in C order, shuffled (byte planes) when `shuffled`. */
function decodeChunk(
  v: DirectVariable,
  chunk: StoredChunk,
  chunkBytes: number,
): { bytes: Uint8Array; shuffled: boolean } {
  // The index is read from the file: its sizes and offsets are checked before they are used.
  if (!(chunk.size > 0 && chunk.offset >= 0 && chunk.offset + chunk.size <= v.fileSize))
    throw fail(
      v,
      `corrupt chunk index: a chunk of ${chunk.size} bytes at byte ${chunk.offset}, outside the file (${v.fileSize} bytes)`,
    );
  if (stored.length < chunk.size) stored = new Uint8Array(Math.max(chunk.size, stored.length * 2));
  // Looked up now (it may have been closed and opened again since the index was read).
  const got = readSync(openFile(v.file, v.version).fd, stored, 0, chunk.size, chunk.offset);
  if (got !== chunk.size)
    throw fail(v, `truncated file: the chunk at byte ${chunk.offset} ends past the end of the file`);
  let bytes: Uint8Array = stored.subarray(0, chunk.size);
  const applied = (i: number) => i >= 0 && (chunk.filterMask & (1 << i)) === 0;
  if (applied(v.deflate)) {
    try {
      bytes = inflateChunk(bytes, chunkBytes);
    } catch (err) {
      throw fail(v, `corrupt chunk at byte ${chunk.offset} (${(err as Error).message})`);
    }
  }
  if (bytes.length !== chunkBytes)
    throw fail(v, `corrupt chunk at byte ${chunk.offset} (${bytes.length} bytes, expected ${chunkBytes})`);
  return { bytes, shuffled: applied(v.shuffle) && v.itemSize > 1 };
}

/**
 * Read the values of `segment` into the parts of `targets` it overlaps, chunk by chunk. Returns
 * false, having read nothing, when a chunk of the segment is not in the file (the caller reads the
 * segment through h5wasm, which knows the fill value).
 */
export function readDirectInto(v: DirectVariable, segment: Box, targets: readonly OutBox[]): boolean {
  const { chunkShape, chunks } = v.index;
  const coords = chunksOverlapping(segment, chunkShape);
  const found = coords.map((c) => chunks.get(c.join(",")));
  if (found.some((c) => c === undefined)) return false;
  const n = chunkShape.reduce((a, b) => a * b, 1);
  for (const [i, c] of coords.entries()) {
    const chunkBox: Box = { start: c.map((x, d) => x * chunkShape[d]!), shape: chunkShape };
    const inSegment = intersect(chunkBox, segment);
    if (!inSegment) continue;
    const { bytes, shuffled } = decodeChunk(v, found[i]!, n * v.itemSize);
    for (const t of targets) {
      const part = intersect(inSegment, t.box);
      if (part) copyPart(bytes, shuffled, v.itemSize, n, chunkBox, part, t);
    }
  }
  return true;
}

/** Copy `part` of a decoded chunk into a target, undoing the shuffle filter on the way. */
function copyPart(
  bytes: Uint8Array,
  shuffled: boolean,
  itemSize: number,
  n: number,
  chunkBox: Box,
  part: Box,
  t: OutBox,
): void {
  const runs = (f: (so: number, doff: number, len: number) => void) =>
    forEachRun(
      chunkBox.shape,
      part.start.map((s, d) => s - chunkBox.start[d]!),
      t.box.shape,
      part.start.map((s, d) => s - t.box.start[d]!),
      part.shape,
      f,
    );
  const out = new Uint8Array(t.buffer);
  if (!shuffled) {
    runs((so, doff, len) => out.set(bytes.subarray(so * itemSize, (so + len) * itemSize), doff * itemSize));
    return;
  }
  // Shuffled: byte k of element j is at k * n + j (H5Zshuffle.c).
  if (itemSize === 2) {
    const out16 = viewAs("uint16", out) as Uint16Array;
    runs((so, doff, len) => unshuffle16(bytes, n, so, out16, doff, len));
  } else if (itemSize === 4) {
    const out32 = viewAs("uint32", out) as Uint32Array;
    runs((so, doff, len) => unshuffle32(bytes, n, so, out32, doff, len));
  } else {
    runs((so, doff, len) => {
      for (let j = 0; j < len; j++)
        for (let k = 0; k < itemSize; k++) out[(doff + j) * itemSize + k] = bytes[k * n + so + j]!;
    });
  }
}

function unshuffle16(
  b: Uint8Array,
  n: number,
  so: number,
  out: Uint16Array,
  doff: number,
  len: number,
): void {
  for (let j = 0; j < len; j++) out[doff + j] = b[so + j]! | (b[n + so + j]! << 8);
}

function unshuffle32(
  b: Uint8Array,
  n: number,
  so: number,
  out: Uint32Array,
  doff: number,
  len: number,
): void {
  const n2 = 2 * n;
  const n3 = 3 * n;
  for (let j = 0; j < len; j++) {
    const i = so + j;
    out[doff + j] = (b[i]! | (b[n + i]! << 8) | (b[n2 + i]! << 16) | (b[n3 + i]! << 24)) >>> 0;
  }
}
