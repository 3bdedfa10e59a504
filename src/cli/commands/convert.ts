import { GeoZarrError } from "../../errors.js";
import { convert as runConvert } from "../../node.js";
import { type CommandSpec, intOption, stringOption } from "../args.js";
import { humanBytes } from "../io.js";
import { progressBar } from "../progress.js";
import type { Command } from "./types.js";

const spec: CommandSpec = {
  name: "convert",
  summary:
    "Convert a Zarr store (v2 or v3) to GeoZarr in Zarr v2 or v3: re-chunk, re-compress, shard (v3), with attributes carried over and consolidated metadata written last. The output appears only when complete.",
  positionals: ["INPUT", "OUTPUT"],
  options: {
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
    overwrite: { type: "boolean", description: "replace OUTPUT if it exists" },
  },
};

export const convert: Command = {
  spec,
  async run({ positionals, values }, io, signal) {
    const fmt = stringOption(values, "zarr-format") ?? "3";
    if (fmt !== "2" && fmt !== "3")
      throw new GeoZarrError("Usage", `--zarr-format must be 2 or 3, got ${JSON.stringify(fmt)}`);
    const bar = progressBar(process.stderr, "converting", !values.json);
    let summary: Awaited<ReturnType<typeof runConvert>>;
    try {
      summary = await runConvert(positionals[0]!, positionals[1]!, {
        zarrFormat: fmt === "2" ? 2 : 3,
        chunks: stringOption(values, "chunks"),
        shards: stringOption(values, "shard"),
        codec: stringOption(values, "codec"),
        workers: intOption(values, "workers", 0),
        overwrite: Boolean(values.overwrite),
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
    const chunks = summary.arrays.reduce((n, a) => n + a.chunksWritten, 0);
    const ratio = summary.storedBytes > 0 ? (summary.rawBytes / summary.storedBytes).toFixed(1) : "-";
    io.out(
      `${summary.input} -> ${summary.output}: Zarr v${summary.zarrFormat}, ${summary.arrays.length} arrays, ${chunks} chunks, ${humanBytes(summary.rawBytes)}B -> ${humanBytes(summary.storedBytes)}B (${ratio}x, ${summary.codec}) in ${summary.seconds.toFixed(1)}s with ${summary.workers} workers`,
    );
    return 0;
  },
};
