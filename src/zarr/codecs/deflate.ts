/**
 * gzip and zlib through node:zlib (native). zarrita can only decode these (through
 * DecompressionStream), and the writer needs to encode them.
 * @module
 */

import { deflateSync, gunzipSync, gzipSync, inflateSync } from "node:zlib";

const view = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

export const gzipEncode = (src: Uint8Array, level: number) => view(gzipSync(src, { level }));
// gunzip accepts concatenated members, as Python's gzip module writes them.
export const gzipDecode = (src: Uint8Array) => view(gunzipSync(src));
export const zlibEncode = (src: Uint8Array, level: number) => view(deflateSync(src, { level }));
export const zlibDecode = (src: Uint8Array) => view(inflateSync(src));
