/**
 * `geozarr pyramid STORE --tms WebMercatorQuad`: EPSG:3857 zoom levels aligned to the XYZ tile
 * grid (pyramid/webmercator.ts), as the geozarr-examples notebooks make with rio-tiler.
 *
 * The dataset stays where it is, at the root (GeoZarr v0.4: the primary dataset at the root, the
 * others in child groups); zoom levels are child groups named by their WebMercatorQuad tile
 * matrix id, "0" (the world in one tile) to "Z", each a GeoZarr dataset in EPSG:3857: the data
 * variables on (..., y, x), 1-D `y`/`x` coordinates in metres (cell centres), a `spatial_ref` with
 * the EPSG:3857 WKT, CF attributes and GeoTransform, and the small variables (time). The root
 * gains GeoZarr v0.4's `multiscales: {tile_matrix_set: "WebMercatorQuad", resampling_method}` (v2)
 * or the zarr-conventions layout (v3). Written aside and swapped in, as `addLevels`.
 *
 * @module
 */

import type { NodePlan } from "../convert/execute.js";
import {
  conventionAttributes,
  type Georef as GridGeoref,
  spatialRefAttributes,
} from "../convert/netcdf/grid.js";
import { prepareOutput } from "../convert/output.js";
import { IDENTITY } from "../convert/transform.js";
import { GeoZarrError } from "../errors.js";
import { declarationsOf, declare, MULTISCALES_CONVENTION, multiscalesAttribute } from "../geo/conventions.js";
import { resolveCrs } from "../geo/crs.js";
import { affineGrid } from "../geo/grid.js";
import { defaultWorkerCount, WorkerPool } from "../parallel/pool.js";
import { type CodecChoice, codecChoiceOf } from "../zarr/codecs/choice.js";
import type { JsonObject } from "../zarr/json.js";
import type { ArrayMeta } from "../zarr/metadata/model.js";
import { readGridChunkShape } from "../zarr/read/read-task.js";
import { FileSystemStore } from "../zarr/store/fs.js";
import { refFor } from "../zarr/store/ref.js";
import { joinKey } from "../zarr/store/types.js";
import { encodeChunk } from "../zarr/write/encode.js";
import { HierarchyWriter } from "../zarr/write/writer.js";
import type { PyramidOptions, PyramidSummary } from "./build.js";
import { copyNodes, nameOf, openDataset, readMeta, storedAttributes, writeLevelNodes } from "./dataset.js";
import { DEFAULT_TILE_SIZE } from "./levels.js";
import { finestZoom, type TmsSampling, type ZoomLevel, zoomLevel } from "./webmercator.js";

/**
 * CF has no grid mapping for EPSG:3857 (pyproj's to_cf gives only crs_wkt): like GDAL's netCDF
 * driver, describe it as CF `mercator` on the WGS 84 semi-major axis sphere; crs_wkt stays the
 * authoritative definition.
 */
const PSEUDO_MERCATOR_CF: JsonObject = {
  grid_mapping_name: "mercator",
  longitude_of_projection_origin: 0,
  standard_parallel: 0,
  false_easting: 0,
  false_northing: 0,
  semi_major_axis: 6378137,
  semi_minor_axis: 6378137,
  reference_ellipsoid_name: "WGS 84",
  prime_meridian_name: "Greenwich",
  geographic_crs_name: "WGS 84",
  horizontal_datum_name: "World Geodetic System 1984",
  projected_crs_name: "WGS 84 / Pseudo-Mercator",
};

/** Attributes the level's own CRS and grid replace. */
const GRID_ATTRS = /^(proj:|spatial:|zarr_conventions$|grid_mapping$|coordinates$)/;

