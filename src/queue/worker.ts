/**
 * `runWorker(options)`: a long-running process taking a queued run's jobs (queue/jobs.ts) from
 * BullMQ and running them on its own worker-thread pool, until `signal` aborts.
 *
 * The BullMQ worker (its queue loop and lock renewal) lives on the main thread, which only plans
 * and waits: the decoding, encoding and writing happen on the pool's threads, so the job locks are
 * renewed on time however busy the CPU is. A process that dies holding a job (SIGKILL, a lost
 * machine) leaves its lock to expire after `lockSeconds`; another worker's stalled-job check then
 * puts the job back on the queue, and since tasks are idempotent the re-run writes the same bytes.
 *
 * Stopping (`signal`): no new job is taken and the running ones finish; after `graceSeconds` the
 * ones still running are stopped and handed back to the queue at once (not left to their locks).
 * @module
 */

import { hostname } from "node:os";
import { Worker as BullWorker, type Job, WaitingError } from "bullmq";
import { outputIdentity } from "../jobs/prepare.js";
import { finalizeStaged, runTaskOf } from "../jobs/run-plan.js";
import { defaultWorkerCount, WorkerPool } from "../parallel/pool.js";
import { checkRedis, DEFAULT_QUEUE, type QueueTarget, redisClient } from "./connection.js";
import { encodeFailure, type FinalizeJobResult, type RunJobData, type TaskJobResult } from "./jobs.js";

export interface WorkerOptions extends QueueTarget {
  /** Jobs run at once (default 1: a task already uses every thread of the pool). */
  concurrency?: number | undefined;
  /** Worker threads of the pool (default: the number of cores). */
  workers?: number | undefined;
  /** Bytes of data a task buffers at once per array (convert/execute.ts). */
  memoryBudget?: number | undefined;
  /** A dead worker's job goes back to the queue this long after its last lock renewal (default 30). */
  lockSeconds?: number | undefined;
  /** How long running jobs may take to finish after `signal`, before they are handed back (default 20). */
  graceSeconds?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Told about every job: started, done (with what it did), failed (its one-line error), handed back. */
  onEvent?: ((e: WorkerEvent) => void) | undefined;
}

export interface WorkerEvent {
  event: "ready" | "start" | "done" | "failed" | "handed-back" | "stopping";
  job?: string | undefined;
  what?: string | undefined;
  attempt?: number | undefined;
  seconds?: number | undefined;
  skipped?: boolean | undefined;
  error?: string | undefined;
}

export interface WorkerSummary {
  name: string;
  done: number;
  failed: number;
  handedBack: number;
}

const describe = (data: RunJobData) =>
  data.kind === "task" ? `task ${data.index} (${data.label}) of ${data.id}` : `finalize ${data.id}`;

export async function runWorker(options: WorkerOptions): Promise<WorkerSummary> {
  const name = options.queue ?? DEFAULT_QUEUE;
  const threads = options.workers ?? defaultWorkerCount();
  const lockMs = Math.round((options.lockSeconds ?? 30) * 1000);
  const emit = options.onEvent ?? (() => {});
  await checkRedis(options.redis);
  let pool = new WorkerPool(threads);
  const me = `${hostname()}:${process.pid}`;
  const summary: WorkerSummary = { name: me, done: 0, failed: 0, handedBack: 0 };
  let handingBack = false;
  const exec = () => {
    // A crashed thread (out of memory) fails its pool for good: start a fresh one for later jobs.
    if (pool.failed) {
      void pool.close();
      pool = new WorkerPool(threads);
    }
    return { workers: threads, useWorkers: threads > 0, pool, memoryBudget: options.memoryBudget };
  };
  // A stopped job returns at once, even if its threads are stuck (they are terminated with the pool).
  const orStop = <T>(work: Promise<T>, signal?: AbortSignal): Promise<T> =>
    !signal
      ? work
      : Promise.race([
          work,
          new Promise<never>((_, reject) => {
            if (signal.aborted) reject(signal.reason);
            signal.addEventListener("abort", () => reject(signal.reason), { once: true });
          }),
        ]);
  const processor = async (job: Job<RunJobData>, token?: string, signal?: AbortSignal) => {
    const data = job.data;
    const t0 = performance.now();
    emit({ event: "start", job: job.id, what: describe(data), attempt: job.attemptsMade + 1 });
    try {
      if (data.kind === "task") {
        const r = await orStop(runTaskOf(data.plan, data.index, { ...exec(), signal }, data.id), signal);
        const seconds = (performance.now() - t0) / 1000;
        summary.done++;
        emit({ event: "done", job: job.id, what: describe(data), seconds, skipped: r === null });
        return {
          skipped: r === null,
          storedBytes: r?.storedBytes ?? 0,
          rawBytes: r?.rawBytes ?? 0,
          seconds,
        } satisfies TaskJobResult;
      }
      const r = await orStop(
        finalizeStaged(data.plan, { ...exec(), signal }, data.staging ?? data.committed),
        signal,
      );
      const identity = await outputIdentity(r.output);
      // In object storage nothing is moved: what a later delivery of this job recognises as done
      // is recorded in the job itself, as soon as the store is complete.
      if (identity && "digest" in identity && !data.committed)
        await job.updateData({ ...data, committed: identity });
      const seconds = (performance.now() - t0) / 1000;
      summary.done++;
      emit({ event: "done", job: job.id, what: describe(data), seconds, skipped: r.already });
      return {
        output: r.output,
        already: r.already,
        identity,
        storedBytes: r.summary?.storedBytes ?? 0,
        seconds,
      } satisfies FinalizeJobResult;
    } catch (err) {
      if (signal?.aborted && handingBack && token) {
        // Stopped by a shutdown: back to the queue now, for another worker (not a failed attempt).
        await job.moveToWait(token);
        summary.handedBack++;
        emit({ event: "handed-back", job: job.id, what: describe(data) });
        throw new WaitingError();
      }
      summary.failed++;
      const reason = encodeFailure(err);
      emit({ event: "failed", job: job.id, what: describe(data), error: reason });
      throw new Error(reason);
    }
  };
  const connection = redisClient(options.redis);
  const worker = new BullWorker<RunJobData>(name, processor, {
    connection,
    name: me,
    concurrency: options.concurrency ?? 1,
    lockDuration: lockMs,
    // The stalled-job check runs at half the lock time, so a dead worker's job waits at most 1.5x.
    stalledInterval: Math.max(500, Math.round(lockMs / 2)),
    maxStalledCount: 2,
    autorun: false,
  });
  worker.on("error", () => {
    // Connection errors are retried by the client; a job's own errors are reported above.
  });
  const running = worker.run();
  await worker.waitUntilReady();
  emit({
    event: "ready",
    what: `${me} on queue ${name} (${threads} threads, ${options.concurrency ?? 1} at once)`,
  });
  await new Promise<void>((resolve) => {
    if (options.signal?.aborted) return resolve();
    options.signal?.addEventListener("abort", () => resolve(), { once: true });
  });
  emit({ event: "stopping", what: "no new jobs; waiting for the running ones" });
  const grace = setTimeout(
    () => {
      handingBack = true;
      worker.cancelAllJobs("shutting down");
    },
    (options.graceSeconds ?? 20) * 1000,
  );
  try {
    await worker.close();
    await running;
  } finally {
    clearTimeout(grace);
    await pool.close();
    connection.disconnect();
  }
  return summary;
}
