/**
 * Decode one TIFF tile or strip into little-endian samples, on whatever thread calls it (our
 * worker pool; geotiff.js's own pool is never started). Deflate and zstd run natively
 * (readers/inflate.ts: libdeflate or node:zlib; zstd-napi: the formats GDAL writes most), the other compressions through
 * geotiff.js's decoders (LZW, PackBits, JPEG, LERC). Predictors are undone here rather than by
 * geotiff.js, after the byte order is fixed: its horizontal predictor adds samples in the host's
 * order, which misreads big-endian files (TIFF 6.0 section 14; Adobe Photoshop TIFF Technical
 * Note 3 for the floating-point predictor, whose output is in host order whatever the file's).
 * @module
 */

import { getDecoder } from "geotiff";
import { GeoZarrError, messageOf } from "../errors.js";
import { accumulateRows } from "../kernels/elementwise.js";
import { nativeZstd, zstdDecompress } from "../zarr/codecs/zstd.js";
import { inflateChunk } from "./inflate.js";

/** TIFF Compression tag values (TIFF 6.0 and the registered extensions) and what we call them. */
export const COMPRESSION_NAMES: Record<number, string> = {
  1: "none",
  2: "CCITT RLE",
  3: "CCITT Group 3",
  4: "CCITT Group 4",
  5: "LZW",
  6: "old-style JPEG",
  7: "JPEG",
  8: "deflate",
  32946: "deflate",
  32773: "PackBits",
  34712: "JPEG 2000",
  34887: "LERC",
  34925: "LZMA",
  50000: "zstd",
  50001: "WebP",
  50002: "JPEG XL",
};

/** What we decode. */
export const SUPPORTED_COMPRESSIONS = new Set([1, 5, 7, 8, 32946, 32773, 34887, 50000]);

export function compressionName(id: number): string {
  return `${COMPRESSION_NAMES[id] ?? "unknown"} (Compression=${id})`;
}

/** The facts needed to decode the blocks of one image (IFD). */
export interface BlockLayout {
  compression: number;
  /** 1 none, 2 horizontal differencing, 3 floating point (TIFF Predictor tag). */
  predictor: number;
  littleEndian: boolean;
  bitsPerSample: number;
  /** Samples interleaved in one block: SamplesPerPixel when pixel-interleaved, 1 when planar. */
  samplesInBlock: number;
  samplesPerPixel: number;
  planar: 1 | 2;
  /** Pixels in one row of a block: the tile width, or the image width for strips. */
  blockWidth: number;
  /** Rows of a full block: the tile height or RowsPerStrip. */
  blockHeight: number;
  /** JPEG-compressed YCbCr (PhotometricInterpretation 6): converted to RGB, as GDAL reads it. */
  ycbcr?: boolean | undefined;
}

/**
 * Decode one block and hand its samples to `use`. `bytes` may be a view of a buffer the caller
 * reuses (readers/tiff-source.ts keptBuffer): it is read before the decoder first yields
 * (decoders that wait, geotiff.js's, copy it first). The samples may be a view of a buffer this
 * thread reuses for the next block (libdeflate's output, readers/inflate.ts; `bytes` itself when
 * uncompressed): `use` runs before anything else can decode on the thread, so it must copy what
 * it keeps.
 */
export type BlockDecoder = (
  bytes: Uint8Array,
  rows: number,
  what: string,
  use: (samples: Uint8Array) => void,
) => Promise<void>;

interface TagSource {
  loadValue(tag: string): Promise<unknown>;
}

/**
 * A decoder for the blocks of one image: compressed bytes in, `rows` rows of little-endian
 * samples out (the last strip of an image is shorter; tiles are always whole).
 */
export async function blockDecoder(
  layout: BlockLayout,
  tags: TagSource,
  file: string,
): Promise<BlockDecoder> {
  const decompress = await decompressor(layout, tags);
  const itemSize = layout.bitsPerSample / 8;
  return async (bytes, rows, what, use) => {
    const rowBytes = layout.blockWidth * layout.samplesInBlock * itemSize;
    let out: Uint8Array;
    try {
      // The native decompressors return at once (no await between them and `use`); geotiff.js's
      // return fresh buffers.
      const d = decompress(bytes, rows * rowBytes, layout.blockHeight * rowBytes);
      out = d instanceof Uint8Array ? d : await d;
    } catch (err) {
      throw new GeoZarrError("Format", `${file}: cannot decode ${what}: ${messageOf(err)}`, { where: file });
    }
    // JPEG and LERC may hand back more than the rows asked for (padding); fewer is corrupt data.
    if (out.byteLength < rows * rowBytes)
      throw new GeoZarrError(
        "Format",
        `${file}: cannot decode ${what}: ${out.byteLength} bytes decoded, ${rows * rowBytes} expected`,
        { where: file },
      );
    if (out.byteOffset % itemSize !== 0) out = out.slice();
    if (layout.ycbcr) toRgb(out);
    if (layout.predictor === 3) undoFloatPredictor(out, rows, layout);
    else {
      if (!layout.littleEndian && itemSize > 1 && layout.compression !== 34887) swapBytes(out, itemSize);
      if (layout.predictor === 2) undoHorizontalPredictor(out, rows, layout);
    }
    use(out);
  };
}

