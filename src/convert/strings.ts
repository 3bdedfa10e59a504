/**
 * String arrays in a conversion plan (docs/design.md "Strings"): what type each output format
 * gets, the values converted to it, and the plan node that writes them whole.
 *
 * Zarr v2 keeps the source's type: byte strings stay `|S<n>` (the bytes as they are, what xarray
 * writes for NetCDF `char` arrays), fixed-width unicode `<U<n>`, variable-length strings `|O` with
 * vlen-utf8. Zarr v3 writes every string array as `string` (vlen-utf8): byte strings are decoded
 * as UTF-8 (CF 1.12 §2.2: text in a `char` array is UTF-8), or as their `_Encoding` says, and an
 * array whose bytes do not decode is refused with the reason rather than written altered.
 * @module
 */

import type { CodecChoice } from "../zarr/codecs/choice.js";
import { decodeBytes, type StringType } from "../zarr/strings.js";
import type { StringArraySpec } from "../zarr/write/strings.js";
import type { NodePlan } from "./execute.js";

/** A string array to write: its layout and type as the source has them, and its values. */
export interface StringSource extends Omit<StringArraySpec, "codec"> {
  path: string;
  /** Every element, in C order (binary strings for byte strings). */
  values: string[];
}

/** The plan node of a string array in `zarrFormat`, or why it cannot be written there. */
export function planStrings(
  s: StringSource,
  zarrFormat: 2 | 3,
  codec: CodecChoice,
): { node: Extract<NodePlan, { kind: "strings" }> } | { refused: string } {
  const t = s.stringType;
  const attributes = { ...s.attributes };
  let stringType: StringType = t.kind === "utf32" ? { ...t, endian: "little" } : t;
  let values = s.values;
  let fillValue = s.fillValue;
  if (zarrFormat === 3) {
    stringType = { kind: "vlen-utf8" };
    if (t.kind === "bytes") {
      // `_Encoding` (netCDF-C, xarray) names the bytes' encoding; once decoded it no longer
      // applies (xarray would decode the text again).
      const label = typeof attributes._Encoding === "string" ? attributes._Encoding : "utf-8";
      delete attributes._Encoding;
      const decoded: string[] = [];
      for (const [i, v] of values.entries()) {
        const text = decodeBytes(v, label);
        if (text === undefined)
          return {
            refused: `its bytes are not ${label} text (element ${i}): Zarr v3 strings are UTF-8; --zarr-format 2 keeps them as |S${t.length}`,
          };
        decoded.push(text);
      }
      values = decoded;
      fillValue = fillValue === null ? null : (decodeBytes(fillValue, label) ?? null);
    }
    fillValue ??= "";
  }
  return {
    node: {
      kind: "strings",
      path: s.path,
      spec: {
        shape: s.shape,
        chunkShape: s.chunkShape,
        stringType,
        fillValue,
        dimensionNames: s.dimensionNames,
        attributes,
        codec,
      },
      values,
    },
  };
}
