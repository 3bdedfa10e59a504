import { GeoZarrError } from "../../errors.js";
import { type CommandSpec, intOption, sizeOption, stringOption } from "../args.js";
import { noteZstdBackend } from "../io.js";
import type { Command } from "./types.js";

const spec: CommandSpec = {
  name: "worker",
  summary:
    "Run queued conversion tasks (geozarr convert --queue) from a Redis queue (BullMQ) on this machine's cores until stopped; one log line per task.",
  positionals: ["REDIS_URL"],
  options: {
    "queue-name": { type: "string", arg: "NAME", description: "the queue (default geozarr)" },
    concurrency: {
      type: "string",
      arg: "N",
      description: "tasks run at once (default 1: one task already uses every worker thread)",
    },
    workers: { type: "string", arg: "N", description: "worker threads (default: number of cores)" },
    memory: {
      type: "string",
      arg: "SIZE",
      description: "data a task buffers at once per array (default 256M)",
    },
    "lock-seconds": {
      type: "string",
      arg: "S",
      description:
        "a task of a worker that died goes back to the queue this long after its last lock renewal (default 30)",
    },
    grace: {
      type: "string",
      arg: "S",
      description:
        "on SIGTERM/SIGINT, running tasks may finish for this long before they are handed back to the queue (default 20)",
    },
  },
  details: [
    "Inputs are read at the paths in the plan: every worker must see them at the same paths (a shared mount). An output in a directory too; an s3:// output is written with the worker's own AWS environment (AWS_ACCESS_KEY_ID, AWS_PROFILE, AWS_ENDPOINT_URL_S3, ...): no credential travels in the jobs.",
    "Every task start and end is a line on stdout (JSON lines with --json): time, what, how long, or the failure's one-line message.",
    "Stopping: SIGTERM or SIGINT stops taking tasks; running ones finish (up to --grace) or are handed back to the queue at once; a second signal leaves at once (the task returns to the queue when its lock expires).",
    "Exit codes: 2 usage, 3 Redis unreachable at start, 130 stopped by SIGINT, 143 stopped by SIGTERM.",
  ].join("\n"),
};

const num = (values: Record<string, string | boolean | undefined>, name: string, dflt: number) => {
  const v = stringOption(values, name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new GeoZarrError(
      "Usage",
      `--${name} must be a positive number of seconds, got ${JSON.stringify(v)}`,
    );
  return n;
};

export const worker: Command = {
  spec,
  // The process may take --grace to stop, and a little more to hand its tasks back.
  stopGraceMs: (values) => (num(values, "grace", 20) + 10) * 1000,
  async run({ positionals, values }, io, signal) {
    const { runWorker } = await import("../../queue.js");
    noteZstdBackend(io);
    const stamp = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");
    await runWorker({
      redis: positionals[0]!,
      queue: stringOption(values, "queue-name"),
      concurrency: intOption(values, "concurrency", 1),
      workers: intOption(values, "workers", 0),
      memoryBudget: sizeOption(values, "memory"),
      lockSeconds: num(values, "lock-seconds", 30),
      graceSeconds: num(values, "grace", 20),
      signal,
      onEvent: (e) => {
        if (values.json) return io.out(JSON.stringify({ time: new Date().toISOString(), ...e }));
        const what = e.what ?? "";
        const line =
          e.event === "done"
            ? `${what}: ${e.skipped ? "done before, nothing to do" : "done"} in ${e.seconds!.toFixed(1)}s`
            : e.event === "failed"
              ? `${what}: failed: ${e.error}`
              : e.event === "start"
                ? `${what}: started${e.attempt! > 1 ? ` (attempt ${e.attempt})` : ""}`
                : `${e.event} ${what}`;
        io.out(`${stamp()} ${line}`);
      },
    });
    return 0;
  },
};
