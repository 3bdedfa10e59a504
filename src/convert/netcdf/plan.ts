/**
 * Plan a NetCDF file as a GeoZarr hierarchy: one Zarr group per NetCDF group, the selected
 * variables as arrays with CF attributes, the CRS as a scalar `spatial_ref` grid-mapping variable
 * named by every data variable's `grid_mapping` (GeoZarr v0.4; CF 1.11 §5.6), and, in Zarr v3,
 * the `proj:`/`spatial:` conventions.
 *
 * Values: kept packed by default (int16 + scale_factor/add_offset, fill_value = _FillValue, what
 * xarray writes without an explicit encoding); `unpack` decodes as xarray's mask_and_scale does.
 * @module
 */

import {
  asUnsigned,
  decodeValues,
  encodeAttributeFill,
  isUnsignedHint,
  NETCDF_DEFAULT_FILL,
  numbersOf,
  scalarOf,
  unsignedOf,
  valueOfType,
} from "../../cf/packing.js";
import { GeoZarrError } from "../../errors.js";
import { axisRole } from "../../geo/grid.js";
import type { SourceDataset, SourceGroup, SourceVariable } from "../../readers/model.js";
import { readVariableBox } from "../../readers/read.js";
import type { CodecChoice } from "../../zarr/codecs/choice.js";
import { type DataType, dataTypeInfo, isFloat } from "../../zarr/dtype.js";
import { defaultFillValue, type FillValue } from "../../zarr/fill-value.js";
import type { JsonObject, JsonValue } from "../../zarr/json.js";
import { joinKey } from "../../zarr/store/types.js";
import type { NodePlan } from "../execute.js";
import { checkDimNames, chunkShapeFor, type DimSizes, defaultChunkShape, shardShapeFor } from "../options.js";
import { IDENTITY, type Transform } from "../transform.js";
import { conventionAttributes, detectGeorefs, type Georef, spatialRefAttributes } from "./grid.js";
import { type Dropped, isCoordinate, nameList, type Selection, selectVariables, textDims } from "./select.js";
import { planText } from "./text.js";

export interface NetcdfPlanOptions {
  zarrFormat: 2 | 3;
  chunks?: DimSizes | undefined;
  shards?: DimSizes | undefined;
  codec: CodecChoice;
  variables?: string[] | undefined;
  requireStandardName?: boolean | undefined;
  unpack?: "float32" | "float64" | undefined;
  crs?: string | undefined;
  /** Default chunk size along X/Y (SPATIAL_CHUNK); the pyramid's tile size for v2 multiscales. */
  spatialChunk?: number | undefined;
  /** The line prepended to the root `history` attribute. */
  history: string;
}

export interface NetcdfPlan {
  nodes: NodePlan[];
  dropped: Dropped[];
  /** Things the user should know about the output (e.g. variables GeoZarr v0.4 will find lacking). */
  notes: string[];
  georef: { group: string; crs: string; from: Georef["from"]; regular: boolean }[];
}

/** Default chunk size along X/Y; the other dimensions fill the chunk towards TARGET_CHUNK_BYTES. */
export const SPATIAL_CHUNK = 4096;

const num = (v: JsonValue | undefined): number | undefined => (typeof v === "number" ? v : undefined);

interface Encoding {
  dataType: DataType;
  fillValue: FillValue;
  sourceFill: FillValue;
  transform: Transform;
  attributes: JsonObject;
  /** What was changed in the attributes, for the conversion's notes. */
  notes: string[];
}

const shown = (x: JsonValue) =>
  typeof x === "string"
    ? JSON.stringify(x)
    : typeof x === "number" && Math.abs(x) >= 1e15
      ? x.toExponential()
      : String(x);

/**
 * `missing_value` as values of the variable's type (CF 1.11 §2.5.1), as xarray's encoder casts it:
 * numeric text ("12", GDAL's missing_value_text_numeric.nc) becomes the number, a float64 value of a
 * float32 variable the float32 one. A value the type cannot hold (1e20 on int32 in GDAL's
 * orog_CRCM*.nc, "12.5" or "not_numeric" on a byte, "-1.e+34f") is left out with a note: no value
 * of the variable equals it, so it masks nothing for any reader, and xarray refuses to write it.
 * For `_Unsigned` variables either the signed storage type or the unsigned one it means will do.
 */
