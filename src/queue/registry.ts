/**
 * The runs a queue has seen, one Redis hash per queue (`geozarr:<queue>:runs`, plan id -> record):
 * which generation of jobs is the current one, where the plan is, what it writes. BullMQ keeps the
 * jobs; this is what lets a resubmission and `geozarr status` find them by plan.
 * @module
 */

import type { Redis } from "ioredis";

export interface RunRecord {
  id: string;
  /** The current generation of the run's jobs (queue/jobs.ts ids). */
  generation: number;
  plan: string;
  output: string;
  tasks: number;
  /** Tasks the current generation was submitted with (the others were done before). */
  left: number;
  submitted: string;
}

const key = (queue: string) => `geozarr:${queue}:runs`;

export async function readRun(redis: Redis, queue: string, id: string): Promise<RunRecord | null> {
  const text = await redis.hget(key(queue), id);
  if (!text) return null;
  try {
    return JSON.parse(text) as RunRecord;
  } catch {
    return null;
  }
}

export async function writeRun(redis: Redis, queue: string, run: RunRecord): Promise<void> {
  await redis.hset(key(queue), run.id, JSON.stringify(run));
}

/** Every run the queue has seen, the latest submitted first. */
export async function listRuns(redis: Redis, queue: string): Promise<RunRecord[]> {
  const all = await redis.hgetall(key(queue));
  return Object.values(all)
    .flatMap((t) => {
      try {
        return [JSON.parse(t) as RunRecord];
      } catch {
        return [];
      }
    })
    .sort((a, b) => b.submitted.localeCompare(a.submitted));
}
