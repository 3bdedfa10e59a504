/**
 * `geozarr convert` of a time series (--concat, --append, --inputs-from, --resume), and the
 * encoding options every conversion takes from the command line.
 * @module
 */

import { GeoZarrError } from "../../errors.js";
import { appendSeries, type ConvertOptions, convertSeries } from "../../node.js";
import { intOption, type OptionValues, remoteOptions, sizeOption, stringOption } from "../args.js";
import { humanBytes, type Io, noteZstdBackend, printNotes } from "../io.js";
import { progressBar } from "../progress.js";
import { pyramidLine, pyramidOptions } from "./pyramid.js";

function unpackOption(v: string | undefined): "float32" | "float64" | undefined {
  if (v === undefined || v === "float32" || v === "float64") return v;
  throw new GeoZarrError("Usage", `--unpack must be float32 or float64, got ${JSON.stringify(v)}`);
}

/** The output format, encoding, selection and multiscale options, from the command line. */
export function encodingOptions(values: OptionValues): ConvertOptions {
  const fmt = stringOption(values, "zarr-format") ?? "3";
  if (fmt !== "2" && fmt !== "3")
    throw new GeoZarrError("Usage", `--zarr-format must be 2 or 3, got ${JSON.stringify(fmt)}`);
  const multiscales = Boolean(values.multiscales);
  if (!multiscales && ["levels", "resampling", "tile-size", "tms"].some((k) => values[k] !== undefined))
    throw new GeoZarrError("Usage", "--levels, --resampling, --tile-size and --tms need --multiscales");
  return {
    zarrFormat: fmt === "2" ? 2 : 3,
    chunks: stringOption(values, "chunks"),
    shards: stringOption(values, "shard"),
    codec: stringOption(values, "codec"),
    workers: intOption(values, "workers", 0),
    memoryBudget: sizeOption(values, "memory"),
    overwrite: Boolean(values.overwrite),
    variables: stringOption(values, "variables")
      ?.split(",")
      .map((v) => v.trim())
      .filter(Boolean),
    requireStandardName: Boolean(values["require-standard-name"]),
    unpack: unpackOption(stringOption(values, "unpack")),
    crs: stringOption(values, "crs"),
    bandsAsVariables: Boolean(values["bands-as-variables"]),
    multiscales: multiscales ? pyramidOptions(values) : undefined,
  };
}

/** A list shortened for one line: the first few, and how many more. */
function few(xs: string[], n = 5): string {
  return xs.length <= n ? xs.join(", ") : `${xs.slice(0, n).join(", ")} and ${xs.length - n} more`;
}

export async function runSeries(
  inputs: string[],
  output: string,
  values: OptionValues,
  io: Io,
  signal: AbortSignal,
  command: string,
): Promise<number> {
  const concat = stringOption(values, "concat");
  const append = stringOption(values, "append");
  if (concat && append)
    throw new GeoZarrError("Usage", "--concat and --append: give one (--append adds to an existing store)");
  const dim = concat ?? append;
  if (values["replace-times"] && !append)
    throw new GeoZarrError("Usage", "--replace-times applies to --append");
  if (!dim) throw new GeoZarrError("Usage", "--inputs-from needs --concat DIM or --append DIM");
  const enc = encodingOptions(values);
  noteZstdBackend(io);
  const bar = progressBar(process.stderr, append ? "appending" : "converting", !values.json);
  const opts = {
    ...enc,
    concat: dim,
    inputsFrom: stringOption(values, "inputs-from"),
    timeFrom: stringOption(values, "time-from"),
    resume: Boolean(values.resume),
    replaceTimes: Boolean(values["replace-times"]),
    remote: remoteOptions(values),
    command,
    signal,
    onTasks: (done: number, total: number, bytesDone = 0, bytesTotal = 0) =>
      bar.update({ done, total, bytesDone, bytesTotal, unit: "tasks" }),
  };
  let s: Awaited<ReturnType<typeof convertSeries>>;
  try {
    s = append ? await appendSeries(inputs, output, opts) : await convertSeries(inputs, output, opts);
  } finally {
    bar.finish();
  }
  if (values.json) {
    io.json(s);
    return 0;
  }
  printNotes(io, s.notes);
  if (s.missing.length)
    io.err(`geozarr: note: ${s.missing.length} missing ${s.concat} steps: ${few(s.missing)}`);
  const p = s.plan;
  const tasks = `${p.tasks} tasks${p.skipped ? ` (${p.skipped} done before, resumed)` : ""}`;
  io.out(
    `${s.inputs} inputs -> ${s.output}: Zarr v${s.zarrFormat}, ${s.steps} ${s.concat} steps (${s.first} to ${s.last}), ${tasks}, ${humanBytes(s.rawBytes)}B -> ${humanBytes(s.storedBytes)}B (${s.codec}) in ${s.seconds.toFixed(1)}s with ${s.workers} workers`,
  );
  if (s.multiscales) io.out(pyramidLine(s.multiscales));
  return 0;
}
