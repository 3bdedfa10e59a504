/**
 * GeoTIFF and Cloud-Optimized GeoTIFF input, through geotiff.js (structure: IFDs, tags, GeoKeys)
 * and our own block reads (readers/tiff-decode.ts decodes on the calling thread).
 *
 * `openGeoTiff` describes a file as plain data: its full-resolution image and overviews (shape,
 * sample type, block layout), its georeferencing tags and GeoKeys as written, GDAL's nodata and
 * metadata, and TIFFTAG_DATETIME. What those mean on Earth is geo/geotiff.ts's business, how they
 * become Zarr is convert/geotiff/'s. `readTiffInto` reads a box of an image (band, y, x) straight
 * into the caller's buffers, block by block; each thread keeps the files it opened (kept.ts).
 * @module
 */

import { GeoTIFF, type GeoTIFFImage } from "geotiff";
import { GeoZarrError, isGeoZarrError, messageOf } from "../errors.js";
import { copyRowsInto } from "../kernels/elementwise.js";
import { type DataType, dataTypeInfo, isBigInt, viewAs } from "../zarr/dtype.js";
import type { Box } from "../zarr/ndarray.js";
import type { OutBox } from "../zarr/read/read-task.js";
import { batchEnd, byteSource, keptVersion, type RemoteFile } from "./byte-source.js";
import { fileVersion, Kept } from "./kept.js";
import {
  type BlockDecoder,
  type BlockLayout,
  blockDecoder,
  compressionName,
  SUPPORTED_COMPRESSIONS,
} from "./tiff-decode.js";
import {
  type BlockSource,
  ByteRangeSource,
  FileRangeSource,
  keptBuffer,
  type RangeSource,
  truncated,
} from "./tiff-source.js";

/** One image (IFD) of a TIFF: the full resolution or an overview. */
export interface TiffImage {
  /** Index of the IFD in the file's chain. */
  ifd: number;
  width: number;
  height: number;
  bands: number;
  dataType: DataType;
  tiled: boolean;
  layout: BlockLayout;
  /** GDAL_METADATA items of this IFD's dataset level (an overview's RESAMPLING, when written). */
  metadata: Record<string, string>;
}

/** GeoKeys by geotiff.js's names (GeoTIFF 1.1, OGC 19-008r4 Annex A): numbers, text or lists. */
export type GeoKeys = Record<string, number | string | number[]>;

export interface GeoTiffFile {
  file: string;
  /** A TIFF in object storage, read by ranges (`file` is its URL). */
  remote?: RemoteFile | undefined;
  image: TiffImage;
  /** Reduced-resolution images (NewSubfileType bit 0, not masks), largest first. */
  overviews: TiffImage[];
  geoKeys: GeoKeys | null;
  /** The raster-to-model tags as written (GeoTIFF 1.1 clause 7.3). */
  tags: {
    pixelScale: number[] | null;
    tiepoints: number[] | null;
    transformation: number[] | null;
  };
  /** GDAL_NODATA (one value for every band), null when absent. */
  nodata: number | null;
  /** GDAL_METADATA: dataset items and each band's (DESCRIPTION, SCALE, OFFSET, UNITTYPE, ...). */
  metadata: { dataset: Record<string, string>; bands: Record<string, string>[] };
  /** TIFFTAG_DATETIME as written ("YYYY:MM:DD HH:MM:SS"), null when absent. */
  datetime: string | null;
  /** Things the conversion does not carry over (internal masks, colour maps). */
  notes: string[];
}

const numbers = (v: unknown): number[] | null =>
  v && typeof v === "object" && "length" in v ? Array.from(v as ArrayLike<number>, Number) : null;

function fail(file: string, what: string, tag: "Format" | "Unsupported" = "Format"): never {
  throw new GeoZarrError(tag, `${file}: ${what}`, { where: file });
}

