/**
 * Text variables of a NetCDF file as string arrays (convert/strings.ts): NC_CHAR arrays (their
 * last dimension the string length, CF 1.11 §2.2) and HDF5 fixed-length ASCII strings become byte
 * strings, `|S<n>` in v2 as xarray writes them; NC_STRING and UTF-8 fixed-length strings become
 * variable-length strings. Values are read whole (they are small; one too large is refused).
 * @module
 */

import { messageOf } from "../../errors.js";
import type { RemoteFile } from "../../readers/byte-source.js";
import type { InputFormat } from "../../readers/model.js";
import { readText } from "../../readers/read.js";
import type { CodecChoice } from "../../zarr/codecs/choice.js";
import { checkStringArray } from "../../zarr/limits.js";
import type { StringType } from "../../zarr/strings.js";
import type { NodePlan } from "../execute.js";
import { chunkShapeFor, type DimSizes } from "../options.js";
import { planStrings } from "../strings.js";
import { type TextVariable, textDims } from "./select.js";

export interface TextPlanOptions {
  zarrFormat: 2 | 3;
  codec: CodecChoice;
  chunks?: DimSizes | undefined;
}

/** The plan node of a text variable, or why it is not converted. */
export async function planText(
  file: { file: string; format: InputFormat; remote?: RemoteFile | undefined },
  v: TextVariable,
  opts: TextPlanOptions,
): Promise<{ node: Extract<NodePlan, { kind: "strings" }> } | { refused: string }> {
  const dims = textDims(v);
  const shape = v.stacked ? v.shape.slice(0, -1) : v.shape;
  const width = v.stacked
    ? v.shape[v.shape.length - 1]!
    : v.text.kind === "char"
      ? 1
      : v.text.kind === "fixed"
        ? v.text.width
        : undefined;
  try {
    checkStringArray(v.path, shape, width);
  } catch (err) {
    return { refused: messageOf(err).replace(/^[^:]*: /, "") };
  }
  const text = await readText(
    { format: file.format, file: file.file, path: v.path, remote: file.remote },
    v.shape,
    v.text,
    v.stacked,
  );
  // Byte strings at least one byte wide: numpy has no `|S0`.
  const stringType: StringType = text.bytes
    ? { kind: "bytes", length: Math.max(1, text.width) }
    : { kind: "vlen-utf8" };
  return planStrings(
    {
      path: v.path,
      shape,
      chunkShape: chunkShapeFor(shape, dims, opts.chunks, shape),
      stringType,
      fillValue: null,
      dimensionNames: dims,
      attributes: { ...v.attributes },
      values: text.values,
    },
    opts.zarrFormat,
    opts.codec,
  );
}
