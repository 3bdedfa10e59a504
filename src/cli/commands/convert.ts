import { basename } from "node:path";
import { GeoZarrError } from "../../errors.js";
import { convert as runConvert } from "../../node.js";
import { type CommandSpec, REMOTE_OPTIONS, remoteOptions, sizeOption } from "../args.js";
import { humanBytes, noteZstdBackend, printNotes } from "../io.js";
import { progressBar } from "../progress.js";
import { QUEUE_OPTIONS, RUN_ONLY_OPTIONS, runQueued } from "./convert-queued.js";
import { encodingOptions, runSeries } from "./convert-series.js";
import { PYRAMID_OPTIONS, pyramidLine } from "./pyramid.js";
import type { Command } from "./types.js";

const spec: CommandSpec = {
  name: "convert",
  summary:
    "Convert a Zarr store (v2 or v3), a NetCDF file or a GeoTIFF/COG to GeoZarr in Zarr v2 or v3: re-chunk, re-compress, shard (v3), with attributes carried over and consolidated metadata written last. The output appears only when complete.",
  positionals: ["[INPUT...]", "OUTPUT"],
  options: {
    concat: {
      type: "string",
      arg: "DIM",
      description:
        "a time series: the inputs (NetCDF granules or GeoTIFF scenes; globs and --inputs-from too) into one store along DIM, in the order of their decoded times",
    },
    "time-from": {
      type: "string",
      arg: "REGEX",
      description:
        "GeoTIFF scenes: the date in each file name (the regex's first group or named year/month/day groups; default: TIFFTAG_DATETIME)",
    },
    append: {
      type: "string",
      arg: "DIM",
      description: "add the inputs' steps along DIM after those of the existing store OUTPUT",
    },
    "inputs-from": {
      type: "string",
      arg: "FILE",
      description: "read more inputs from FILE, one path per line",
    },
    resume: {
      type: "boolean",
      description:
        "continue an interrupted run (a time series, or one input to s3://) with the same arguments: only unfinished tasks run",
    },
    "replace-times": {
      type: "boolean",
      description: "with --append: granules whose times the store already has rewrite those steps in place",
    },
    "zarr-format": { type: "string", arg: "2|3", description: "output Zarr format (default 3)" },
    chunks: {
      type: "string",
      arg: "DIM=N,...",
      description: "chunk size per dimension name (others keep the source's)",
    },
    codec: {
      type: "string",
      arg: "SPEC",
      description:
        "zstd:LEVEL (default zstd:1), gzip:LEVEL, zlib:LEVEL (v2), blosc:CNAME:LEVEL:SHUFFLE, none",
    },
    shard: {
      type: "string",
      arg: "DIM=N,...",
      description: "v3 shard size per dimension name (multiples of the chunks)",
    },
    workers: { type: "string", arg: "N", description: "worker threads (default: number of cores; 0 = none)" },
    memory: {
      type: "string",
      arg: "SIZE",
      description:
        "data buffered at once per array (chunk buffers and the source-chunk cache; default 256M); workers add a few MiB each",
    },
    overwrite: { type: "boolean", description: "replace OUTPUT if it exists" },
    variables: {
      type: "string",
      arg: "A,B,...",
      description: "NetCDF: data variables to convert (default: all)",
    },
    "require-standard-name": {
      type: "boolean",
      description: "NetCDF: keep only data variables whose standard_name is in the CF standard name table",
    },
    unpack: {
      type: "string",
      arg: "float32|float64",
      description:
        "NetCDF: decode packed/masked values as xarray does (missing -> NaN); default: keep them packed",
    },
    crs: {
      type: "string",
      arg: "EPSG:N|WKT",
      description:
        "the CRS (default: NetCDF: the source's grid_mapping, or EPSG:4326 for a lat/lon grid; GeoTIFF: its GeoKeys)",
    },
    "bands-as-variables": {
      type: "boolean",
      description:
        "GeoTIFF: one (y, x) variable per band, named by its description (default: band_data on band, y, x)",
    },
    multiscales: {
      type: "boolean",
      description:
        "also write overview levels (as geozarr pyramid does): the data in group 0, levels 1, 2, ...",
    },
    ...PYRAMID_OPTIONS,
    ...QUEUE_OPTIONS,
    ...REMOTE_OPTIONS,
  },
  details: `Input: a Zarr store (directory), a NetCDF-4/HDF5 or NetCDF classic file, or a GeoTIFF
(tiled or striped, any integer or float samples; deflate, LZW, zstd, PackBits, JPEG, LERC).
INPUT may be an s3:// or http(s):// URL: a GeoTIFF or COG there is read in place by ranged GETs
of its tiles or strips, a NetCDF-4 file where our chunk index reads its layout, any other file
downloaded to a temporary file first;
and OUTPUT an s3:// URL (one input, --concat or --append): chunks are uploaded first, the
consolidated metadata last; the upload
is a plan of tasks (--task-size values each, default 128M) whose records are kept under the
prefix until the end, so a run that is interrupted or killed is continued with the same command
and --resume, re-uploading only the chunks of unfinished tasks (an input named by URL too,
while its size and ETag are unchanged). With --multiscales the run's
finalize adds the levels in a local copy of the store and uploads them before the consolidated
metadata (resumable like any upload).
Default chunks for NetCDF data: 4096 along the X/Y (lat/lon) dimensions (clipped to their size);
the other dimensions (time, depth, ...), innermost first, take as many steps as keep a chunk
within 8 MiB uncompressed, the rest 1 (MUR: 1 x 4096 x 4096; a 3 x 20 x 30 grid: one chunk;
a swath without X/Y: whole rows up to 8 MiB). Coordinate variables are one chunk. --chunks
overrides them by dimension name.
A GeoTIFF becomes band_data on (band, y, x) (or one variable per band with --bands-as-variables),
with x/y cell-centre coordinates, its CRS from the GeoKeys in spatial_ref, nodata as fill_value;
with --multiscales a COG's overviews are levels 1..n as they are, further levels computed.
Time series: --concat time takes many granules (quoted globs are expanded by geozarr; --inputs-from
FILE lists them one per line) into one store, ordered by their decoded times; every input must
agree with the first on variables, types, packing, grid, CRS and chunking (else an error naming
the file, before anything is written); duplicate times are refused and gaps reported. Chunks along
time: 1 granule each by default, --chunks time=N groups N. The run is a plan of tasks, one per
time chunk; an interrupted run (Ctrl-C, kill) is continued with the same command and --resume.
--append time adds later granules to an existing store, which stays readable throughout.
GeoTIFF scenes on one grid (same size, transform, CRS, bands, type, nodata) stack the same way
along a new time dimension: band_data (time, band, y, x), each scene's time from its name with
--time-from REGEX (20230615, 2023-06-15, 2023166, 20230615T103021) or its TIFFTAG_DATETIME.
Examples:
  geozarr convert mur.nc mur.zarr --zarr-format 2 --require-standard-name
  geozarr convert 'mur/*.nc' mur_series.zarr --concat time --unpack float32
  geozarr convert new/*.nc mur_series.zarr --append time
  geozarr convert 'scenes/*.tif' scenes.zarr --concat time --time-from '_(d{8}).tif$'
  geozarr convert mur.nc mur.zarr --unpack float32 --codec zstd:3 --shard lat=8192,lon=8192
  geozarr convert old_v2.zarr new_v3.zarr --chunks time=1,lat=2048,lon=2048
  geozarr convert mur.nc mur.zarr --multiscales --tile-size 256
  geozarr convert scene.tif scene.zarr --multiscales --bands-as-variables
With --multiscales, Zarr v2 output is chunked by the tile size along X/Y at full resolution too
(GeoZarr v0.4 requires tiles to match chunks at every level); v3 keeps the chunks above.`,
};

