import type { CommandSpec } from "../args.js";
import { stringOption } from "../args.js";
import type { Command } from "./types.js";

const spec: CommandSpec = {
  name: "status",
  summary:
    "What a Redis queue of geozarr runs holds: each run's tasks queued, running (and on which worker), done and failed, with each failure's one-line error.",
  positionals: ["REDIS_URL", "[PLAN]"],
  options: {
    "queue-name": { type: "string", arg: "NAME", description: "the queue (default geozarr)" },
  },
  details: [
    "PLAN: a plan id (or its first characters), or a plan file; without it every run the queue has seen, the latest first.",
    "Exit codes: 0 (also when runs failed: see the failures listed, or --json), 2 usage, 3 Redis unreachable or no such run.",
  ].join("\n"),
};

export const status: Command = {
  spec,
  async run({ positionals, values }, io) {
    const { queueStatus } = await import("../../queue.js");
    const s = await queueStatus(
      { redis: positionals[0]!, queue: stringOption(values, "queue-name") },
      positionals[1],
    );
    if (values.json) {
      io.json(s);
      return 0;
    }
    const c = s.counts;
    io.out(
      `queue ${s.queue}: ${c.waiting ?? 0} waiting, ${c.active ?? 0} running, ${c.delayed ?? 0} retrying later, ${c.completed ?? 0} completed, ${c.failed ?? 0} failed jobs`,
    );
    for (const r of s.runs) {
      io.out(
        `run ${r.id} -> ${r.output} (submitted ${r.submitted}${r.generation > 1 ? `, resubmission ${r.generation}` : ""})`,
      );
      const running = r.running.length
        ? ` (${r.running.map((x) => `task ${x.task}${x.worker ? ` on ${x.worker}` : ""}`).join(", ")})`
        : "";
      io.out(
        `  ${r.tasks} tasks: ${r.before + r.done} done${r.before ? ` (${r.before} before)` : ""}, ${r.queued} queued, ${r.running.length} running${running}, ${r.failed.filter((f) => f.task !== null).length} failed; finalize ${r.finalize}`,
      );
      for (const f of r.failed)
        io.out(
          `  failed: ${f.task === null ? "finalize" : `task ${f.task} (${f.label})`} after ${f.attempts} attempts: ${f.error}`,
        );
    }
    return 0;
  },
};
