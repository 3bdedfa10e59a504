/**
 * Small gridded stores written in memory with the library's own writer, for overview and map
 * tests: a (time, lat, lon) int16 variable packed with scale_factor/add_offset and a fill value,
 * georeferenced by coordinates, a `spatial:transform`, or a GDAL GeoTransform.
 */

import type { JsonObject } from "../../src/zarr/json.js";
import { chunkGridShape } from "../../src/zarr/metadata/model.js";
import { chunkBox, copyBox, gridIndices } from "../../src/zarr/ndarray.js";
import { MemoryStore } from "../../src/zarr/store/memory.js";
import { encodeChunk } from "../../src/zarr/write/encode.js";
import { HierarchyWriter } from "../../src/zarr/write/writer.js";

export interface GridOptions {
  format?: 2 | 3;
  times?: number;
  rows: number;
  cols: number;
  chunks: [number, number];
  /** Latitude grows with the row (MUR's order); else north-up. */
  southUp?: boolean;
  georef?: "coordinates" | "spatial" | "geotransform";
  /** Cell size in degrees. */
  step?: number;
}

export const FILL = -32768;
export const SCALE = 0.01;
export const OFFSET = 280;

export interface GridStore {
  store: MemoryStore;
  /** Raw stored values, C order (time, row, col), FILL where missing. */
  raw: Int16Array;
  /** Physical values (NaN where missing), same order. */
  physical: Float64Array;
  opts: Required<GridOptions>;
}

export async function gridStore(o: GridOptions): Promise<GridStore> {
  const opts: Required<GridOptions> = {
    format: 3,
    times: 1,
    southUp: true,
    georef: "coordinates",
    step: 1,
    ...o,
  };
  const { rows, cols, times, step } = opts;
  const shape = [times, rows, cols];
  const raw = new Int16Array(times * rows * cols);
  for (let t = 0; t < times; t++)
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) {
        const i = (t * rows + r) * cols + c;
        // A smooth field with holes (missing cells) in a pattern that cuts across chunks.
        raw[i] =
          (r * 7 + c * 3 + t * 11) % 17 === 0
            ? FILL
            : Math.round(100 * Math.sin(r / 5) + 50 * Math.cos(c / 7) + 30 * t);
      }
  const physical = Float64Array.from(raw, (v) => (v === FILL ? Number.NaN : v * SCALE + OFFSET));

  const store = new MemoryStore();
  const w = new HierarchyWriter(store, opts.format);
  const codec = { name: "zstd", level: 1 } as const;
  const lat0 = opts.southUp ? (-rows * step) / 2 + step / 2 : (rows * step) / 2 - step / 2;
  const dlat = opts.southUp ? step : -step;
  const lon0 = (-cols * step) / 2 + step / 2;
  const spatial: JsonObject =
    opts.georef === "spatial"
      ? {
          "spatial:dimensions": ["lat", "lon"],
          "spatial:transform": [step, 0, lon0 - step / 2, 0, dlat, lat0 - dlat / 2],
          "proj:code": "EPSG:4326",
        }
      : {};
  await w.group("/", { Conventions: "CF-1.11", ...spatial });
  const attrs: JsonObject = {
    standard_name: "sea_surface_temperature",
    units: "kelvin",
    scale_factor: SCALE,
    add_offset: OFFSET,
    _FillValue: FILL,
    ...(opts.georef === "geotransform" ? { grid_mapping: "crs" } : {}),
  };
  await w.array("/sst", {
    shape,
    chunkShape: [1, ...opts.chunks],
    dataType: "int16",
    fillValue: FILL,
    dimensionNames: ["time", "lat", "lon"],
    attributes: attrs,
    codec,
  });
  const cshape = [1, ...opts.chunks];
  for (const coords of gridIndices(chunkGridShape(shape, cshape))) {
    const box = chunkBox(coords, cshape, shape);
    const chunk = new Int16Array(cshape.reduce((a, b) => a * b, 1)).fill(FILL);
    copyBox(raw, shape, box.start, chunk, cshape, [0, 0, 0], box.shape);
    const bytes = await encodeChunk(chunk, cshape, { dataType: "int16", fillValue: FILL, codec });
    if (bytes) await w.chunk("/sst", coords, bytes);
  }
  await w.array("/time", {
    shape: [times],
    chunkShape: [times],
    dataType: "float64",
    fillValue: Number.NaN,
    dimensionNames: ["time"],
    attributes: { units: "days since 2020-01-01", calendar: "standard", standard_name: "time" },
    codec,
  });
  await w.chunk(
    "/time",
    [0],
    (await encodeChunk(
      Float64Array.from({ length: times }, (_, i) => i),
      [times],
      { dataType: "float64", fillValue: Number.NaN, codec },
    ))!,
  );
  if (opts.georef === "coordinates") {
    const lat = Float64Array.from({ length: rows }, (_, i) => lat0 + i * dlat);
    const lon = Float64Array.from({ length: cols }, (_, i) => lon0 + i * step);
    await w.array("/lat", {
      shape: [rows],
      chunkShape: [rows],
      dataType: "float64",
      fillValue: Number.NaN,
      dimensionNames: ["lat"],
      attributes: { standard_name: "latitude", units: "degrees_north" },
      codec,
    });
    await w.chunk(
      "/lat",
      [0],
      (await encodeChunk(lat, [rows], { dataType: "float64", fillValue: Number.NaN, codec }))!,
    );
    await w.array("/lon", {
      shape: [cols],
      chunkShape: [cols],
      dataType: "float64",
      fillValue: Number.NaN,
      dimensionNames: ["lon"],
      attributes: { standard_name: "longitude", units: "degrees_east" },
      codec,
    });
    await w.chunk(
      "/lon",
      [0],
      (await encodeChunk(lon, [cols], { dataType: "float64", fillValue: Number.NaN, codec }))!,
    );
  }
  if (opts.georef === "geotransform") {
    await w.array("/crs", {
      shape: [],
      chunkShape: [],
      dataType: "int8",
      fillValue: 0,
      dimensionNames: [],
      attributes: {
        grid_mapping_name: "latitude_longitude",
        GeoTransform: `${lon0 - step / 2} ${step} 0 ${lat0 - dlat / 2} 0 ${dlat}`,
        crs_wkt:
          'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4326"]]',
      },
      codec,
    });
  }
  await w.consolidate();
  return { store, raw, physical, opts };
}

/** The physical plane at time t, north-up (flipped when the store is south-up). */
export function northUpPlane(g: GridStore, t: number): Float64Array {
  const { rows, cols, southUp } = g.opts;
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const src = southUp ? rows - 1 - r : r;
    out.set(g.physical.subarray((t * rows + src) * cols, (t * rows + src + 1) * cols), r * cols);
  }
  return out;
}
