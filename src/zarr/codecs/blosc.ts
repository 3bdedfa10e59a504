/**
 * A Blosc 1 encoder (frame format of c-blosc 1.x, README_HEADER.rst), written here because the
 * numcodecs WASM build always records typesize 4 and ignores v3's string `shuffle` values
 * (docs/design.md "Why our own Blosc encoder"). Reading still goes through numcodecs' decoder, which
 * is a build of c-blosc itself.
 *
 * Frame: a 16-byte header (version, compressor version, flags, typesize, nbytes, blocksize, cbytes),
 * one int32 start offset per block, then per block one stream: int32 compressed size + bytes. Blocks
 * are never split into per-byte streams (flag DONT_SPLIT), which c-blosc decoders honour; a stream whose size equals the block size is stored raw, as c-blosc does.
 *
 * @module
 */

import { zlibEncode } from "./deflate.js";
import { zstdCompress } from "./zstd.js";

export type BloscCname = "zstd" | "zlib" | "lz4";
export type BloscShuffle = "noshuffle" | "shuffle" | "bitshuffle";

export interface BloscOptions {
  cname: BloscCname;
  clevel: number;
  shuffle: BloscShuffle;
  typesize: number;
  /** 0 picks a block size from the compressor, as c-blosc does. */
  blocksize?: number;
}

const FLAG_SHUFFLE = 0x01;
const FLAG_MEMCPYED = 0x02;
const FLAG_BITSHUFFLE = 0x04;
const FLAG_DONT_SPLIT = 0x10;
const HEADER = 16;
const COMPCODE: Record<BloscCname, number> = { lz4: 1, zlib: 3, zstd: 4 };

type BlockCompressor = (block: Uint8Array) => Uint8Array | Promise<Uint8Array>;

let lz4Block: BlockCompressor | undefined;

async function compressorFor(cname: BloscCname, clevel: number): Promise<BlockCompressor> {
  if (cname === "zstd") return (b) => zstdCompress(b, clevel);
  if (cname === "zlib") return (b) => zlibEncode(b, clevel);
  if (!lz4Block) {
    // numcodecs' LZ4 codec writes a 4-byte size header before a raw LZ4 block; blosc wants the block.
    const Lz4 = (await import("numcodecs/lz4")).default;
    const codec = Lz4.fromConfig({ id: "lz4", acceleration: 1 });
    lz4Block = async (src) => (await codec.encode(src)).subarray(4);
  }
  return lz4Block;
}

/** Block size: a multiple of 8 * typesize (bitshuffle works on groups of 8 elements). */
function chooseBlocksize(opts: BloscOptions, nbytes: number): number {
  const unit = 8 * opts.typesize;
  let bs = opts.blocksize && opts.blocksize > 0 ? opts.blocksize : opts.cname === "lz4" ? 1 << 16 : 1 << 18;
  bs = Math.max(unit, Math.floor(bs / unit) * unit);
  return Math.min(bs, Math.max(nbytes, 1));
}

export async function bloscEncode(src: Uint8Array, opts: BloscOptions): Promise<Uint8Array> {
  const nbytes = src.length;
  const typesize = opts.typesize;
  const blocksize = chooseBlocksize(opts, nbytes);
  const nblocks = Math.ceil(nbytes / blocksize);
  let flags = FLAG_DONT_SPLIT | (COMPCODE[opts.cname] << 5);
  if (opts.shuffle === "shuffle" && typesize > 1) flags |= FLAG_SHUFFLE;
  if (opts.shuffle === "bitshuffle") flags |= FLAG_BITSHUFFLE;

  const compress = await compressorFor(opts.cname, opts.clevel);
  const tmp = new Uint8Array(blocksize);
  const streams: Uint8Array[] = [];
  for (let b = 0; b < nblocks; b++) {
    const start = b * blocksize;
    const block = src.subarray(start, Math.min(nbytes, start + blocksize));
    let input = block;
    if (flags & FLAG_SHUFFLE) input = byteShuffle(block, typesize, tmp.subarray(0, block.length));
    else if (flags & FLAG_BITSHUFFLE) input = bitShuffle(block, typesize, tmp.subarray(0, block.length));
    const c = await compress(input);
    // A stream no smaller than its input is stored raw: the decoder copies when sizes match.
    const stream = c.length >= input.length ? input.slice() : c;
    streams.push(stream);
  }

  const cbytes = HEADER + 4 * nblocks + streams.reduce((s, x) => s + 4 + x.length, 0);
  if (cbytes >= nbytes + HEADER) {
    // Incompressible: the whole buffer follows the header (flag MEMCPYED).
    const out = new Uint8Array(HEADER + nbytes);
    writeHeader(out, flags | FLAG_MEMCPYED, typesize, nbytes, blocksize, HEADER + nbytes);
    out.set(src, HEADER);
    return out;
  }
  const out = new Uint8Array(cbytes);
  const dv = new DataView(out.buffer);
  writeHeader(out, flags, typesize, nbytes, blocksize, cbytes);
  let pos = HEADER + 4 * nblocks;
  streams.forEach((s, b) => {
    dv.setInt32(HEADER + 4 * b, pos, true);
    dv.setInt32(pos, s.length, true);
    out.set(s, pos + 4);
    pos += 4 + s.length;
  });
  return out;
}

