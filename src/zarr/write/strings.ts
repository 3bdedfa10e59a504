/**
 * Write a string array (strings.ts): its document and its chunks, from the whole list of its
 * strings (string arrays are small: limits.ts). What each format gets is decided in
 * docs/design.md ("Strings"): v2 keeps fixed-width `|S<n>`/`<U<n>` or variable-length `|O` with
 * numcodecs' vlen-utf8 filter (zarr-python 2.13 and xarray's choice); v3 writes the `string` data
 * type with the `vlen-utf8` codec (zarr-extensions), the one string type zarrita, zarr-python 3
 * and xarray all read.
 * @module
 */

import { GeoZarrError } from "../../errors.js";
import { type CodecChoice, compressBytes, v2Compressor, v3Compressors } from "../codecs/choice.js";
import type { JsonObject } from "../json.js";
import { chunkGridShape, product } from "../metadata/model.js";
import { chunkBox, gridIndices } from "../ndarray.js";
import { encodeStringFill, type StringType } from "../strings.js";

export interface StringArraySpec {
  shape: number[];
  chunkShape: number[];
  /** v3 writes only variable-length UTF-8 (`string`). */
  stringType: StringType;
  fillValue: string | null;
  dimensionNames: string[] | null;
  attributes: JsonObject;
  codec: CodecChoice;
}

/** The v2 `.zarray` of a string array (keys in zarr-python's order). */
export function stringZarray(spec: StringArraySpec): JsonObject {
  const t = spec.stringType;
  return {
    chunks: spec.chunkShape,
    compressor: v2Compressor(spec.codec),
    dimension_separator: ".",
    dtype: t.kind === "vlen-utf8" ? "|O" : t.kind === "bytes" ? `|S${t.length}` : `<U${t.length}`,
    fill_value: encodeStringFill(spec.fillValue, t, 2),
    filters: t.kind === "vlen-utf8" ? [{ id: "vlen-utf8" }] : null,
    order: "C",
    shape: spec.shape,
    zarr_format: 2,
  };
}

/** The v3 `zarr.json` of a string array: `string` + `vlen-utf8`, then the compressor. */
export function stringZarrJson(path: string, spec: StringArraySpec): JsonObject {
  if (spec.stringType.kind !== "vlen-utf8")
    throw new GeoZarrError("Usage", `${path}: Zarr v3 strings are written as variable-length UTF-8`, {
      where: path,
    });
  const doc: JsonObject = {
    zarr_format: 3,
    node_type: "array",
    shape: spec.shape,
    data_type: "string",
    chunk_grid: { name: "regular", configuration: { chunk_shape: spec.chunkShape } },
    chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
    fill_value: encodeStringFill(spec.fillValue, spec.stringType, 3),
    codecs: [
      { name: "vlen-utf8", configuration: {} },
      ...v3Compressors(spec.codec, 1),
    ] as unknown as JsonObject[string],
    attributes: spec.attributes,
  };
  if (spec.dimensionNames) doc.dimension_names = spec.dimensionNames;
  return doc;
}

/**
 * The bytes of one chunk of strings (C order, edge chunks padded with the fill):
 *  - `|S<n>`: n bytes per element, NUL-padded (numpy `bytes_`);
 *  - `<U<n>`: n little-endian UTF-32 code points per element, NUL-padded (numpy `str_`);
 *  - vlen-utf8: the element count, then each element's UTF-8 byte length and bytes, all lengths
 *    uint32 little-endian (numcodecs VLenUTF8, which the zarr-extensions codec refers to).
 */
export function encodeStringChunk(values: readonly string[], t: StringType, where: string): Uint8Array {
  const tooLong = (s: string) =>
    new GeoZarrError(
      "Usage",
      `${where}: ${JSON.stringify(s)} does not fit in ${t.kind} of length ${(t as { length: number }).length}`,
      {
        where,
      },
    );
  if (t.kind === "bytes") {
    const out = new Uint8Array(values.length * t.length);
    values.forEach((s, i) => {
      if (s.length > t.length) throw tooLong(s);
      for (let j = 0; j < s.length; j++) out[i * t.length + j] = s.charCodeAt(j);
    });
    return out;
  }
  if (t.kind === "utf32") {
    const out = new Uint8Array(values.length * t.length * 4);
    const view = new DataView(out.buffer);
    values.forEach((s, i) => {
      const cps = [...s].map((c) => c.codePointAt(0)!);
      if (cps.length > t.length) throw tooLong(s);
      cps.forEach((cp, j) => {
        view.setUint32(4 * (i * t.length + j), cp, true);
      });
    });
    return out;
  }
  const encoder = new TextEncoder();
  const items = values.map((s) => encoder.encode(s));
  const out = new Uint8Array(4 + items.reduce((n, b) => n + 4 + b.length, 0));
  const view = new DataView(out.buffer);
  view.setUint32(0, items.length, true);
  let pos = 4;
  for (const b of items) {
    view.setUint32(pos, b.length, true);
    out.set(b, pos + 4);
    pos += 4 + b.length;
  }
  return out;
}

/**
 * Every chunk of a string array, compressed: `values` is the whole array in C order. Yields the
 * chunk's grid coordinates, its encoded size and its stored bytes.
 */
export async function* stringChunks(
  spec: StringArraySpec,
  values: readonly string[],
  where: string,
): AsyncGenerator<{ coords: number[]; raw: number; bytes: Uint8Array }> {
  if (values.length !== product(spec.shape))
    throw new GeoZarrError(
      "Usage",
      `${where}: ${values.length} strings for shape (${spec.shape.join(", ")})`,
      { where },
    );
  const strides = spec.shape.map((_, d) => product(spec.shape.slice(d + 1)));
  const fill = spec.fillValue ?? "";
  for (const coords of gridIndices(chunkGridShape(spec.shape, spec.chunkShape))) {
    const box = chunkBox(coords, spec.chunkShape, spec.shape);
    const chunk = new Array<string>(product(spec.chunkShape)).fill(fill);
    const cStrides = spec.chunkShape.map((_, d) => product(spec.chunkShape.slice(d + 1)));
    for (const idx of gridIndices(box.shape)) {
      let src = 0;
      let dst = 0;
      for (let d = 0; d < idx.length; d++) {
        src += (box.start[d]! + idx[d]!) * strides[d]!;
        dst += idx[d]! * cStrides[d]!;
      }
      chunk[dst] = values[src]!;
    }
    const raw = encodeStringChunk(chunk, spec.stringType, where);
    // Blosc shuffles by code unit: 4 for UTF-32, 1 for bytes.
    const bytes = await compressBytes(spec.codec, raw, spec.stringType.kind === "utf32" ? 4 : 1);
    yield { coords, raw: raw.length, bytes };
  }
}