export async function addWebMercatorLevels(
  dir: string,
  options: PyramidOptions = {},
): Promise<PyramidSummary> {
  const t0 = performance.now();
  const method = (options.resampling ?? "nearest") as TmsSampling;
  const tile = options.tileSize ?? DEFAULT_TILE_SIZE;
  const codec = codecChoiceOf(options.codec);
  const { h, root, ds } = await openDataset(dir);
  const g = ds.georef;
  if (!g.crs?.geographic || g.crs.code !== "EPSG:4326")
    throw new GeoZarrError(
      "Unsupported",
      `${dir}: --tms WebMercatorQuad reprojects EPSG:4326 data; this grid is ${g.crs?.code ?? g.crs?.name ?? "in an unknown CRS"}`,
    );
  const nd = (ds.grid[0]!.meta as ArrayMeta).shape.length;
  if (g.yAxis !== nd - 2 || g.xAxis !== nd - 1)
    throw new GeoZarrError(
      "Unsupported",
      `${dir}: --tms needs ${g.yDim} and ${g.xDim} as the last two dimensions`,
    );
  if (g.affine[1] !== 0 || g.affine[3] !== 0) throw new GeoZarrError("Unsupported", `${dir}: a rotated grid`);
  const top = finestZoom(Math.abs(g.affine[0]!), tile, (options.levels ?? Number.POSITIVE_INFINITY) - 1);
  const zooms = Array.from({ length: top + 1 }, (_, z) => zoomLevel(z, tile));
  const v3 = h.zarrFormat === 3;
  const crs = { ...resolveCrs("EPSG:3857"), cf: PSEUDO_MERCATOR_CF };

  const pending = await prepareOutput(dir, true);
  try {
    const store = new FileSystemStore(pending.tmp);
    const w = new HierarchyWriter(store, h.zarrFormat);
    // The dataset as it is, at the root: documents copied, chunks linked.
    const rootAttrs = storedAttributes(h, root);
    await w.group("/", { ...rootAttrs, ...multiscalesOf(zooms, method, v3, rootAttrs) });
    await copyNodes(
      h,
      [...h.nodes.values()].filter((n) => n.path !== "/"),
      w,
      store,
      "/",
    );
    const pool = new WorkerPool(options.workers ?? defaultWorkerCount());
    const detach = pool.stopOn(options.signal);
    let storedBytes = 0;
    try {
      for (const zl of [...zooms].reverse()) {
        const group = `/${zl.zoom}`;
        const georef: GridGeoref = {
          crs,
          yDim: "y",
          xDim: "x",
          // The zoom's own transform, so the group and its layout entry say the same.
          transform: affineGrid(zl.affine, [zl.size, zl.size]),
          from: "--crs",
        };
        const levelConventions = v3 ? conventionAttributes(georef, ["y", "x"]) : {};
        const nodes: NodePlan[] = [{ kind: "group", path: group, attributes: levelConventions }];
        for (const n of ds.grid) {
          const meta = n.meta as ArrayMeta;
          const name = nameOf(n.path);
          const attrs: JsonObject = { grid_mapping: "spatial_ref" };
          for (const [k, v] of Object.entries(meta.attributes)) if (!GRID_ATTRS.test(k)) attrs[k] = v;
          const shape = [...meta.shape.slice(0, -2), zl.size, zl.size];
          const lead = readGridChunkShape(meta).slice(0, -2);
          const fromZoom = zl.zoom === top;
          const prev = fromZoom
            ? meta
            : await readMeta(
                store,
                joinKey(`/${zl.zoom + 1}`, name, v3 ? "zarr.json" : ".zarray"),
                v3,
                h.name,
              );
          nodes.push({
            kind: "array",
            path: `${group}/${name}`,
            spec: {
              shape,
              chunkShape: [...lead, tile, tile],
              dataType: meta.dataType,
              fillValue: meta.fillValue,
              dimensionNames: [...(meta.dimensionNames ?? []).slice(0, -2).map(String), "y", "x"],
              attributes: v3 ? { ...attrs, ...levelConventions } : attrs,
              codec,
            },
            copy: {
              derived: {
                task: "downsample-band",
                source: {
                  store: refFor(fromZoom ? h.store : store, pool.size > 0),
                  storeName: h.name,
                  path: fromZoom ? n.path : `/${zl.zoom + 1}/${name}`,
                  meta: prev,
                  yAxis: nd - 2,
                  xAxis: nd - 1,
                  // Coarser zooms: 2 x 2 reductions of the zoom above (the tiles nest exactly).
                  method: method === "nearest" ? "nearest" : "average",
                  mercator: fromZoom ? { affine: g.affine, zoom: zl.zoom, tile, method: method } : undefined,
                },
              },
              sourceChunks: [...lead.map(() => 1), fromZoom ? tile : tile / 2, fromZoom ? tile : tile / 2],
              sourceType: meta.dataType,
              sourceFill: meta.fillValue,
              transform: IDENTITY,
            },
          });
        }
        const s = await writeLevelNodes(nodes, store, w, pool, options.signal);
        storedBytes += s.storedBytes;
        await writeZoomExtras(w, zl, georef, codec, v3);
        await copyNodes(h, ds.small, w, store, group);
      }
    } finally {
      detach();
      await pool.close();
    }
    await w.consolidate();
    await pending.commit();
    return {
      store: dir,
      zarrFormat: h.zarrFormat,
      levels: zooms.map((z) => ({ asset: String(z.zoom), shape: [z.size, z.size], transform: z.affine })),
      variables: ds.grid.map((n) => ({ name: nameOf(n.path), resampling: method as "nearest" })),
      fullResolutionOnly: ds.rest.map((n) => n.path),
      storedBytes,
      seconds: (performance.now() - t0) / 1000,
    };
  } catch (err) {
    await pending.abort();
    throw err;
  }
}

