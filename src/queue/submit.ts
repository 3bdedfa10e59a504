/**
 * `submitRun(planned, options)`: a planned run (jobs/prepare.ts) onto a BullMQ queue as one flow,
 * the finalize job the parent of one job per unfinished task, then followed until it ends.
 *
 * What a resubmission of the same plan does, decided from the run's staging area and Redis:
 * - the run's finalize job is waiting or running: attach to it (nothing is added);
 * - it completed and the output is the directory it moved into place: nothing to do;
 * - it failed, or completed but the output is no longer its (removed, replaced): a new generation
 *   of jobs, for the tasks whose records are not intact only;
 * - never submitted (or its jobs expired): the first generation, the same way.
 * The output's lock is held from staging to the flow's submission (two submitters of one output
 * are one after the other); the finalize job takes it again to move the store into place.
 * @module
 */

import { FlowProducer, type Job, Queue } from "bullmq";
import { GeoZarrError } from "../errors.js";
import { outputIdentity, type PlannedRun, sameOutput, stagePlanned } from "../jobs/prepare.js";
import { unfinishedTasks } from "../jobs/run-plan.js";
import { checkRedis, DEFAULT_QUEUE, type QueueTarget, redisClient } from "./connection.js";
import {
  decodeFailure,
  type FinalizeJobData,
  type FinalizeJobResult,
  finalizeJobId,
  parseJobId,
  type TaskJobData,
  type TaskJobResult,
  taskJobId,
} from "./jobs.js";
import { type RunRecord, readRun, writeRun } from "./registry.js";

export interface SubmitOptions extends QueueTarget {
  /** Attempts per task (and for finalize) before the run fails; default 3. */
  attempts?: number | undefined;
  /** The first retry's delay in ms, doubling after (default 1000). */
  backoffMs?: number | undefined;
  /** Called as tasks end: done (incl. done before) of total, and running now. */
  onProgress?: ((p: { done: number; total: number; running: number }) => void) | undefined;
  /** Stop following the run (it goes on on the workers). */
  signal?: AbortSignal | undefined;
  /** How often the run's state is read, in ms (default 500). */
  pollMs?: number | undefined;
}

export interface QueuedRunSummary {
  id: string;
  output: string;
  plan: string;
  generation: number;
  tasks: number;
  /** Tasks run by this generation, and those skipped as done before (records intact). */
  ran: number;
  skipped: number;
  /** The plan's output was there already, complete: nothing was submitted. */
  already: boolean;
  /** Stored bytes the tasks and finalize wrote. */
  storedBytes: number;
  /** The workers that ran its jobs (BullMQ worker names). */
  workers: string[];
  seconds: number;
  notes: string[];
}

const ACTIVE = new Set(["waiting", "active", "delayed", "prioritized", "waiting-children"]);

