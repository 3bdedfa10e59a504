import { addLevels, type PyramidOptions, type PyramidSummary } from "../../node.js";
import { type CommandSpec, intOption, type OptionValues, stringOption } from "../args.js";
import { humanBytes, noteZstdBackend } from "../io.js";
import { progressBar } from "../progress.js";
import type { Command } from "./types.js";

/** Options shared by `pyramid` and `convert --multiscales`. */
export const PYRAMID_OPTIONS: CommandSpec["options"] = {
  levels: {
    type: "string",
    arg: "N",
    description: "overview levels below full resolution (default: halve until the grid fits in one tile)",
  },
  resampling: {
    type: "string",
    arg: "METHOD",
    description: "average (default), nearest, mode, min or max; CF flag variables always use mode",
  },
  "tile-size": {
    type: "string",
    arg: "256|512",
    description: "chunks of the overview levels along Y/X (default 512)",
  },
  tms: {
    type: "string",
    arg: "WebMercatorQuad",
    description:
      "EPSG:3857 zoom levels on the XYZ tile grid instead (groups 0..Z; the data stays at the root; --resampling nearest|bilinear)",
  },
};

export function pyramidOptions(values: OptionValues): PyramidOptions {
  return {
    levels: intOption(values, "levels", 1),
    resampling: stringOption(values, "resampling") as PyramidOptions["resampling"],
    tileSize: intOption(values, "tile-size", 1),
    tms: stringOption(values, "tms") as PyramidOptions["tms"],
    codec: stringOption(values, "codec"),
    workers: intOption(values, "workers", 0),
  };
}

export function pyramidLine(s: PyramidSummary): string {
  const shapes = s.levels.map((l) => `${l.shape[0]}x${l.shape[1]}`).join(", ");
  const methods = [...new Set(s.variables.map((v) => v.resampling))].join("/");
  const n = s.levels.length - 1;
  const from = s.sourceLevels ?? 0;
  // Levels the source had (a COG's overviews) are copied, not resampled.
  const span = (a: number, b: number) => (a === b ? `level ${a}` : `levels ${a}-${b}`);
  const how =
    from === 0
      ? `${s.variables.length} variables resampled (${methods})`
      : from >= n
        ? `${span(1, n)} from the source's overviews`
        : `${span(1, from)} from the source's overviews, ${span(from + 1, n)} resampled (${methods})`;
  return `${s.store}: ${s.levels.length} levels (${shapes}), ${how}, ${humanBytes(s.storedBytes)}B of overviews`;
}

const spec: CommandSpec = {
  name: "pyramid",
  summary:
    "Add multiscale overview levels to a GeoZarr store: the dataset moves to level 0 and levels 1, 2, ... each halve the resolution (NaN- and fill-aware), with GeoZarr v0.4 (v2) or zarr-conventions multiscales (v3) metadata. The store is replaced only when complete.",
  positionals: ["STORE"],
  options: {
    ...PYRAMID_OPTIONS,
    codec: {
      type: "string",
      arg: "SPEC",
      description: "compression of the overview levels (default zstd:1)",
    },
    workers: { type: "string", arg: "N", description: "worker threads (default: number of cores; 0 = none)" },
  },
  details: `Levels are child groups "0" (the data as it was; its chunks are hard-linked, not rewritten),
"1", "2", ...; each level holds the data variables, its own 1-D coordinates, the grid-mapping
variable with the level's GeoTransform, and the other small variables (time), so it is a GeoZarr
dataset by itself. Packed integers are averaged as decoded values and re-packed.
A store in s3:// is copied to a local temporary directory, given its levels there and uploaded
chunks first, its consolidated metadata last: readers see the old store until the new one is
complete, and an interrupted run leaves it as it was (run pyramid again).
Zarr v2 stores need their data chunked by the tile size along Y/X (GeoZarr v0.4 requires tiles to
match chunks at every level): convert with --multiscales, or rechunk with --chunks first.
With --tms WebMercatorQuad (EPSG:4326 data), the levels are EPSG:3857 zoom levels aligned to the
XYZ tiles, named by zoom ("0" = the world in one tile, up to the deepest zoom not finer than the
data), sampled nearest or bilinear from the data, each coarser zoom reduced from the one above;
the data stays at the root.
Examples:
  geozarr pyramid mur.zarr
  geozarr pyramid mur.zarr --levels 4 --resampling nearest --tile-size 256
  geozarr pyramid mur.zarr --tms WebMercatorQuad --resampling bilinear --tile-size 256`,
};

export const pyramid: Command = {
  spec,
  async run({ positionals, values }, io, signal) {
    noteZstdBackend(io);
    const bar = progressBar(process.stderr, "levels", !values.json);
    let summary: PyramidSummary;
    try {
      summary = await addLevels(positionals[0]!, {
        ...pyramidOptions(values),
        signal,
        onProgress: (p) =>
          bar.update({ done: p.unitsDone, total: p.unitsTotal, bytesDone: 0, bytesTotal: 0, unit: "chunks" }),
      });
    } finally {
      bar.finish();
    }
    if (values.json) io.json(summary);
    else io.out(`${pyramidLine(summary)} in ${summary.seconds.toFixed(1)}s`);
    return 0;
  },
};
