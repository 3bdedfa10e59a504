import { GeoZarrError } from "../../errors.js";
import { defaultWorkerCount, finalizeStaged, isStoreUrl, runTaskOf, WorkerPool } from "../../node.js";
import { type CommandSpec, intOption, sizeOption, stringOption } from "../args.js";
import { humanBytes, noteZstdBackend, printNotes } from "../io.js";
import type { Command } from "./types.js";

const spec: CommandSpec = {
  name: "task",
  summary:
    "Run one task of a planned conversion (geozarr convert --prepare), or finalize it once every task is done: what a Kubernetes Indexed Job runs, without Redis.",
  positionals: [],
  options: {
    plan: {
      type: "string",
      arg: "PLAN",
      description:
        "the plan file convert --prepare printed (OUTPUT's staging area, .geozarr-run/plan.json), or its s3:// URL (s3://bucket/out.zarr/.geozarr-run/plan.json, read with this process's AWS environment)",
    },
    index: {
      type: "string",
      arg: "K",
      description: "run task K (0 to tasks-1; e.g. $JOB_COMPLETION_INDEX); done already, it does nothing",
    },
    finalize: {
      type: "boolean",
      description:
        "check every task's record, write the metadata and move the store into place (under the output's lock); to s3://, write the metadata with the consolidated document last, then remove .geozarr-run/",
    },
    workers: { type: "string", arg: "N", description: "worker threads (default: number of cores)" },
    memory: { type: "string", arg: "SIZE", description: "data buffered at once per array (default 256M)" },
  },
  details: [
    "A task writes only its own chunks, and the same bytes however often it runs: running one twice, or two copies at once, is safe. Finalize refuses while a task has no intact record, naming it.",
    "Exit codes: 0 done (or done before), 2 usage, 3 I/O or a task not done (finalize), 1 other failures.",
  ].join("\n"),
};

export const task: Command = {
  spec,
  async run({ values }, io, signal) {
    const plan = stringOption(values, "plan");
    if (!plan) throw new GeoZarrError("Usage", "--plan PLAN is required");
    const index = intOption(values, "index", 0);
    if ((index === undefined) === !values.finalize)
      throw new GeoZarrError("Usage", "give --index K (one task) or --finalize");
    noteZstdBackend(io);
    const threads = intOption(values, "workers", 0) ?? defaultWorkerCount();
    const pool = new WorkerPool(threads);
    const detach = pool.stopOn(signal);
    const exec = {
      workers: threads,
      useWorkers: threads > 0,
      pool,
      memoryBudget: sizeOption(values, "memory"),
      signal,
    };
    const t0 = performance.now();
    try {
      if (index !== undefined) {
        const r = await runTaskOf(plan, index, exec);
        const seconds = (performance.now() - t0) / 1000;
        if (values.json)
          io.json({
            index,
            done: true,
            before: r === null,
            files: r?.files.length ?? 0,
            storedBytes: r?.storedBytes ?? 0,
            seconds,
          });
        else
          io.out(
            r === null
              ? `task ${index}: done before (its record is intact); nothing to do`
              : `task ${index}: ${r.files.length} chunks, ${humanBytes(r.storedBytes)}B in ${seconds.toFixed(1)}s`,
          );
        return 0;
      }
      const r = await finalizeStaged(plan, exec);
      const seconds = (performance.now() - t0) / 1000;
      if (values.json)
        io.json({ output: r.output, already: r.already, notes: r.notes, multiscales: r.levels, seconds });
      else {
        printNotes(io, r.notes);
        io.out(
          r.already
            ? `${r.output}: finalized before; nothing to do`
            : `${r.output}: finalized and ${isStoreUrl(r.output) ? "its consolidated metadata written" : "moved into place"} in ${seconds.toFixed(1)}s`,
        );
      }
      return 0;
    } finally {
      detach();
      await pool.close();
    }
  },
};
