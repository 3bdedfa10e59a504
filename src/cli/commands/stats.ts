import type { ArrayStats } from "../../node.js";
import { computeStats, defaultWorkerCount, openStore, WorkerPool } from "../../node.js";
import { type CommandSpec, intOption, REMOTE_OPTIONS, remoteOptions } from "../args.js";
import { noteZstdBackend, tuple, warnOpened } from "../io.js";
import type { Command } from "./types.js";

const spec: CommandSpec = {
  name: "stats",
  summary:
    "Count, missing count (NaN, the fill value, CF _FillValue/missing_value), min, max and mean of an array, computed chunk by chunk in bounded memory. Packed CF variables also get decoded values (scale_factor/add_offset). Arrays of strings get counts only: valid, distinct, empty and the longest length.",
  positionals: ["STORE", "ARRAY"],
  options: {
    workers: { type: "string", arg: "N", description: "worker threads (default: number of cores)" },
    ...REMOTE_OPTIONS,
  },
};

const num = (v: number | null) => (v === null ? "-" : Number.isInteger(v) ? String(v) : v.toPrecision(8));

export function renderStats(s: ArrayStats): string[] {
  if (s.strings)
    return [
      `${s.path} ${tuple(s.shape)} ${s.dataType}`,
      `  count     ${s.elements}`,
      `  valid     ${s.valid}`,
      `  missing   ${s.missing}`,
      `  distinct  ${s.strings.distinct}`,
      `  empty     ${s.strings.empty}`,
      `  longest   ${s.strings.maxLength}`,
    ];
  const lines = [
    `${s.path} ${tuple(s.shape)} ${s.dataType}`,
    `  count    ${s.elements}`,
    `  valid    ${s.valid}`,
    `  missing  ${s.missing}${s.elements ? ` (${((100 * Number(s.missing)) / Number(s.elements)).toFixed(1)}%)` : ""}`,
    `  min      ${num(s.min)}`,
    `  max      ${num(s.max)}`,
    `  mean     ${num(s.mean)}`,
  ];
  if (s.decoded) {
    const d = s.decoded;
    lines.push(
      `  decoded (x ${d.scaleFactor} + ${d.addOffset}): min ${num(d.min)}  max ${num(d.max)}  mean ${num(d.mean)}`,
    );
  }
  return lines;
}

export const stats: Command = {
  spec,
  async run({ positionals, values }, io, signal) {
    const h = await openStore(positionals[0]!, remoteOptions(values));
    warnOpened(io, h);
    noteZstdBackend(io);
    const pool = new WorkerPool(intOption(values, "workers", 0) ?? defaultWorkerCount());
    pool.stopOn(signal);
    try {
      const s = await computeStats(h, positionals[1]!, pool, { signal });
      if (values.json) io.json(s);
      else io.out(renderStats(s).join("\n"));
    } finally {
      await pool.close();
    }
    return 0;
  },
};