/** The command as typed, for the output's `history` attribute (paths reduced to their names). */
function commandLine(positionals: string[], values: Record<string, string | boolean | undefined>): string {
  // What the data is, not how this run went: --resume (or a queue) leaves the same store as a run
  // in one go, in one process.
  const opts = Object.entries(values)
    .filter(([k, v]) => v !== undefined && v !== false && !RUN_ONLY_OPTIONS.includes(k))
    .map(([k, v]) => (v === true ? `--${k}` : `--${k} ${v}`));
  return ["geozarr convert", ...positionals.map((p) => basename(p)), ...opts].join(" ");
}

export const convert: Command = {
  spec,
  async run({ positionals, values }, io, signal) {
    const inputs = positionals.slice(0, -1);
    const output = positionals.at(-1)!;
    if (values.queue !== undefined || values.prepare)
      return runQueued(inputs, output, values, io, signal, commandLine(positionals, values));
    const series =
      values.concat !== undefined || values.append !== undefined || values["inputs-from"] !== undefined;
    if (series) return runSeries(inputs, output, values, io, signal, commandLine(positionals, values));
    if (inputs.length > 1)
      throw new GeoZarrError(
        "Usage",
        `${inputs.length} inputs: several inputs need --concat DIM (a time series)`,
      );
    if (values.resume && !output.startsWith("s3://"))
      throw new GeoZarrError(
        "Usage",
        "--resume applies to time series (--concat, --append) and to one input converted to s3://",
      );
    if (values["time-from"] !== undefined)
      throw new GeoZarrError("Usage", "--time-from applies to time series of GeoTIFF scenes (--concat time)");
    const enc = encodingOptions(values);
    noteZstdBackend(io);
    const bar = progressBar(process.stderr, "converting", !values.json);
    let summary: Awaited<ReturnType<typeof runConvert>>;
    try {
      summary = await runConvert(inputs[0]!, output, {
        ...enc,
        command: commandLine(positionals, values),
        remote: remoteOptions(values),
        resume: Boolean(values.resume),
        taskBytes: sizeOption(values, "task-size"),
        onDownload: (done, total) =>
          bar.update({ done, total, bytesDone: done, bytesTotal: total, unit: "bytes downloaded" }),
        signal,
        onProgress: (p) =>
          bar.update({
            done: p.unitsDone,
            total: p.unitsTotal,
            bytesDone: p.rawBytesDone,
            bytesTotal: p.rawBytesTotal,
            unit: "chunks",
          }),
      });
    } finally {
      bar.finish();
    }
    if (values.json) {
      io.json(summary);
      return 0;
    }
    for (const d of summary.dropped) io.err(`geozarr: dropped ${d.name}: ${d.reason}`);
    printNotes(io, summary.notes);
    for (const g of summary.georef) {
      io.err(
        `geozarr: ${g.group === "/" ? "" : `${g.group}: `}CRS ${g.crs} (from ${g.from})${g.regular ? "" : ", irregular grid: no GeoTransform"}`,
      );
    }
    const chunks = summary.arrays.reduce((n, a) => n + a.chunksWritten, 0);
    const r = summary.rawBytes / summary.storedBytes;
    const ratio = summary.storedBytes > 0 ? (r >= 1e5 ? r.toExponential(1) : r.toFixed(1)) : "-";
    io.out(
      `${summary.input} -> ${summary.output}: Zarr v${summary.zarrFormat}, ${summary.arrays.length} arrays, ${chunks} chunks, ${humanBytes(summary.rawBytes)}B -> ${humanBytes(summary.storedBytes)}B (${ratio}x, ${summary.codec}) in ${summary.seconds.toFixed(1)}s with ${summary.workers} workers`,
    );
    if (summary.multiscales) io.out(pyramidLine(summary.multiscales));
    const rr = summary.remoteRead;
    if (rr)
      io.out(
        rr.read === "ranged"
          ? `${summary.input}: read in place by ranged GETs, ${humanBytes(rr.fetchedBytes)}B fetched of ${humanBytes(rr.size)}B`
          : `${summary.input}: downloaded first (${humanBytes(rr.size)}B), the copy removed`,
      );
    return 0;
  },
};