function abortable(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The failing task's own error, from the failed finalize job (BullMQ names the child that failed). */
async function failureOf(queue: Queue, fin: Job, run: RunRecord): Promise<Error> {
  const child = /child [^:]+:[^:]+:(\S+) failed/.exec(fin.failedReason ?? "")?.[1];
  const parsed = child ? parseJobId(child) : null;
  if (child && parsed?.task !== null && parsed?.task !== undefined) {
    const job = await queue.getJob(child);
    const data = job?.data as TaskJobData | undefined;
    return decodeFailure(
      job?.failedReason ?? "failed",
      `${run.output}: task ${parsed.task}${data?.label ? ` (${data.label})` : ""} failed after ${job?.attemptsMade ?? "its"} attempts`,
    );
  }
  return decodeFailure(fin.failedReason ?? "failed", `${run.output}: finalize failed`);
}

export async function submitRun(planned: PlannedRun, options: SubmitOptions): Promise<QueuedRunSummary> {
  const t0 = performance.now();
  const { draft } = planned;
  const name = options.queue ?? DEFAULT_QUEUE;
  await checkRedis(options.redis);
  const connection = redisClient(options.redis);
  const queue = new Queue(name, { connection });
  const flow = new FlowProducer({ connection });
  try {
    const known = await readRun(connection, name, draft.id);
    let gen = known?.generation ?? 1;
    let fin = known ? await queue.getJob(finalizeJobId(draft.id, gen)) : undefined;
    let state = fin ? await fin.getState() : "missing";
    const summary = (over: Partial<QueuedRunSummary>): QueuedRunSummary => ({
      id: draft.id,
      output: draft.output,
      plan: known?.plan ?? "",
      generation: gen,
      tasks: draft.tasks.length,
      ran: 0,
      skipped: 0,
      already: false,
      storedBytes: 0,
      workers: [],
      seconds: (performance.now() - t0) / 1000,
      notes: [],
      ...over,
    });
    if (state === "completed") {
      const done = fin!.returnvalue as FinalizeJobResult;
      if (sameOutput(done.identity, await outputIdentity(draft.output, planned.remote)))
        return summary({ already: true, skipped: draft.tasks.length });
    }
    const prepared = await stagePlanned(planned);
    const notes = prepared.notes;
    const plan = prepared.planFile;
    let left: number[] = [];
    try {
      if (!ACTIVE.has(state)) {
        // A new generation whenever this plan was submitted before: no job id of an old one is reused.
        if (known) gen = known.generation + 1;
        left = await unfinishedTasks(prepared.plan, prepared.staging);
        const jobOpts = {
          attempts: options.attempts ?? 3,
          backoff: { type: "exponential", delay: options.backoffMs ?? 1000 },
          removeOnComplete: { age: 7 * 24 * 3600 },
          removeOnFail: { age: 7 * 24 * 3600 },
        };
        const finData: FinalizeJobData = {
          kind: "finalize",
          plan,
          id: draft.id,
          output: draft.output,
          staging: prepared.identity,
          tasks: draft.tasks.length,
        };
        const node = await flow.add({
          name: "finalize",
          queueName: name,
          data: finData,
          opts: { ...jobOpts, jobId: finalizeJobId(draft.id, gen) },
          children: left.map((index) => ({
            name: "task",
            queueName: name,
            data: {
              kind: "task",
              plan,
              id: draft.id,
              index,
              label: draft.tasks[index]!.label,
            } satisfies TaskJobData,
            opts: { ...jobOpts, jobId: taskJobId(draft.id, gen, index), failParentOnFailure: true },
          })),
        });
        fin = node.job;
        await writeRun(connection, name, {
          id: draft.id,
          generation: gen,
          plan,
          output: draft.output,
          tasks: draft.tasks.length,
          submitted: new Date().toISOString(),
          left: left.length,
        });
      }
    } finally {
      await prepared.release();
    }
    const run = (await readRun(connection, name, draft.id))!;
    const before = draft.tasks.length - run.left;
    // Follow the run until its finalize job ends.
    for (;;) {
      const job = (await queue.getJob(finalizeJobId(draft.id, gen)))!;
      state = job ? await job.getState() : "missing";
      if (state === "missing")
        throw new GeoZarrError("IO", `${draft.output}: the run's jobs vanished from the queue ${name}`);
      const counts = await job.getDependenciesCount({ processed: true, unprocessed: true });
      const active = state === "active" ? 1 : 0;
      options.onProgress?.({
        done: before + (counts.processed ?? 0),
        total: draft.tasks.length,
        running: active,
      });
      if (state === "failed") throw await failureOf(queue, job, run);
      if (state === "completed") {
        const result = job.returnvalue as FinalizeJobResult;
        const children = await job.getChildrenValues<TaskJobResult>();
        const values = Object.values(children);
        const workers = new Set<string>();
        for (const key of Object.keys(children)) {
          const child = await queue.getJob(key.split(":").pop()!);
          if (child?.processedBy) workers.add(child.processedBy);
        }
        if (job.processedBy) workers.add(job.processedBy);
        return summary({
          plan,
          ran: values.filter((v) => !v.skipped).length,
          skipped: before + values.filter((v) => v.skipped).length,
          already: result.already,
          storedBytes: values.reduce((n, v) => n + v.storedBytes, 0) + result.storedBytes,
          workers: [...workers].sort(),
          notes,
        });
      }
      await abortable(options.pollMs ?? 500, options.signal);
    }
  } finally {
    await flow.close();
    await queue.close();
    connection.disconnect();
  }
}