function writeHeader(
  out: Uint8Array,
  flags: number,
  typesize: number,
  nbytes: number,
  blocksize: number,
  cbytes: number,
) {
  const dv = new DataView(out.buffer, out.byteOffset);
  out[0] = 2; // BLOSC_VERSION_FORMAT
  out[1] = 1; // compressor format version
  out[2] = flags;
  out[3] = typesize;
  dv.setUint32(4, nbytes, true);
  dv.setUint32(8, blocksize, true);
  dv.setUint32(12, cbytes, true);
}

/** Byte shuffle of one block: byte j of element i goes to j * nelem + i; trailing bytes stay. */
export function byteShuffle(src: Uint8Array, typesize: number, dst: Uint8Array): Uint8Array {
  const nelem = Math.floor(src.length / typesize);
  for (let j = 0; j < typesize; j++) {
    const base = j * nelem;
    for (let i = 0, s = j; i < nelem; i++, s += typesize) dst[base + i] = src[s]!;
  }
  dst.set(src.subarray(nelem * typesize), nelem * typesize);
  return dst;
}

/**
 * Bit shuffle of one block as c-blosc's bitshuffle(): only when the element count is a multiple of
 * 8, otherwise the block is copied unchanged. Output: for byte j and bit k of the element, a row of
 * nelem/8 bytes whose byte b, bit m is bit k of byte j of element 8b+m.
 */
export function bitShuffle(src: Uint8Array, typesize: number, dst: Uint8Array): Uint8Array {
  const nelem = Math.floor(src.length / typesize);
  if (nelem % 8 !== 0) {
    dst.set(src);
    return dst;
  }
  const nbr = nelem / 8;
  for (let j = 0; j < typesize; j++) {
    for (let b = 0; b < nbr; b++) {
      // Gather byte j of 8 consecutive elements, then transpose the 8x8 bit matrix.
      const e = 8 * b * typesize + j;
      let lo =
        src[e]! | (src[e + typesize]! << 8) | (src[e + 2 * typesize]! << 16) | (src[e + 3 * typesize]! << 24);
      let hi =
        src[e + 4 * typesize]! |
        (src[e + 5 * typesize]! << 8) |
        (src[e + 6 * typesize]! << 16) |
        (src[e + 7 * typesize]! << 24);
      // After transposing, byte k of (lo, hi) holds bit k of the 8 gathered bytes.
      [lo, hi] = transpose8x8(lo >>> 0, hi >>> 0);
      const row = j * 8 * nbr + b;
      for (let k = 0; k < 4; k++) dst[row + k * nbr] = (lo >>> (8 * k)) & 0xff;
      for (let k = 0; k < 4; k++) dst[row + (k + 4) * nbr] = (hi >>> (8 * k)) & 0xff;
    }
  }
  dst.set(src.subarray(nelem * typesize), nelem * typesize);
  return dst;
}

/**
 * Transpose an 8x8 bit matrix held little-endian in two 32-bit words (byte m = row m, bit k = column
 * k): afterwards byte k holds column k, bit m of it being row m's bit k. The delta-swap steps of
 * bitshuffle's TRANS_BIT_8X8, split over two words.
 */
function transpose8x8(lo: number, hi: number): [number, number] {
  let t: number;
  // swap bits across the diagonal within 2x2 blocks (distance 7 bits)
  t = (lo ^ (lo >>> 7)) & 0x00aa00aa;
  lo = lo ^ t ^ (t << 7);
  t = (hi ^ (hi >>> 7)) & 0x00aa00aa;
  hi = hi ^ t ^ (t << 7);
  // 2x2 blocks within 4x4 blocks (distance 14 bits)
  t = (lo ^ (lo >>> 14)) & 0x0000cccc;
  lo = lo ^ t ^ (t << 14);
  t = (hi ^ (hi >>> 14)) & 0x0000cccc;
  hi = hi ^ t ^ (t << 14);
  // 4x4 blocks across the two words (distance 28 bits = 4 bits into the other word)
  t = ((lo >>> 4) ^ hi) & 0x0f0f0f0f;
  hi = hi ^ t;
  lo = lo ^ (t << 4);
  return [lo >>> 0, hi >>> 0];
}