/** GDAL's GDAL_METADATA XML: `<Item name=".." sample="0" role="..">value</Item>` (GDAL GTiff driver). */
export function parseGdalMetadata(xml: string | undefined): {
  dataset: Record<string, string>;
  bands: Record<number, Record<string, string>>;
} {
  const dataset: Record<string, string> = {};
  const bands: Record<number, Record<string, string>> = {};
  for (const m of (xml ?? "").matchAll(/<Item\s([^>]*)>([\s\S]*?)<\/Item>/g)) {
    const attrs = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((a) => [a[1]!, a[2]!]));
    // Other domains (IMAGE_STRUCTURE, xml:...) describe the file, not the data.
    if (!attrs.name || (attrs.domain && attrs.domain !== "")) continue;
    const value = unescapeXml(m[2]!);
    if (attrs.sample === undefined) dataset[unescapeXml(attrs.name)] = value;
    else {
      const band = Number(attrs.sample);
      bands[band] = { ...bands[band], [unescapeXml(attrs.name)]: value };
    }
  }
  return { dataset, bands };
}

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|quot|apos|amp|#\d+|#x[0-9a-f]+);/gi, (_, e: string) => {
    const named: Record<string, string> = { lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" };
    if (named[e.toLowerCase()]) return named[e.toLowerCase()]!;
    return String.fromCodePoint(
      e[1] === "x" || e[1] === "X" ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1)),
    );
  });
}

/** GDAL_NODATA text ("-9999", "nan", "-inf", "3.4e+38") as a number. */
export function parseNodata(text: string | undefined): number | null {
  const t = text?.replace(/\0+$/, "").trim();
  if (!t) return null;
  if (/^nan$/i.test(t)) return Number.NaN;
  if (/^[+-]?inf(inity)?$/i.test(t)) return t.startsWith("-") ? -Infinity : Infinity;
  const n = Number(t);
  return Number.isNaN(n) ? null : n;
}

/** The sample type of an image: one format and size for every band (TIFF 6.0 SampleFormat, BitsPerSample). */
function sampleType(file: string, im: GeoTIFFImage): DataType {
  const fd = im.getFileDirectory();
  const bits = numbers(fd.getValue("BitsPerSample")) ?? [1];
  const formats = numbers(fd.getValue("SampleFormat")) ?? [1];
  if (new Set(bits).size > 1 || new Set(formats).size > 1)
    fail(
      file,
      `bands of different sample types (BitsPerSample ${bits}, SampleFormat ${formats}) are not supported`,
      "Unsupported",
    );
  const [b, f] = [bits[0]!, formats[0]!];
  const kinds: Record<number, string> = { 1: "uint", 2: "int", 3: "float" };
  const type = `${kinds[f] ?? ""}${b}`;
  const known = [
    "uint8",
    "int8",
    "uint16",
    "int16",
    "uint32",
    "int32",
    "uint64",
    "int64",
    "float32",
    "float64",
  ];
  if (!known.includes(type)) {
    const what =
      f === 5 || f === 6
        ? "complex samples"
        : f === 3 && b === 16
          ? "16-bit floating-point samples"
          : b % 8 !== 0
            ? `${b}-bit samples`
            : `SampleFormat ${f} with ${b} bits`;
    fail(
      file,
      `${what} are not supported (integer or floating-point samples of 8 to 64 bits are)`,
      "Unsupported",
    );
  }
  return type as DataType;
}