/** The zoom level's x/y coordinates (cell centres, metres) and its EPSG:3857 grid mapping. */
async function writeZoomExtras(
  w: HierarchyWriter,
  zl: ZoomLevel,
  georef: GridGeoref,
  codec: CodecChoice,
  v3: boolean,
): Promise<void> {
  const group = `/${zl.zoom}`;
  for (const [axis, origin, step] of [
    ["x", zl.affine[2]!, zl.affine[0]!],
    ["y", zl.affine[5]!, zl.affine[4]!],
  ] as const) {
    const values = Float64Array.from({ length: zl.size }, (_, i) => origin + (i + 0.5) * step);
    const spec = {
      shape: [zl.size],
      chunkShape: [zl.size],
      dataType: "float64" as const,
      fillValue: Number.NaN,
      dimensionNames: [axis],
      attributes: {
        standard_name: `projection_${axis}_coordinate`,
        long_name: `${axis} coordinate of projection`,
        units: "m",
        axis: axis.toUpperCase(),
      },
      codec,
    };
    await w.array(`${group}/${axis}`, spec);
    const bytes = await encodeChunk(values, spec.chunkShape, spec);
    if (bytes) await w.chunk(`${group}/${axis}`, [0], bytes);
  }
  await w.array(`${group}/spatial_ref`, {
    shape: [],
    chunkShape: [],
    dataType: "int64",
    fillValue: v3 ? 0n : null,
    dimensionNames: [],
    attributes: spatialRefAttributes(georef),
    codec,
  });
}

/** The root's multiscale metadata: GeoZarr v0.4's named tile matrix set, or the v3 layout. */
function multiscalesOf(
  zooms: ZoomLevel[],
  method: TmsSampling,
  v3: boolean,
  rootAttrs: JsonObject,
): JsonObject {
  if (!v3) return { multiscales: { tile_matrix_set: "WebMercatorQuad", resampling_method: method } };
  // Zooms finest first, each a 2 x 2 reduction of the zoom above (the finest is sampled from the
  // dataset at the root, which a layout cannot name as an asset).
  const levels = [...zooms].reverse().map((z) => ({
    asset: String(z.zoom),
    shape: [z.size, z.size],
    affine: z.affine,
    resampling: method === "nearest" ? "nearest" : "average",
  }));
  return {
    zarr_conventions: declare([MULTISCALES_CONVENTION, ...declarationsOf(rootAttrs)]),
    multiscales: multiscalesAttribute(levels, method, { tile_matrix_set: "WebMercatorQuad" }),
  };
}
