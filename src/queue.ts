/**
 * geozarr's distributed runs, through BullMQ on Redis (`geozarr/queue`): submit a planned run,
 * run workers, read a queue's state. A separate entry point because BullMQ and its Redis client
 * take half a second to load, which no other command should pay.
 *
 * ```ts
 * import { planRun } from "geozarr/node";
 * import { submitRun } from "geozarr/queue";
 * const planned = await planRun(files, "sst.zarr", { concat: "time", zarrFormat: 3 });
 * await submitRun(planned, { redis: "redis://queue:6379" });
 * ```
 * @module
 */

export { checkRedis, DEFAULT_QUEUE, type QueueTarget, shownUrl } from "./queue/connection.js";
export { type QueueStatus, queueStatus, type RunStatus } from "./queue/status.js";
export { type QueuedRunSummary, type SubmitOptions, submitRun } from "./queue/submit.js";
export { runWorker, type WorkerEvent, type WorkerOptions, type WorkerSummary } from "./queue/worker.js";
