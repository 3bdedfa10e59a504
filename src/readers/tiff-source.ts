/**
 * Where geotiff.js reads a TIFF's bytes from: a source of our own, so that every read is a
 * positioned read we control (no whole-file buffer, no silent zero padding at the end of a
 * truncated file): a local file ({@link FileRangeSource}, pread) or an object in S3 or behind
 * HTTP ({@link ByteRangeSource} over readers/remote-source.ts, ranged GETs).
 *
 * The contract, geotiff.js's `BaseSource` (which the package does not export; `GeoTIFF.fromSource`
 * only calls `fetch`, `fileSize` and `close`): `fetch` returns the bytes of each range, fewer at
 * the end of the file (geotiff.js asks for 1 KiB headers speculatively, past the
 * end of small files). Callers that need a range whole (tile data) check its length and report
 * a short one with {@link truncated}.
 * @module
 */

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { fsError, GeoZarrError } from "../errors.js";
import type { ByteSource } from "./byte-source.js";

export interface Slice {
  offset: number;
  length: number;
}

const TIFF_MAGIC = [
  [0x49, 0x49, 0x2a, 0x00], // "II*\0": little-endian TIFF
  [0x4d, 0x4d, 0x00, 0x2a], // "MM\0*": big-endian TIFF
  [0x49, 0x49, 0x2b, 0x00], // BigTIFF
  [0x4d, 0x4d, 0x00, 0x2b],
];

/** Whether the first bytes of a file are a TIFF or BigTIFF header (TIFF 6.0 section 2). */
export function isTiffHeader(head: Uint8Array): boolean {
  return TIFF_MAGIC.some((m) => m.every((b, i) => head[i] === b));
}

/** A TIFF source: ranged reads and the size of the whole. */
export interface RangeSource {
  /** What the file or object is called in messages. */
  readonly name: string;
  readonly size: number;
  fetchSlice(slice: Slice): Promise<{ data: ArrayBuffer; offset: number; length: number }>;
  fetch(slices: Slice[]): Promise<ArrayBuffer[]>;
  close(): Promise<void>;
}

/** A source whose ranges can be read into a caller's buffer at once (tiles and strips: readers/geotiff.ts). */
export interface BlockSource extends RangeSource {
  /** Read a range into the start of `dst`; the bytes read, fewer at the end of the file. */
  readInto(slice: Slice, dst: Uint8Array): number;
  /** Bytes worth asking for in one `readParts` call (byte-source.ts): 0 for a local file. */
  readonly batchBytes: number;
  /** Several ranges in one call: a remote source fetches them together. */
  readParts(parts: readonly { position: number; into: Uint8Array }[]): number[];
}

/** geotiff.js's `fetch` of one range through `readInto`: a new buffer, shorter at the end of the file. */
function sliceOf(source: BlockSource, slice: Slice): { data: ArrayBuffer; offset: number; length: number } {
  const length = Math.max(0, Math.min(slice.length, source.size - slice.offset));
  const data = new ArrayBuffer(length);
  const done = source.readInto({ offset: slice.offset, length }, new Uint8Array(data));
  return { data: done === length ? data : data.slice(0, done), offset: slice.offset, length: done };
}

/** A local file read with pread(2) on one descriptor, kept open until `close`. */
export class FileRangeSource implements BlockSource {
  readonly batchBytes = 0;
  readonly #fd: number;
  readonly size: number;

  constructor(readonly name: string) {
    try {
      this.#fd = openSync(name, "r");
      this.size = fstatSync(this.#fd).size;
    } catch (err) {
      throw fsError(err, name, "open");
    }
  }

  get fileSize(): number {
    return this.size;
  }

  async fetchSlice(slice: Slice): Promise<{ data: ArrayBuffer; offset: number; length: number }> {
    return sliceOf(this, slice);
  }

  /** Read a range into the start of `dst` at once (pread); the bytes read, fewer at the end of the file. */
  readInto(slice: Slice, dst: Uint8Array): number {
    const length = Math.max(0, Math.min(slice.length, this.size - slice.offset, dst.length));
    let done = 0;
    try {
      while (done < length) {
        const n = readSync(this.#fd, dst, done, length - done, slice.offset + done);
        if (n === 0) break;
        done += n;
      }
    } catch (err) {
      throw fsError(err, this.name, "read");
    }
    return done;
  }

  readParts(parts: readonly { position: number; into: Uint8Array }[]): number[] {
    return parts.map((p) => this.readInto({ offset: p.position, length: p.into.length }, p.into));
  }

  async fetch(slices: Slice[]): Promise<ArrayBuffer[]> {
    return slices.map((x) => sliceOf(this, x).data);
  }

  async close(): Promise<void> {
    closeSync(this.#fd);
  }
}

/**
 * A TIFF in object storage: the ranges of a {@link ByteSource} (remote-source.ts: ranged GETs,
 * each checked against the planned size and version). The byte source belongs to the thread's
 * cache of sources (byte-source.ts), so closing this leaves it open.
 */
export class ByteRangeSource implements BlockSource {
  constructor(
    readonly name: string,
    readonly bytes: ByteSource,
  ) {}

  get size(): number {
    return this.bytes.size;
  }

  get fileSize(): number {
    return this.bytes.size;
  }

  get batchBytes(): number {
    return this.bytes.batchBytes;
  }

  async fetchSlice(slice: Slice): Promise<{ data: ArrayBuffer; offset: number; length: number }> {
    return sliceOf(this, slice);
  }

  readInto(slice: Slice, dst: Uint8Array): number {
    const length = Math.max(0, Math.min(slice.length, this.size - slice.offset, dst.length));
    return length > 0 ? this.bytes.read(dst.subarray(0, length), slice.offset) : 0;
  }

  readParts(parts: readonly { position: number; into: Uint8Array }[]): number[] {
    return this.bytes.readParts(parts);
  }

  async fetch(slices: Slice[]): Promise<ArrayBuffer[]> {
    return slices.map((x) => sliceOf(this, x).data);
  }

  async close(): Promise<void> {}
}

export function truncated(source: RangeSource, slice: Slice, what: string): GeoZarrError {
  return new GeoZarrError(
    "Format",
    `${source.name}: truncated file: ${what} needs bytes ${slice.offset}-${slice.offset + slice.length} but the file ends at ${source.size}`,
    { where: source.name },
  );
}

let kept = new Uint8Array(0);

/**
 * A buffer of `length` bytes this thread reuses for blocks' stored bytes (readers/geotiff.ts): a
 * view valid until the next call on the thread, so the caller must be done with it before it
 * yields to other reads (decode at once). A fresh buffer per tile costs its allocation, zeroing and
 * garbage collection on top of the read (bench/limits/geotiff.mjs: 0.01 CPU s to read 84 MB of
 * tiles into one buffer, 0.04 s into new ones).
 */
export function keptBuffer(length: number): Uint8Array {
  if (kept.length < length) kept = new Uint8Array(length);
  return kept.subarray(0, length);
}
