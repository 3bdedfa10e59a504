/**
 * A small pool of worker threads with a bounded queue.
 *
 * Callers `await pool.slot()` before submitting, which keeps at most `capacity` tasks queued or
 * running: memory then stays bounded by workers x task size whatever the amount of work. With
 * size 0 tasks run inline on the calling thread (same code, no threads).
 *
 * Why not piscina: we need errors rebuilt with their class on this side (errors.ts), workers that
 * do not keep the process alive when idle, and transfer lists per result; the pool is ~150 lines.
 *
 * @module
 */

import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { deserializeError, GeoZarrError, type SerializedError } from "../errors.js";
import { zstdWorkerEnv } from "../zarr/codecs/zstd.js";
import { runTask, type TaskInput, type TaskKind, type TaskOutput } from "./tasks.js";

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

interface Job {
  id: number;
  kind: TaskKind;
  input: unknown;
  transfer: ArrayBuffer[];
  pending: Pending;
}

interface Slot {
  worker: Worker;
  busy: Job | null;
}

export function defaultWorkerCount(): number {
  return availableParallelism();
}

/** The most worker threads a pool may have: 4 per core (more only costs memory: 7 GB for 1000). */
export function maxWorkerCount(): number {
  return 4 * availableParallelism();
}

/**
 * The worker: the compiled worker.js next to this module, or, when running from the TypeScript
 * sources (tests), worker.ts loaded through tsx. Node 20 ignores `--import` in a worker's execArgv,
 * so the source case registers tsx from a small bootstrap instead. Each worker is told this
 * thread's zstd backend, so a conversion never mixes native and WASM zstd (codecs/zstd.ts).
 */
function startWorker(env: Record<string, string | undefined>): Worker {
  // `web-worker` (a dependency of geotiff.js) sets itself up as a worker when it is imported on
  // any worker thread, reading `workerData.mod`; data without `mod` makes it stand down.
  const workerData = { geozarr: true };
  if (!import.meta.url.endsWith(".ts"))
    return new Worker(new URL("./worker.js", import.meta.url), { env, workerData });
  const tsx = import.meta.resolve("tsx/esm/api");
  const entry = new URL("./worker.ts", import.meta.url).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true, env, workerData });
}

const workerEnv = (): Record<string, string | undefined> => ({ ...process.env, ...zstdWorkerEnv() });

/** Workers started ahead of their pool (prestartWorkers), with the environment they were given. */
interface Spare {
  worker: Worker;
  env: string;
  failed: boolean;
  onError: () => void;
}
const spares: Spare[] = [];

/**
 * Start `count` worker threads now, for the next pool to adopt, and have them load the modules of
 * the tasks named in `warm`. A conversion calls this before it reads the input's metadata: on the
 * medium MUR file the main thread spends about 0.6 s there (h5wasm, the plan) while the other
 * cores idle, and each worker's start and module compilation (about 0.1 s) then happen meanwhile
 * instead of after the plan. Spares keep no process alive; a pool adopts only those started with
 * the environment it would give its own (GEOZARR_* switches read in the worker), the others end.
 */
export function prestartWorkers(count: number, warm: readonly TaskKind[] = []): void {
  const env = workerEnv();
  const key = JSON.stringify(env);
  const want = Math.min(count, maxWorkerCount()) - spares.filter((s) => s.env === key).length;
  for (let i = 0; i < want; i++) {
    const worker = startWorker(env);
    const spare: Spare = { worker, env: key, failed: false, onError: () => (spare.failed = true) };
    worker.on("error", spare.onError);
    worker.on("exit", spare.onError);
    worker.unref();
    if (warm.length > 0) worker.postMessage({ warm });
    spares.push(spare);
  }
}

/** How many prestarted workers wait for a pool (for tests). */
export function spareWorkers(): number {
  return spares.length;
}

/** A spare worker started with `env`, if there is one; spares started otherwise are ended. */
function adoptSpare(env: string): Worker | undefined {
  for (let i = spares.length - 1; i >= 0; i--) {
    const s = spares[i]!;
    if (s.env === env && !s.failed) continue;
    spares.splice(i, 1);
    void s.worker.terminate();
  }
  const s = spares.shift();
  if (!s) return undefined;
  s.worker.off("error", s.onError);
  s.worker.off("exit", s.onError);
  return s.worker;
}

export class WorkerPool {
  readonly size: number;
  readonly capacity: number;
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  readonly #waiters: Array<() => void> = [];
  #nextId = 1;
  #outstanding = 0;
  #closed = false;
  #failure: Error | null = null;
  #inlineTail: Promise<unknown> = Promise.resolve();