/** Decompress a block of `expected` bytes (a strip may be written whole, `full`, even when the last). */
type Decompress = (b: Uint8Array, expected: number, full: number) => Uint8Array | Promise<Uint8Array>;

async function decompressor(layout: BlockLayout, tags: TagSource): Promise<Decompress> {
  const c = layout.compression;
  if (c === 1) return (b) => b;
  // The one inflater of the project: libdeflate into a kept buffer, or node:zlib.
  if (c === 8 || c === 32946)
    return (b, expected, full) => {
      try {
        return inflateChunk(b, expected);
      } catch (err) {
        // A last strip written with every row of a full strip.
        if (full === expected) throw err;
        return inflateChunk(b, full);
      }
    };
  if (c === 50000 && nativeZstd()) return (b) => zstdDecompress(b);
  const params: Record<string, unknown> = {
    tileWidth: layout.blockWidth,
    tileHeight: layout.blockHeight,
    planarConfiguration: layout.planar,
    bitsPerSample: layout.bitsPerSample,
    samplesPerPixel: layout.samplesPerPixel,
    // Predictors are undone by blockDecoder, after the byte order is fixed.
    predictor: 1,
  };
  if (c === 7) params.JPEGTables = await tags.loadValue("JPEGTables");
  if (c === 34887) params.LercParameters = await tags.loadValue("LercParameters");
  const decoder = await getDecoder(c, params as never);
  return async (b) => {
    // A copy: geotiff.js's decoders may read the bytes after waiting, and want an ArrayBuffer.
    const out = await decoder.decode(b.slice().buffer);
    return new Uint8Array(out as ArrayBuffer);
  };
}

/** JFIF's YCbCr to RGB (ITU-R BT.601 full range), what libjpeg does for GDAL. */
function toRgb(b: Uint8Array): void {
  const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));
  for (let i = 0; i + 2 < b.length; i += 3) {
    const y = b[i]!;
    const cb = b[i + 1]! - 128;
    const cr = b[i + 2]! - 128;
    b[i] = clamp(y + 1.402 * cr);
    b[i + 1] = clamp(y - 0.344136 * cb - 0.714136 * cr);
    b[i + 2] = clamp(y + 1.772 * cb);
  }
}

function swapBytes(b: Uint8Array, size: number): void {
  for (let i = 0; i + size <= b.length; i += size) {
    for (let lo = i, hi = i + size - 1; lo < hi; lo++, hi--) {
      const t = b[lo]!;
      b[lo] = b[hi]!;
      b[hi] = t;
    }
  }
}

/** TIFF 6.0 section 14: each sample is the difference from the same sample of the pixel before. */
function undoHorizontalPredictor(b: Uint8Array, rows: number, l: BlockLayout): void {
  const stride = l.samplesInBlock;
  accumulateRows(b, rows, l.blockWidth * stride, stride, l.bitsPerSample / 8);
}

/**
 * Technical Note 3: a row's bytes were split into planes, most significant first, then
 * differenced byte by byte with the pixel stride. Undo both; samples come out little-endian.
 */
function undoFloatPredictor(b: Uint8Array, rows: number, l: BlockLayout): void {
  const size = l.bitsPerSample / 8;
  const stride = l.samplesInBlock;
  const words = l.blockWidth * stride;
  const rowBytes = words * size;
  const tmp = new Uint8Array(rowBytes);
  for (let r = 0; r < rows; r++) {
    const row = b.subarray(r * rowBytes, (r + 1) * rowBytes);
    for (let i = stride; i < rowBytes; i++) row[i] = (row[i]! + row[i - stride]!) & 0xff;
    tmp.set(row);
    for (let w = 0; w < words; w++)
      for (let k = 0; k < size; k++) row[w * size + k] = tmp[(size - k - 1) * words + w]!;
  }
}
