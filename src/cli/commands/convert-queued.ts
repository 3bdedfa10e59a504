/**
 * `geozarr convert ... --queue REDIS_URL` (the run's tasks onto a BullMQ queue, followed to the
 * end) and `--prepare` (the plan left in the staging area for `geozarr task`, e.g. a Kubernetes
 * Indexed Job). The queue's modules are loaded only here: BullMQ takes half a second to import.
 * @module
 */

import { GeoZarrError } from "../../errors.js";
import { type PrepareOptions, planRun, prepareRun } from "../../node.js";
import { intOption, type OptionValues, sizeOption, stringOption } from "../args.js";
import { humanBytes, type Io, printNotes } from "../io.js";
import { progressBar } from "../progress.js";
import { encodingOptions } from "./convert-series.js";

export const QUEUE_OPTIONS = {
  queue: {
    type: "string",
    arg: "REDIS_URL",
    description:
      "run the conversion's tasks on geozarr workers through this Redis (BullMQ), and wait for the run; the inputs must be at the same paths on every worker, and the output too unless it is s3:// (workers then use their own AWS environment)",
  },
  "queue-name": { type: "string", arg: "NAME", description: "with --queue: the queue (default geozarr)" },
  attempts: {
    type: "string",
    arg: "N",
    description:
      "with --queue: attempts per task before the run fails (default 3; retries back off 1s, 2s, 4s...)",
  },
  "task-size": {
    type: "string",
    arg: "SIZE",
    description:
      "with --queue or --prepare, or to s3://, one input: values per task (default 512M, to s3:// 128M; whole rows of chunks)",
  },
  prepare: {
    type: "boolean",
    description:
      "only plan: leave the plan of tasks in the output's staging area (to s3://, under the prefix's .geozarr-run/) and print its path or URL, for geozarr task --plan",
  },
} as const;

/** Options that say how a run goes, not what it makes: left out of the history line. */
// How a run goes, not what it writes: left out of the output's `history`, so that the store is the
// same bytes whatever the threads, the memory budget, --overwrite, a resume or a queue.
export const RUN_ONLY_OPTIONS = [
  "json",
  "resume",
  "workers",
  "memory",
  "overwrite",
  "queue",
  "queue-name",
  "attempts",
  "prepare",
  "task-size",
];

export async function runQueued(
  inputs: string[],
  output: string,
  values: OptionValues,
  io: Io,
  signal: AbortSignal,
  command: string,
): Promise<number> {
  if (values.append !== undefined)
    throw new GeoZarrError(
      "Usage",
      "--append runs in one process; --queue and --prepare take --concat or one input",
    );
  if (values.resume)
    throw new GeoZarrError(
      "Usage",
      "--resume is implied: a queued or prepared run continues where it stopped",
    );
  const redis = stringOption(values, "queue");
  if (redis && values.prepare) throw new GeoZarrError("Usage", "--queue or --prepare: give one");
  const options: PrepareOptions = {
    ...encodingOptions(values),
    concat: stringOption(values, "concat"),
    inputsFrom: stringOption(values, "inputs-from"),
    timeFrom: stringOption(values, "time-from"),
    taskBytes: sizeOption(values, "task-size"),
    command,
    signal,
  };
  if (values.prepare) {
    const p = await prepareRun(inputs, output, options);
    if (values.json) io.json(p);
    else {
      printNotes(io, p.notes);
      io.out(
        `${p.output}: planned ${p.tasks} tasks (${p.done} done before); run each with geozarr task --plan ${p.plan} --index K (K = 0 to ${p.tasks - 1}), then geozarr task --plan ${p.plan} --finalize`,
      );
    }
    return 0;
  }
  const queue = stringOption(values, "queue-name");
  const planned = await planRun(inputs, output, options);
  const { submitRun, shownUrl } = await import("../../queue.js");
  const bar = progressBar(process.stderr, "queued", !values.json);
  let s: Awaited<ReturnType<typeof submitRun>>;
  try {
    s = await submitRun(planned, {
      redis: redis!,
      queue,
      attempts: intOption(values, "attempts", 1),
      signal,
      onProgress: (p) =>
        bar.update({ done: p.done, total: p.total, bytesDone: 0, bytesTotal: 0, unit: "tasks" }),
    });
  } catch (err) {
    if (signal.aborted)
      io.err(
        `geozarr: note: stopped following the run; it goes on on the workers (geozarr status ${shownUrl(redis!)} ${planned.draft.id})`,
      );
    throw err;
  } finally {
    bar.finish();
  }
  if (values.json) {
    io.json(s);
    return 0;
  }
  printNotes(io, s.notes);
  if (s.already) {
    io.out(`${s.output}: already complete (plan ${s.id}, run before on the queue); nothing submitted`);
    return 0;
  }
  io.out(
    `${s.output}: ${s.tasks} tasks on the queue (${s.ran} run now${s.skipped ? `, ${s.skipped} done before` : ""}) by ${s.workers.length} worker${s.workers.length === 1 ? "" : "s"}, ${humanBytes(s.storedBytes)}B stored, in ${s.seconds.toFixed(1)}s`,
  );
  return 0;
}