async function describeImage(
  file: string,
  im: GeoTIFFImage,
  ifd: number,
  littleEndian: boolean,
): Promise<TiffImage> {
  const fd = im.getFileDirectory();
  const compression = Number(fd.getValue("Compression") ?? 1);
  if (!SUPPORTED_COMPRESSIONS.has(compression))
    fail(
      file,
      `compression ${compressionName(compression)} is not supported (none, deflate, LZW, zstd, PackBits, JPEG and LERC are)`,
      "Unsupported",
    );
  const dataType = sampleType(file, im);
  const predictor = Number((await fd.loadValue("Predictor")) ?? 1);
  if (![1, 2, 3].includes(predictor)) fail(file, `Predictor ${predictor} is not supported`, "Unsupported");
  if (predictor === 3 && !dataType.startsWith("float"))
    fail(file, `the floating-point predictor on ${dataType} samples is not valid TIFF`);
  const photometric = Number(fd.getValue("PhotometricInterpretation") ?? 1);
  if (photometric === 6 && (compression !== 7 || im.planarConfiguration !== 1))
    fail(file, "YCbCr samples other than pixel-interleaved JPEG are not supported", "Unsupported");
  const bands = im.getSamplesPerPixel();
  const planar = im.planarConfiguration;
  const width = im.getWidth();
  const height = im.getHeight();
  const blockWidth = im.getTileWidth();
  const blockHeight = im.getTileHeight();
  if (!(width > 0 && height > 0 && blockWidth > 0 && blockHeight > 0))
    fail(file, `IFD ${ifd}: image of ${width} x ${height} in blocks of ${blockWidth} x ${blockHeight}`);
  return {
    ifd,
    width,
    height,
    bands,
    dataType,
    tiled: im.isTiled,
    layout: {
      compression,
      predictor,
      littleEndian,
      bitsPerSample: dataTypeInfo(dataType).size * 8,
      samplesInBlock: planar === 2 ? 1 : bands,
      samplesPerPixel: bands,
      planar,
      blockWidth,
      blockHeight,
      ycbcr: photometric === 6 && bands === 3 && planar === 1,
    },
    metadata: {},
  };
}

async function openTiff(source: RangeSource): Promise<GeoTIFF> {
  try {
    return await GeoTIFF.fromSource(source as never, {});
  } catch (err) {
    fail(source.name, `not a readable TIFF: ${messageOf(err)}`);
  }
}

/** Describe a GeoTIFF (see the module comment); errors name the file and the cause. */
export async function openGeoTiff(file: string, remote?: RemoteFile): Promise<GeoTiffFile> {
  const source = await sourceOf(file, remote);
  try {
    const tiff = await openTiff(source);
    const images: { im: GeoTIFFImage; ifd: number }[] = [];
    try {
      const count = await tiff.getImageCount();
      for (let i = 0; i < count; i++) images.push({ im: await tiff.getImage(i), ifd: i });
    } catch (err) {
      if (isGeoZarrError(err)) throw err;
      fail(file, `not a readable TIFF: ${messageOf(err)}`);
    }
    const subfile = (im: GeoTIFFImage) => Number(im.getFileDirectory().getValue("NewSubfileType") ?? 0);
    const main = images.find((x) => (subfile(x.im) & 1) === 0) ?? images[0];
    if (!main) fail(file, "no image in the TIFF");
    const le = tiff.littleEndian;
    const image = await describeImage(file, main.im, main.ifd, le);
    const notes: string[] = [];
    const overviews: TiffImage[] = [];
    for (const x of images) {
      const t = subfile(x.im);
      if (x === main) continue;
      if (t & 4) {
        if (!notes.some((n) => n.includes("mask")))
          notes.push(`${file}: the internal transparency mask is not converted`);
        continue;
      }
      if (!(t & 1)) continue; // further pages of a multi-page TIFF
      const o = await describeImage(file, x.im, x.ifd, le);
      if (o.bands !== image.bands || o.dataType !== image.dataType) {
        notes.push(
          `${file}: overview IFD ${x.ifd} (${o.width} x ${o.height}) differs in bands or sample type: not used`,
        );
        continue;
      }
      o.metadata = parseGdalMetadata(await x.im.getFileDirectory().loadValue("GDAL_METADATA")).dataset;
      overviews.push(o);
    }
    overviews.sort((a, b) => b.width - a.width);
    const fd = main.im.getFileDirectory();
    if (fd.getValue("PhotometricInterpretation") === 3)
      notes.push(`${file}: the colour map is not converted`);
    let geoKeys: GeoKeys | null;
    try {
      geoKeys = main.im.getGeoKeys() as GeoKeys | null;
    } catch (err) {
      fail(file, `unreadable GeoKeyDirectory: ${messageOf(err)}`);
    }
    const meta = parseGdalMetadata(await fd.loadValue("GDAL_METADATA"));
    const datetime = await fd.loadValue("DateTime");
    return {
      file,
      ...(remote ? { remote } : {}),
      image,
      overviews,
      geoKeys: geoKeys
        ? Object.fromEntries(Object.entries(geoKeys).map(([k, v]) => [k, numbers(v) ?? v]))
        : null,
      tags: {
        pixelScale: numbers(fd.getValue("ModelPixelScale")),
        tiepoints: numbers(fd.getValue("ModelTiepoint")),
        transformation: numbers(fd.getValue("ModelTransformation")),
      },
      nodata: parseNodata(fd.getValue("GDAL_NODATA")),
      metadata: {
        dataset: meta.dataset,
        bands: Array.from({ length: image.bands }, (_, i) => meta.bands[i] ?? {}),
      },
      datetime: typeof datetime === "string" ? datetime.replace(/\0+$/, "").trim() || null : null,
      notes,
    };
  } finally {
    await source.close();
  }
}