  constructor(size: number = defaultWorkerCount(), capacity = Math.max(2, size * 2)) {
    if (!Number.isInteger(size) || size < 0 || size > maxWorkerCount()) {
      throw new GeoZarrError(
        "Usage",
        `workers must be an integer from 0 to ${maxWorkerCount()} (4 per core on this machine), got ${size}`,
      );
    }
    this.size = size;
    this.capacity = capacity;
    const env = workerEnv();
    const key = JSON.stringify(env);
    for (let i = 0; i < this.size; i++) {
      const worker = adoptSpare(key) ?? startWorker(env);
      const slot: Slot = { worker, busy: null };
      worker.on("message", (msg: { id: number; output?: unknown; error?: SerializedError }) =>
        this.#done(slot, msg),
      );
      worker.on("error", (err) => this.#crash(slot, err));
      worker.on("exit", (code) => {
        if (!this.#closed) this.#crash(slot, new Error(`worker exited with code ${code}`));
      });
      worker.unref();
      this.#slots.push(slot);
    }
  }

  /** Resolves when fewer than `capacity` tasks are queued or running. */
  async slot(): Promise<void> {
    // A stopped or failed pool lets every caller through at once: run() then rejects, and a caller
    // woken to submit nothing would otherwise leave the waiters behind it asleep for good.
    while (this.#outstanding >= this.capacity && !this.#closed && !this.#failure) {
      await new Promise<void>((r) => this.#waiters.push(r));
    }
  }

  /** Whether the pool failed (a worker thread crashed, or it was stopped): it runs nothing more. */
  get failed(): boolean {
    return this.#failure !== null;
  }

  /** Tasks submitted and not yet finished. */
  get outstanding(): number {
    return this.#outstanding;
  }

  run<K extends TaskKind>(
    kind: K,
    input: TaskInput<K>,
    transfer: ArrayBuffer[] = [],
  ): Promise<TaskOutput<K>> {
    if (this.#closed) return Promise.reject(new Error("worker pool is closed"));
    if (this.#failure) return Promise.reject(this.#failure);
    this.#outstanding++;
    if (this.size === 0) {
      // Inline tasks run one at a time, like each worker does: task code may keep per-thread
      // scratch buffers across awaits.
      const result = this.#inlineTail.then(() => runTask(kind, input)).then((r) => r.output);
      this.#inlineTail = result.then(
        () => undefined,
        () => undefined,
      );
      return result.finally(() => this.#release());
    }
    return new Promise<TaskOutput<K>>((resolve, reject) => {
      const pending: Pending = { resolve: resolve as (v: unknown) => void, reject };
      this.#queue.push({ id: this.#nextId++, kind, input, transfer, pending });
      this.#dispatch();
    });
  }

  #dispatch(): void {
    for (const slot of this.#slots) {
      if (slot.busy || this.#queue.length === 0) continue;
      const job = this.#queue.shift()!;
      slot.busy = job;
      slot.worker.ref();
      slot.worker.postMessage({ id: job.id, kind: job.kind, input: job.input }, job.transfer);
    }
  }

  #done(slot: Slot, msg: { id: number; output?: unknown; error?: SerializedError }): void {
    const job = slot.busy;
    if (!job || job.id !== msg.id) return;
    slot.busy = null;
    slot.worker.unref();
    if (msg.error) job.pending.reject(deserializeError(msg.error));
    else job.pending.resolve(msg.output);
    this.#release();
    this.#dispatch();
  }

  #crash(slot: Slot, err: Error): void {
    // A crashed worker (out of memory, native fault) fails the pool: later tasks would hit the same.
    this.#failure ??= new GeoZarrError("IO", `worker thread failed: ${err.message}`, { cause: err });
    const jobs = [...(slot.busy ? [slot.busy] : []), ...this.#queue.splice(0)];
    slot.busy = null;
    for (const job of jobs) {
      job.pending.reject(this.#failure);
      this.#release();
    }
  }

  #release(): void {
    this.#outstanding--;
    if (this.#closed || this.#failure) for (const w of this.#waiters.splice(0)) w();
    else this.#waiters.shift()?.();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w();
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }

  /**
   * Stop now (an aborted command): every queued and running task fails with `reason` and the
   * workers are terminated, even one stuck in a long task, so callers waiting on tasks return at once.
   */
  async stop(reason: unknown): Promise<void> {
    const error = reason instanceof Error ? reason : new GeoZarrError("IO", String(reason));
    this.#failure ??= error;
    const jobs = [...this.#slots.flatMap((s) => (s.busy ? [s.busy] : [])), ...this.#queue.splice(0)];
    for (const s of this.#slots) s.busy = null;
    for (const job of jobs) {
      job.pending.reject(error);
      this.#release();
    }
    for (const w of this.#waiters.splice(0)) w();
    await this.close();
  }

  /** Stop when `signal` aborts (see {@link stop}); returns the function that detaches it. */
  stopOn(signal: AbortSignal | undefined): () => void {
    if (!signal) return () => {};
    const onAbort = () => void this.stop(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    return () => signal.removeEventListener("abort", onAbort);
  }
}

let inline: WorkerPool | undefined;

/**
 * The pool to run tasks on a store with: `pool` when it has workers and the store can be re-opened
 * on them, otherwise a pool that runs tasks inline (in-memory stores cannot cross threads).
 */
export function poolFor(pool: WorkerPool, canUseWorkers: boolean): WorkerPool {
  if (pool.size > 0 && canUseWorkers) return pool;
  inline ??= new WorkerPool(0);
  return inline;
}