function missingValueOfType(a: JsonObject, v: SourceVariable, unsigned: boolean, notes: string[]): void {
  const mv = a.missing_value;
  if (mv === undefined) return;
  const items = Array.isArray(mv) ? mv : [mv];
  const types = unsigned ? [v.dataType, unsignedOf(v.dataType)] : [v.dataType];
  const cast = items.map((x) => types.map((t) => valueOfType(x, t)).find((y) => y !== undefined));
  const kept = cast.filter((x): x is number | bigint => x !== undefined);
  const name = v.path.replace(/^\//, "");
  const changed = items.filter((x, i) => cast[i] !== undefined && !Object.is(x, cast[i]));
  if (changed.length)
    notes.push(
      `${name}: missing_value ${changed.map(shown).join(", ")} written as ${changed.map((x) => shown(cast[items.indexOf(x)]!)).join(", ")}, of the variable's type ${v.dataType} (CF §2.5.1; as xarray encodes it)`,
    );
  const lost = items.filter((_, i) => cast[i] === undefined);
  if (lost.length)
    notes.push(
      `${name}: missing_value ${lost.map(shown).join(", ")} left out: not a value of the variable's type ${v.dataType} (CF §2.5.1), so no value equals it (xarray refuses to write it)`,
    );
  if (kept.length === 0) delete a.missing_value;
  else a.missing_value = Array.isArray(mv) ? kept : kept[0]!;
}

/** Attributes in the stored type's terms (CF §2.5.1, NUG `_Unsigned`): what `_Unsigned` converts. */
const STORED_TERMS = [
  "_FillValue",
  "missing_value",
  "valid_min",
  "valid_max",
  "valid_range",
  "flag_values",
  "flag_masks",
];

/**
 * How one variable's values are stored: packed as is, or decoded (xarray's mask_and_scale).
 *
 * `_Unsigned = "true"` on signed storage: the values are unsigned (NUG; GOES-R ABI, GDAL's
 * classic Byte rasters), so they are stored as the unsigned type of the same size, bytes
 * unchanged, with `_FillValue`, `missing_value`, `valid_*` and flags converted and `_Unsigned`
 * dropped; unpacking reads them as unsigned before `scale_factor`/`add_offset`, as xarray does.
 *
 * Fill values (docs/design.md, "Fill values"): v2 carries `_FillValue` in `fill_value` (xarray's
 * convention, which xarray and GDAL mask); v3 keeps the `_FillValue` attribute as well, because
 * current xarray masks only the attribute. Without `_FillValue`, integers get no fill in v2 and
 * netCDF-C's default fill in v3 (never a plausible 0); floats get NaN.
 */
function encodingOf(v: SourceVariable, opts: NetcdfPlanOptions, isData: boolean): Encoding {
  const a = { ...v.attributes };
  const unsigned = isUnsignedHint(a, v.dataType);
  const stored = unsigned ? unsignedOf(v.dataType) : v.dataType;
  const rawFill = scalarOf(a._FillValue);
  const notes: string[] = [];
  missingValueOfType(a, v, unsigned, notes);
  if (unsigned) {
    delete a._Unsigned;
    const conv = (x: JsonValue): JsonValue => (typeof x === "number" ? asUnsigned(x, v.dataType) : x);
    for (const k of STORED_TERMS)
      if (a[k] !== undefined) a[k] = Array.isArray(a[k]) ? (a[k] as JsonValue[]).map(conv) : conv(a[k]!);
  }
  const declared = scalarOf(a._FillValue);
  const missingValues = [declared, ...numbersOf(a.missing_value)].filter(
    (x): x is number | bigint => x !== undefined && !Number.isNaN(Number(x)),
  );
  const fill: FillValue | undefined = declared ?? scalarOf(a.missing_value);
  const scale = num(a.scale_factor);
  const offset = num(a.add_offset);
  const packed = !isFloat(v.dataType) && (scale !== undefined || offset !== undefined);
  const masked = missingValues.length > 0;
  // Flags are categories, not quantities: they stay integers even when unpacking (CF §3.5).
  const flags = a.flag_values !== undefined || a.flag_masks !== undefined;
  // Zarr's fill_value carries _FillValue (xarray's convention); in v2 keep missing_value only if it
  // differs (fill_value is masked), in v3 always (only attributes are masked there).
  delete a._FillValue;
  if (opts.zarrFormat === 2 && a.missing_value === fill) delete a.missing_value;
  if (isData && opts.unpack && !flags && (packed || masked)) {
    const s = scale ?? 1;
    const o = offset ?? 0;
    delete a.scale_factor;
    delete a.add_offset;
    delete a.missing_value;
    // valid_* are in stored units (CF §2.5.1): convert them with the values (CF-13).
    const conv = (x: JsonValue | undefined) =>
      typeof x === "number"
        ? x * s + o
        : Array.isArray(x)
          ? x.map((y) => (typeof y === "number" ? y * s + o : y))
          : x;
    for (const k of ["valid_min", "valid_max", "valid_range", "actual_range"])
      if (a[k] !== undefined) a[k] = conv(a[k])!;
    if (s < 0 && typeof a.valid_min === "number" && typeof a.valid_max === "number")
      [a.valid_min, a.valid_max] = [a.valid_max, a.valid_min];
    if (opts.zarrFormat === 3) a._FillValue = encodeAttributeFill(Number.NaN, opts.unpack);
    return {
      dataType: opts.unpack,
      fillValue: Number.NaN,
      sourceFill: rawFill ?? defaultFillValue(v.dataType),
      transform: {
        kind: "unpack",
        scale: s,
        offset: o,
        missing: missingValues,
        float32: opts.unpack === "float32",
        ...(unsigned ? { unsignedOf: v.dataType } : {}),
      },
      attributes: a,
      notes,
    };
  }
  let fillValue: FillValue;
  if (fill !== undefined) fillValue = fill;
  else if (isFloat(stored)) fillValue = Number.NaN;
  else fillValue = opts.zarrFormat === 3 ? NETCDF_DEFAULT_FILL[stored] : null;
  // A coordinate variable's _FillValue NaN (GDAL's invalid_valid_min_valid_max.nc x/y) masks only
  // NaN, which a float reads as missing anyway: a no-op for every reader, and a coordinate variable
  // has no missing values (CF 1.11 §5; CF-04). v3 then says what v2's fill_value NaN says, no more.
  const noOpOnCoordinate =
    !isData && isCoordinate(v) && isFloat(stored) && declared !== undefined && Number.isNaN(Number(declared));
  if (noOpOnCoordinate && opts.zarrFormat === 3)
    notes.push(
      `${v.path.replace(/^\//, "")}: _FillValue NaN not kept as an attribute: a coordinate variable has no missing values (CF §5), and NaN masks only NaN`,
    );
  if (opts.zarrFormat === 3 && declared !== undefined && !noOpOnCoordinate)
    a._FillValue = encodeAttributeFill(declared, stored);
  // Edge padding is in the source's terms (before the signed -> unsigned view).
  const sourceFill: FillValue =
    rawFill ?? (fillValue === null || unsigned ? defaultFillValue(v.dataType) : fillValue);
  return {
    dataType: stored,
    fillValue,
    sourceFill,
    transform: IDENTITY,
    attributes: a,
    notes,
  };
}

const ROLE_NAMES = {
  lat: "latitude",
  lon: "longitude",
  y: "projection_y_coordinate",
  x: "projection_x_coordinate",
} as const;

/** The CF standard name of a 1-D coordinate with units, recognised by its units, axis or name (CF §4). */
function recognisedStandardName(v: SourceVariable): string | undefined {
  if (v.dims.length !== 1) return undefined;
  const role = axisRole(v.name, v.attributes);
  const units = typeof v.attributes.units === "string" ? v.attributes.units : "";
  // Without units a name claims what the source does not say (CF-03 would then ask for units).
  if (units.trim() === "") return undefined;
  // Scan angles (geostationary x/y in radians) have their own names (CF Appendix F).
  if ((role === "x" || role === "y") && /^(rad|radians?|microradians?)$/i.test(units.trim()))
    return `projection_${role}_angular_coordinate`;
  if (role) return ROLE_NAMES[role];
  // Time coordinates: "<unit> since <reference>" (CF §4.4)
  if (/^\s*\w+\s+since\s+\S/.test(units)) return "time";
  return undefined;
}

export async function planNetcdf(ds: SourceDataset, opts: NetcdfPlanOptions): Promise<NetcdfPlan> {
  if (opts.shards && opts.zarrFormat === 2)
    throw new GeoZarrError("Usage", "--shard needs --zarr-format 3 (Zarr v2 has no sharding)");
  const allNames = ds.groups.flatMap((g) =>
    [...g.variables, ...g.others.filter((o) => o.text)].map((v) =>
      g.path === "/" ? v.name : `${g.path.slice(1)}/${v.name}`,
    ),
  );
  const allDims = new Set(ds.groups.flatMap((g) => g.variables.flatMap((v) => v.dims)));
  checkDimNames("--chunks", opts.chunks, allDims);
  checkDimNames("--shard", opts.shards, allDims);
  const plan: NetcdfPlan = {
    nodes: [],
    dropped: [],
    notes: [],
    georef: [],
  };
  const sels = selectAll(ds, opts, allNames);
  for (const group of ds.groups) await planGroup(ds, group, sels.get(group)!, opts, plan);
  return plan;
}

/**
 * Every group's selection, children first: a dimension's coordinate variable lives in the group
 * that defines the dimension, and variables of its descendant groups use it (NetCDF-4 scoping; CF
 * 1.11 §2.7, §4), so it is kept for them too.
 */
function selectAll(
  ds: SourceDataset,
  opts: NetcdfPlanOptions,
  allNames: string[],
): Map<SourceGroup, Selection> {
  const within = (g: SourceGroup, a: SourceGroup) => a.path === "/" || g.path.startsWith(`${a.path}/`);
  // The group whose dimension `d` a variable of `g` uses: the nearest that defines it.
  const owner = (d: string, g: SourceGroup) =>
    ds.groups
      .filter((a) => (a === g || within(g, a)) && d in a.dims)
      .sort((a, b) => b.path.length - a.path.length)[0];
  const sels = new Map<SourceGroup, Selection>();
  for (const group of [...ds.groups].reverse()) {
    const inherited = new Set<string>();
    for (const [g, s] of sels) {
      if (g === group || !within(g, group)) continue;
      const dims = [...s.data, ...s.coords].flatMap((v) => v.dims).concat(s.texts.flatMap(textDims));
      for (const d of dims) if (owner(d, g) === group) inherited.add(d);
    }
    sels.set(group, selectVariables(group, opts, allNames, inherited));
  }
  return sels;
}

async function planGroup(
  ds: SourceDataset,
  group: SourceGroup,
  sel: Selection,
  opts: NetcdfPlanOptions,
  plan: NetcdfPlan,
): Promise<void> {
  plan.dropped.push(
    ...sel.dropped.map((d) => ({
      ...d,
      name: group.path === "/" ? d.name : `${group.path.slice(1)}/${d.name}`,
    })),
  );
  const byName = new Map(group.variables.map((v) => [v.name, v]));
  const ref = (v: SourceVariable) => ({
    kind: "netcdf" as const,
    format: ds.format,
    file: ds.file,
    path: v.path,
    dataType: v.dataType,
    hdf5: v.hdf5,
    ...(ds.remote ? { remote: ds.remote } : {}),
  });

  // Coordinate values (1-D, small) decide the grid's regularity and transform. Dimensions and
  // their coordinates are visible in child groups (NetCDF-4 scoping): look in the ancestors too.
  const visible = ds.groups
    .filter((g) => g === group || group.path.startsWith(g.path === "/" ? "/" : `${g.path}/`))
    .reverse()
    .flatMap((g) => (g === group ? sel.coords : g.variables.filter(isCoordinate)));
  const coordVars = new Map<string, SourceVariable>();
  for (const c of visible) if (!coordVars.has(c.name)) coordVars.set(c.name, c);
  const coordValues = new Map<string, ArrayLike<number>>();
  for (const c of coordVars.values()) {
    if (c.dims.length !== 1) continue;
    const values = await readVariableBox(ref(c), { start: [0], shape: c.shape });
    // Packed coordinates (GOES x/y, GDAL's test_coord_scale_offset) are placed by their decoded values.
    coordValues.set(c.name, decodeValues(values, c.dataType, c.attributes));
  }
  const georefs = detectGeorefs(ds.file, { ...sel, coords: [...coordVars.values()] }, coordValues, opts.crs);
  const georef = georefs[0] ?? null;
  const base =
    byName.has("spatial_ref") && !sel.gridMappings.some((g) => g.name === "spatial_ref")
      ? "crs"
      : "spatial_ref";
  // One grid-mapping variable per grid: the primary one `spatial_ref`, the others named by their grid.
  const gmNames = georefs.map((g, i) => (i === 0 ? base : `${base}_${g.yDim}_${g.xDim}`));
  const gridOf = (v: SourceVariable) => {
    const i = georefs.findIndex((g) => v.dims.includes(g.yDim) && v.dims.includes(g.xDim));
    return i < 0 ? null : { georef: georefs[i]!, gmName: gmNames[i]! };
  };

  let attributes: JsonObject = { ...group.attributes };
  if (group.path === "/") {
    const old = typeof attributes.history === "string" && attributes.history ? `\n${attributes.history}` : "";
    attributes.history = `${opts.history}${old}`;
  }
  if (georef && opts.zarrFormat === 3) attributes = { ...attributes, ...conventionAttributes(georef) };
  plan.nodes.push({ kind: "group", path: group.path, attributes });
  for (const [i, g] of georefs.entries()) {
    if (g.note) plan.notes.push(g.note);
    plan.georef.push({
      group: group.path,
      crs: g.crs.code ?? g.crs.name,
      from: g.from,
      regular: g.transform !== null,
    });
    plan.nodes.push({
      kind: "array",
      path: joinKey(group.path, gmNames[i]!),
      spec: {
        shape: [],
        chunkShape: [],
        dataType: "int64",
        fillValue: opts.zarrFormat === 3 ? 0n : null,
        dimensionNames: [],
        attributes: spatialRefAttributes(g),
        codec: opts.codec,
      },
      // rioxarray's spatial_ref holds the value 0; the CRS is in the attributes.
      copy: {
        source: { kind: "constant", value: 0n, dataType: "int64" },
        sourceChunks: [],
        sourceType: "int64",
        sourceFill: 0n,
        transform: IDENTITY,
      },
    });
  }

  const unnamed = sel.data.filter((v) => typeof v.attributes.standard_name !== "string").map((v) => v.name);
  if (unnamed.length) {
    plan.notes.push(
      `${unnamed.join(", ")} ${unnamed.length > 1 ? "have" : "has"} no standard_name, which GeoZarr v0.4 requires (--require-standard-name drops such variables)`,
    );
  }
  for (const v of [...sel.coords, ...sel.data]) {
    const isData = sel.data.includes(v);
    const enc = encodingOf(v, opts, isData);
    plan.notes.push(...enc.notes);
    const attrs = enc.attributes;
    // Coordinates carry the standard name we recognised them by (GeoZarr v0.4 wants one: G4-04).
    if (!isData && typeof attrs.standard_name !== "string") {
      const name = recognisedStandardName(v);
      if (name) attrs.standard_name = name;
    }
    const grid = gridOf(v);
    const onGrid = grid !== null;
    if (isData && grid) attrs.grid_mapping = grid.gmName;
    else if (typeof attrs.grid_mapping === "string") delete attrs.grid_mapping;
    // A `coordinates` attribute naming only dimension coordinates is redundant (the notebook drops it).
    const listed = nameList(attrs.coordinates);
    if (listed.length && listed.every((n) => byName.get(n) && isCoordinate(byName.get(n)!)))
      delete attrs.coordinates;
    if (isData && onGrid && opts.zarrFormat === 3) {
      const yx: [string, string] = [grid.georef.yDim, grid.georef.xDim];
      Object.assign(attrs, conventionAttributes(grid.georef, yx));
    }
    // Default chunks: coordinates whole; data 4096 along Y/X, the other dims filled towards the
    // target chunk size (options.ts defaultChunkShape; documented in `convert --help`).
    const defaults = isCoordinate(v)
      ? v.shape
      : defaultChunkShape(
          v.shape,
          dataTypeInfo(enc.dataType).size,
          (i) => grid !== null && (v.dims[i] === grid.georef.yDim || v.dims[i] === grid.georef.xDim),
          opts.spatialChunk ?? SPATIAL_CHUNK,
        );
    const chunkShape = chunkShapeFor(v.shape, v.dims, opts.chunks, defaults);
    const shardShape = shardShapeFor(v.path, v.shape, v.dims, opts.shards, chunkShape);
    plan.nodes.push({
      kind: "array",
      path: v.path,
      spec: {
        shape: v.shape,
        chunkShape,
        shardShape,
        dataType: enc.dataType,
        fillValue: enc.fillValue,
        dimensionNames: v.dims,
        attributes: attrs,
        codec: opts.codec,
      },
      copy: {
        source: ref(v),
        sourceChunks: v.chunks ?? shardShape ?? chunkShape,
        sourceType: v.dataType,
        sourceFill: enc.sourceFill,
        transform: enc.transform,
      },
      grid:
        isData && onGrid
          ? { yAxis: v.dims.indexOf(grid.georef.yDim), xAxis: v.dims.indexOf(grid.georef.xDim) }
          : undefined,
    });
  }
  // Text variables (labels, station or band names) as string arrays, written whole.
  for (const t of sel.texts) {
    const planned = await planText(ds, t, opts);
    if ("node" in planned) plan.nodes.push(planned.node);
    else
      plan.dropped.push({
        name: group.path === "/" ? t.name : `${group.path.slice(1)}/${t.name}`,
        reason: planned.refused,
      });
  }
}