/** How a worker reads values of one image: plain data, re-opened on each thread. */
export interface TiffRef {
  file: string;
  /** A TIFF in object storage (its URL is `file`): tiles are ranged reads. */
  remote?: RemoteFile | undefined;
  image: TiffImage;
  /** The samples (0-based band indices) along the box's band axis; one for a 2-D (y, x) box. */
  samples: number[];
  /** The value of blocks the file leaves out (sparse files): GDAL's nodata, else 0. */
  fill: number;
}

/** An image opened on this thread: its decoder and where its blocks are. */
interface OpenImage {
  decode: BlockDecoder;
  /** TileOffsets/TileByteCounts (StripOffsets/StripByteCounts), read whole once per thread. */
  offsets: ArrayLike<number | bigint>;
  counts: ArrayLike<number | bigint>;
}

interface OpenFile {
  source: BlockSource;
  tiff: GeoTIFF;
  images: Map<number, OpenImage>;
}

// Open files per thread, under the version they were opened at (kept.ts).
const kept = new Kept<OpenFile>((f) => void f.source.close());

/** Close every file this thread opened (tests; workers end with their thread). */
export function closeTiffs(): void {
  kept.clear();
}

/** A local file's own source, or the thread's byte source of an object (byte-source.ts). */
async function sourceOf(file: string, remote: RemoteFile | undefined): Promise<BlockSource> {
  if (!remote) return new FileRangeSource(file);
  return new ByteRangeSource(file, await byteSource(file, remote.version, remote));
}

async function imageOf(ref: TiffRef): Promise<OpenImage & { source: BlockSource }> {
  const version = ref.remote ? keptVersion(ref.remote) : fileVersion(ref.file);
  let f = kept.lookup(ref.file, version);
  if (!f) {
    const source = await sourceOf(ref.file, ref.remote);
    f = kept.keep(ref.file, version, { source, tiff: await openTiff(source), images: new Map() });
  }
  let entry = f.images.get(ref.image.ifd);
  if (!entry) {
    const img = ref.image;
    const im = await f.tiff.getImage(img.ifd);
    const fd = im.getFileDirectory();
    const decode = await blockDecoder(img.layout, fd as never, ref.file);
    // The block tables in one read each: fetched entry by entry (geotiff.js's loadValueIndexed),
    // they cost two reads and a promise chain per block.
    const [offsetsTag, countsTag] = img.tiled
      ? (["TileOffsets", "TileByteCounts"] as const)
      : (["StripOffsets", "StripByteCounts"] as const);
    const table = async (tag: typeof offsetsTag | typeof countsTag) => {
      const v = (await fd.loadValue(tag)) as unknown;
      return (typeof v === "number" ? [v] : (v ?? [])) as ArrayLike<number | bigint>;
    };
    const offsets = await table(offsetsTag);
    const counts = await table(countsTag);
    const l = img.layout;
    const blocks =
      Math.ceil(img.width / l.blockWidth) *
      Math.ceil(img.height / l.blockHeight) *
      (l.planar === 2 ? img.bands : 1);
    if (offsets.length < blocks || counts.length < blocks)
      fail(
        ref.file,
        `IFD ${img.ifd}: ${offsets.length} ${offsetsTag} and ${counts.length} ${countsTag} for the ${blocks} ${img.tiled ? "tiles" : "strips"} of a ${img.width} x ${img.height} image`,
      );
    entry = { decode, offsets, counts };
    f.images.set(img.ifd, entry);
  }
  return { ...entry, source: f.source };
}

