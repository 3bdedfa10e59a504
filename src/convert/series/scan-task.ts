/**
 * Task "scan-input": what a time series needs to know of one granule, read on a worker thread so
 * that thousands of files are opened in parallel: its size and modification time (task records),
 * every variable's dimensions, shape, type, storage chunks and packing attributes (the
 * consistency checks), where HDF5 keeps each variable (the readers' direct chunk reads), the
 * values of the concatenation dimension's coordinate, and a digest of every other 1-D coordinate
 * and of every grid mapping (the grid and the CRS must be the same in every granule). A GeoTIFF
 * scene gives its facts and its one time instead (scenes.ts).
 * @module
 */

import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import { fsError, GeoZarrError } from "../../errors.js";
import type { Hdf5Storage, InputFormat, SourceGroup, SourceVariable } from "../../readers/model.js";
import { openInputFile } from "../../readers/open.js";
import { closeFile, readVariableBox } from "../../readers/read.js";
import type { DataType } from "../../zarr/dtype.js";
import type { JsonValue } from "../../zarr/json.js";
import { detectInput } from "../plan-input.js";
import { planToJson } from "../plan-json.js";
import { type SceneFacts, scanScene } from "./scenes.js";

/** Attributes that say how values are stored: they must agree across the granules of a series. */
export const PACKING_ATTRIBUTES = [
  "scale_factor",
  "add_offset",
  "_FillValue",
  "missing_value",
  "_Unsigned",
  "units",
  "calendar",
] as const;

export interface ScannedVariable {
  dims: string[];
  shape: number[];
  dataType: DataType;
  chunks: number[] | null;
  packing: Record<string, JsonValue>;
  hdf5?: Hdf5Storage | undefined;
}

export interface ScannedInput {
  file: string;
  size: number;
  mtimeMs: number;
  format: InputFormat | "geotiff";
  /** Variable path -> its facts. */
  variables: Record<string, ScannedVariable>;
  /** The concatenation coordinate: its path, values and attributes (units, calendar). */
  concat: { path: string; values: number[]; attributes: Record<string, JsonValue> };
  /** Every other 1-D coordinate variable's path -> a digest of its values. */
  coordinates: Record<string, string>;
  /** Every grid mapping variable's path -> a digest of its attributes. */
  gridMappings: Record<string, string>;
  /** A GeoTIFF scene: its grid, CRS, bands, type, nodata and image (no variables of its own). */
  scene?: SceneFacts | undefined;
}

export interface ScanInputInput {
  file: string;
  /** The dimension the series is concatenated along ("time"). */
  concatDim: string;
  /** GeoTIFF scenes: the pattern of the date in their names (else their TIFFTAG_DATETIME). */
  timeFrom?: string | undefined;
}

const digest = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex").slice(0, 16);

function packingOf(v: SourceVariable): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const k of PACKING_ATTRIBUTES) if (v.attributes[k] !== undefined) out[k] = v.attributes[k]!;
  return out;
}

const pathIn = (g: SourceGroup, name: string) => (g.path === "/" ? `/${name}` : `${g.path}/${name}`);

export async function scanInput(input: ScanInputInput): Promise<ScannedInput> {
  const { file, concatDim } = input;
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(file);
  } catch (err) {
    throw fsError(err, file, "open");
  }
  if ((await detectInput(file)) === "geotiff")
    return { ...(await scanScene(file, concatDim, input.timeFrom)), size: st.size, mtimeMs: st.mtimeMs };
  if (input.timeFrom !== undefined)
    throw new GeoZarrError(
      "Usage",
      `${file}: timeFrom (the date in a file name) applies to GeoTIFF scenes; a NetCDF granule has its own ${concatDim} coordinate`,
      { where: file },
    );
  const ds = await openInputFile(file);
  const variables: ScannedInput["variables"] = {};
  const coordinates: ScannedInput["coordinates"] = {};
  const gridMappings: ScannedInput["gridMappings"] = {};
  let concat: ScannedInput["concat"] | null = null;
  const ref = (v: SourceVariable) => ({
    format: ds.format,
    file: ds.file,
    path: v.path,
    dataType: v.dataType,
    hdf5: v.hdf5,
  });
  // The coordinates are read through a handle this thread keeps: closed once read, so that a worker
  // scanning thousands of granules holds one at a time, not all (the tasks read with their own).
  try {
    for (const g of ds.groups) {
      for (const v of g.variables) {
        variables[v.path] = {
          dims: v.dims,
          shape: v.shape,
          dataType: v.dataType,
          chunks: v.chunks,
          packing: packingOf(v),
          ...(v.hdf5 ? { hdf5: v.hdf5 } : {}),
        };
        if (v.dims.length !== 1 || v.dims[0] !== v.name) continue;
        const values = await readVariableBox(ref(v), { start: [0], shape: v.shape });
        if (v.name === concatDim) {
          const attributes: Record<string, JsonValue> = {};
          for (const k of ["units", "calendar"])
            if (v.attributes[k] !== undefined) attributes[k] = v.attributes[k]!;
          concat = { path: v.path, values: Array.from(values as ArrayLike<number>, Number), attributes };
        } else
          coordinates[v.path] = digest(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
      }
      // Grid mappings (CF §5.6) are named by the data variables' grid_mapping attribute; any type.
      const named = new Set(
        [...g.variables, ...g.others].flatMap((v) =>
          typeof v.attributes.grid_mapping === "string"
            ? v.attributes.grid_mapping.split(/[\s:]+/).filter(Boolean)
            : [],
        ),
      );
      for (const v of [...g.variables, ...g.others])
        if (named.has(v.name)) gridMappings[pathIn(g, v.name)] = digest(planToJson(v.attributes));
    }
  } finally {
    closeFile(file);
  }
  if (!concat) {
    throw new GeoZarrError(
      "Format",
      `${file}: no coordinate variable "${concatDim}" to concatenate along (a 1-D variable named like its dimension)`,
      { where: file },
    );
  }
  return {
    file,
    size: st.size,
    mtimeMs: st.mtimeMs,
    format: ds.format,
    variables,
    concat,
    coordinates,
    gridMappings,
  };
}

export async function run(input: ScanInputInput): Promise<{ output: ScannedInput }> {
  return { output: await scanInput(input) };
}
