/**
 * `queueStatus(target, plan?)`: what a queue holds, run by run (the runs it has seen, the latest
 * first, or the one plan asked for): its tasks queued, running (and where), done and failed, with
 * each failure's one-line error, and whether its finalize ran.
 * @module
 */

import { type Job, Queue } from "bullmq";
import { GeoZarrError } from "../errors.js";
import { checkRedis, DEFAULT_QUEUE, type QueueTarget, redisClient } from "./connection.js";
import { failureText, finalizeJobId, parseJobId, type RunJobData } from "./jobs.js";
import { listRuns, type RunRecord } from "./registry.js";

export interface RunStatus {
  id: string;
  output: string;
  plan: string;
  submitted: string;
  generation: number;
  tasks: number;
  /** Done before this generation was submitted (their records were intact). */
  before: number;
  queued: number;
  running: { task: number; worker: string | null }[];
  done: number;
  failed: { task: number | null; label: string; attempts: number; error: string }[];
  /** The finalize job's state (waiting-children until every task is done). */
  finalize: string;
}

export interface QueueStatus {
  queue: string;
  /** The queue's job counts by state, all runs together. */
  counts: Record<string, number>;
  runs: RunStatus[];
}

async function runStatus(queue: Queue, run: RunRecord): Promise<RunStatus> {
  const fin = await queue.getJob(finalizeJobId(run.id, run.generation));
  const finState = fin ? await fin.getState() : "missing";
  const out: RunStatus = {
    id: run.id,
    output: run.output,
    plan: run.plan,
    submitted: run.submitted,
    generation: run.generation,
    tasks: run.tasks,
    before: run.tasks - run.left,
    queued: 0,
    running: [],
    done: 0,
    failed: [],
    finalize: finState,
  };
  if (!fin) return out;
  const counts = await fin.getDependenciesCount({ processed: true });
  out.done = counts.processed ?? 0;
  // Running and failed jobs are few: found by their ids among the queue's, not job by job.
  const prefix = `${run.id}-r${run.generation}-task-`;
  const mine = (jobs: Job[]) => jobs.filter((j) => j.id?.startsWith(prefix));
  for (const job of mine(await queue.getJobs(["active"])))
    out.running.push({ task: parseJobId(job.id!)?.task ?? -1, worker: job.processedBy ?? null });
  for (const job of mine(await queue.getJobs(["failed"])))
    out.failed.push(failureOf(job, parseJobId(job.id!)?.task ?? null));
  out.queued = Math.max(0, run.left - out.done - out.running.length - out.failed.length);
  if (finState === "failed" && out.failed.length === 0) {
    // The finalize job's own failure, or a failed task BullMQ already unlinked from it.
    const child = /child [^:]+:[^:]+:(\S+) failed/.exec(fin.failedReason ?? "")?.[1];
    const job = child ? await queue.getJob(child) : undefined;
    out.failed.push(job ? failureOf(job, parseJobId(job.id!)?.task ?? null) : failureOf(fin, null));
  }
  return out;
}

function failureOf(job: Job, task: number | null) {
  const data = job.data as RunJobData;
  return {
    task,
    label: data.kind === "task" ? data.label : "finalize",
    attempts: job.attemptsMade,
    error: failureText(job.failedReason ?? ""),
  };
}

export async function queueStatus(target: QueueTarget, plan?: string): Promise<QueueStatus> {
  const name = target.queue ?? DEFAULT_QUEUE;
  await checkRedis(target.redis);
  const connection = redisClient(target.redis);
  const queue = new Queue(name, { connection });
  try {
    const counts = await queue.getJobCounts(
      "waiting",
      "active",
      "delayed",
      "prioritized",
      "waiting-children",
      "completed",
      "failed",
    );
    let runs = await listRuns(connection, name);
    if (plan !== undefined) {
      runs = runs.filter((r) => r.id === plan || r.id.startsWith(plan) || r.plan === plan);
      if (runs.length === 0)
        throw new GeoZarrError("NotFound", `${plan}: no such run on the queue ${name}`, { where: plan });
    }
    return { queue: name, counts, runs: await Promise.all(runs.map((r) => runStatus(queue, r))) };
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