/**
 * Read `box` of an image, in array coordinates (band, y, x), or (y, x) for one sample, into the
 * parts of `targets` it overlaps; each block the box touches is read and decoded once. Blocks
 * reaching past the box write their values there too (the values another box would write, as
 * zarr/read/read-task.ts does with chunks), clipped to each target. Returns the bytes the box holds.
 */
export async function readTiffInto(ref: TiffRef, box: Box, targets: readonly OutBox[]): Promise<number> {
  const { decode, offsets, counts, source } = await imageOf(ref);
  const img = ref.image;
  const l = img.layout;
  const planes = box.shape.length === 3;
  const [b0, nb] = planes ? [box.start[0]!, box.shape[0]!] : [0, 1];
  const [y0, ny, x0, nx] = planes
    ? [box.start[1]!, box.shape[1]!, box.start[2]!, box.shape[2]!]
    : [box.start[0]!, box.shape[0]!, box.start[1]!, box.shape[1]!];
  if (y0 < 0 || x0 < 0 || y0 + ny > img.height || x0 + nx > img.width || b0 + nb > ref.samples.length)
    throw new Error(
      `readTiffInto: box ${JSON.stringify(box)} outside the ${img.width} x ${img.height} image`,
    );
  const across = Math.ceil(img.width / l.blockWidth);
  const down = Math.ceil(img.height / l.blockHeight);
  const itemSize = dataTypeInfo(img.dataType).size;
  // Samples of the box, by the block that holds them: one block for all when pixel-interleaved.
  const groups =
    l.planar === 2
      ? ref.samples.slice(b0, b0 + nb).map((s, i) => ({ plane: s, bands: [[b0 + i, 0] as const] }))
      : [{ plane: 0, bands: ref.samples.slice(b0, b0 + nb).map((s, i) => [b0 + i, s] as const) }];
  const blocks: Block[] = [];
  for (let by = Math.floor(y0 / l.blockHeight); by <= Math.floor((y0 + ny - 1) / l.blockHeight); by++) {
    const rows = Math.min(l.blockHeight, img.height - by * l.blockHeight);
    for (let bx = Math.floor(x0 / l.blockWidth); bx <= Math.floor((x0 + nx - 1) / l.blockWidth); bx++) {
      for (const g of groups) {
        const index = g.plane * across * down + by * across + bx;
        const area = {
          y: by * l.blockHeight,
          x: bx * l.blockWidth,
          rows,
          cols: Math.min(l.blockWidth, img.width - bx * l.blockWidth),
        };
        blocks.push({
          index,
          offset: Number(offsets[index]),
          count: Number(counts[index]),
          area,
          bands: g.bands,
        });
      }
    }
  }
  const decodeOne = async (b: Block, bytes: Uint8Array | null) => {
    const copy = (block: Uint8Array | null) => {
      for (const t of targets)
        copyBlock(block, b.area, b.bands, l, img.dataType, itemSize, ref.fill, planes, t);
    };
    if (bytes) await decode(bytes, img.tiled ? l.blockHeight : b.area.rows, whatOf(img, b), copy);
    else copy(null);
  };
  const stored = (b: Block) => b.count > 0 && Number.isFinite(b.offset);
  const size = (b: Block) => (stored(b) ? b.count : 0);
  // The blocks' ranges a batch at a time into this thread's kept buffer: one block per call from a
  // local file, up to batchBytes from object storage (remote-source.ts fetches them in parallel),
  // as hdf5-direct.ts reads a segment's chunks. Each block is decoded before anything else can
  // read into the buffer.
  for (let first = 0; first < blocks.length; ) {
    const last = batchEnd((i) => size(blocks[i]!), first, blocks.length, source.batchBytes);
    const batch = blocks.slice(first, last);
    const buffer = keptBuffer(batch.reduce((sum, b) => sum + size(b), 0));
    const parts: { block: Block; position: number; into: Uint8Array }[] = [];
    let at = 0;
    for (const b of batch) {
      if (!stored(b)) continue;
      parts.push({ block: b, position: b.offset, into: buffer.subarray(at, at + b.count) });
      at += b.count;
    }
    const got = source.readParts(parts);
    const byBlock = new Map(parts.map((p, k) => [p.block, { p, n: got[k]! }]));
    for (const b of batch) {
      const r = byBlock.get(b);
      if (r && r.n !== b.count)
        throw truncated(source, { offset: b.offset, length: b.count }, whatOf(img, b));
      await decodeOne(b, r ? r.p.into : null);
    }
    first = last;
  }
  return nb * ny * nx * itemSize;
}

/** A block of an image the box touches: where it is stored and which samples of it go where. */
interface Block {
  index: number;
  offset: number;
  count: number;
  area: { y: number; x: number; rows: number; cols: number };
  bands: readonly (readonly [number, number])[];
}

const whatOf = (img: TiffImage, b: Block) => `${img.tiled ? "tile" : "strip"} ${b.index} of IFD ${img.ifd}`;

/** Copy the samples `bands` ([output band, sample in block]) of a decoded block into a target box. */
function copyBlock(
  block: Uint8Array | null,
  area: { y: number; x: number; rows: number; cols: number },
  bands: readonly (readonly [number, number])[],
  l: BlockLayout,
  dataType: DataType,
  itemSize: number,
  fill: number,
  planes: boolean,
  t: OutBox,
): void {
  const [tb0, tnb, ty0, tny, tx0, tnx] = planes
    ? [t.box.start[0]!, t.box.shape[0]!, t.box.start[1]!, t.box.shape[1]!, t.box.start[2]!, t.box.shape[2]!]
    : [0, 1, t.box.start[0]!, t.box.shape[0]!, t.box.start[1]!, t.box.shape[1]!];
  const ya = Math.max(area.y, ty0);
  const yb = Math.min(area.y + area.rows, ty0 + tny);
  const xa = Math.max(area.x, tx0);
  const xb = Math.min(area.x + area.cols, tx0 + tnx);
  if (ya >= yb || xa >= xb) return;
  const dst = viewAs(dataType, new Uint8Array(t.buffer)) as Float64Array;
  const src = block
    ? (viewAs(dataType, block.subarray(0, block.byteLength - (block.byteLength % itemSize))) as Float64Array)
    : null;
  const stride = l.samplesInBlock;
  const n = xb - xa;
  for (const [ob, s] of bands) {
    if (ob < tb0 || ob >= tb0 + tnb) continue;
    if (block && stride === 1) {
      // One band per block: its rows in one call (a tile's 512 rows one by one cost more than
      // their bytes).
      const d = ((ob - tb0) * tny + (ya - ty0)) * tnx + (xa - tx0);
      const so = (ya - area.y) * l.blockWidth + (xa - area.x);
      const out = new Uint8Array(t.buffer);
      const z = itemSize;
      copyRowsInto(block, so * z, l.blockWidth * z, out, d * z, tnx * z, n * z, yb - ya);
      continue;
    }
    for (let y = ya; y < yb; y++) {
      const d = ((ob - tb0) * tny + (y - ty0)) * tnx + (xa - tx0);
      if (!src) {
        dst.fill((isBigInt(dataType) ? BigInt(fill) : fill) as number, d, d + n);
        continue;
      }
      const so = ((y - area.y) * l.blockWidth + (xa - area.x)) * stride + s;
      if (stride === 1) dst.set(src.subarray(so, so + n), d);
      else for (let i = 0; i < n; i++) dst[d + i] = src[so + i * stride]!;
    }
  }
}
