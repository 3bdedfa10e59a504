/**
 * The inspector's display overviews (pyramid/overview.ts), by id (layers.ts's fingerprint): each
 * is built once however many requests ask for it, one build at a time, on disk or in memory,
 * within a time limit.
 *
 * On disk a build writes into `.tmp-<id>-<pid>-<random>` next to the entries and renames it into
 * place when complete, so a half overview never looks whole. A build that exceeds the time limit
 * is stopped (no further chunk is handed to the workers; the ones already running finish, one
 * chunk each) and its directory removed; the failure is remembered, so the page is told why at
 * once instead of starting the same hour-long build again. Stopping the cache (server shutdown)
 * stops every build and removes its directory without waiting for workers that are being
 * terminated. A directory left by a process that was killed outright is removed by the next
 * server that uses the cache, once that process is gone.
 *
 * @module
 */

import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { GeoZarrError } from "../errors.js";
import type { OverviewSummary } from "../pyramid/overview.js";
import { FileSystemStore } from "../zarr/store/fs.js";
import { MemoryStore } from "../zarr/store/memory.js";
import type { Store, WritableStore } from "../zarr/store/types.js";

export interface BuiltOverview {
  summary: OverviewSummary;
  /** Seconds the build took (0 when it came from the disk cache). */
  buildSeconds: number;
  cached: boolean;
}

export type BuildOverview = (out: WritableStore, signal: AbortSignal) => Promise<OverviewSummary>;

/** Default time limit of one overview build. */
export const OVERVIEW_TIMEOUT_MS = 300_000;

/** How long stopping waits for builds to wind down before removing their directories itself. */
const STOP_GRACE_MS = 300;

const PARTIAL = /^\.tmp-[0-9a-f]+-(\d+)-[0-9a-f]+$/;

export class OverviewCache {
  readonly #entries = new Map<string, Promise<BuiltOverview>>();
  readonly #stores = new Map<string, Store>();
  readonly #partial = new Set<string>();
  readonly #running = new Set<Promise<unknown>>();
  readonly #stop = new AbortController();
  #swept: Promise<void> | undefined;
  /** Settles when the last build handed to #timed has finished (builds run one at a time). */
  #tail: Promise<void> = Promise.resolve();

  constructor(
    /** Directory for overviews that outlive the process; memory only when undefined. */
    readonly dir: string | undefined,
    /** Time limit of one build in milliseconds; 0 for none. */
    readonly timeoutMs: number,
    readonly log: (line: string) => void,
  ) {}

  /** The overview `id`, loaded or built (once) by `build`; `label` names it in messages. */
  get(id: string, label: string, build: BuildOverview): Promise<BuiltOverview> {
    let p = this.#entries.get(id);
    if (!p) {
      const built = this.#loadOrBuild(id, label, build);
      p = built;
      this.#entries.set(id, built);
      built.then(
        (b) =>
          this.log(
            `map overview of ${label} ${b.cached ? "loaded from the cache" : `built in ${b.buildSeconds.toFixed(1)} s`}`,
          ),
        (err: unknown) => {
          // A build that ran out of time would again: remember that. Other failures may pass.
          if (!(err instanceof TimeLimit)) this.#entries.delete(id);
        },
      );
    }
    return p;
  }

  /** Whether close() was called (builds failing from then on fail because of it). */
  get stopped(): boolean {
    return this.#stop.signal.aborted;
  }

  /** The store of a loaded or built overview. */
  store(id: string): Store | undefined {
    return this.#stores.get(id);
  }

  /** Stop every build and remove its partial output; later requests fail. */
  async close(): Promise<void> {
    this.#stop.abort(new GeoZarrError("IO", "the inspector is stopping"));
    // Builds notice at their next chunk or tile and clean up after themselves; one waiting for a
    // worker that is being terminated never settles, so the wait is bounded.
    const timer = new AbortController();
    await Promise.race([
      Promise.allSettled([...this.#running]),
      delay(STOP_GRACE_MS, undefined, { signal: timer.signal, ref: false }).catch(() => undefined),
    ]);
    timer.abort();
    await Promise.all([...this.#partial].map((d) => rm(d, { recursive: true, force: true })));
  }

  async #loadOrBuild(id: string, label: string, build: BuildOverview): Promise<BuiltOverview> {
    if (this.#stop.signal.aborted) throw this.#stop.signal.reason;
    if (!this.dir) {
      const store = new MemoryStore();
      const { summary, seconds } = await this.#timed(label, (signal) => build(store, signal));
      this.#stores.set(id, store);
      return { summary, buildSeconds: seconds, cached: false };
    }
    const entry = join(this.dir, id);
    const saved = await readFile(join(entry, "summary.json"), "utf8").catch(() => null);
    if (saved) {
      this.#stores.set(id, new FileSystemStore(join(entry, "store")));
      return { summary: JSON.parse(saved) as OverviewSummary, buildSeconds: 0, cached: true };
    }
    await mkdir(this.dir, { recursive: true });
    this.#swept ??= sweepDead(this.dir);
    await this.#swept;
    const dir = this.dir;
    const { summary, seconds } = await this.#timed(label, async (signal) => {
      // Made when the build's turn comes, removed before the next build's turn.
      const tmp = join(dir, `.tmp-${id}-${process.pid}-${randomBytes(4).toString("hex")}`);
      this.#partial.add(tmp);
      try {
        await mkdir(tmp);
        const summary = await build(new FileSystemStore(join(tmp, "store")), signal);
        await writeFile(join(tmp, "summary.json"), JSON.stringify(summary));
        await rm(entry, { recursive: true, force: true });
        await rename(tmp, entry);
        return summary;
      } finally {
        await rm(tmp, { recursive: true, force: true });
        this.#partial.delete(tmp);
      }
    });
    this.#stores.set(id, new FileSystemStore(join(entry, "store")));
    return { summary, buildSeconds: seconds, cached: false };
  }

  /**
   * Run one build, after the builds before it, under the time limit and the cache's stop signal.
   * One at a time: each build already spreads over the whole worker pool, and each holds its
   * level 0 sums (up to 8192 x 8192 x 12 bytes), so concurrent builds would only add memory.
   */
  async #timed(
    label: string,
    run: (signal: AbortSignal) => Promise<OverviewSummary>,
  ): Promise<{ summary: OverviewSummary; seconds: number }> {
    const before = this.#tail;
    let release = () => {};
    this.#tail = new Promise<void>((r) => {
      release = r;
    });
    try {
      await before;
      if (this.#stop.signal.aborted) throw this.#stop.signal.reason;
      return await this.#limited(label, run);
    } finally {
      release();
    }
  }

  async #limited(
    label: string,
    run: (signal: AbortSignal) => Promise<OverviewSummary>,
  ): Promise<{ summary: OverviewSummary; seconds: number }> {
    const ac = new AbortController();
    const stop = () => ac.abort(this.#stop.signal.reason);
    this.#stop.signal.addEventListener("abort", stop, { once: true });
    const limit =
      this.timeoutMs > 0
        ? setTimeout(() => ac.abort(new TimeLimit(label, this.timeoutMs)), this.timeoutMs)
        : undefined;
    limit?.unref();
    const t0 = performance.now();
    const job = run(ac.signal);
    this.#running.add(job);
    try {
      const summary = await job;
      return { summary, seconds: (performance.now() - t0) / 1000 };
    } finally {
      clearTimeout(limit);
      this.#stop.signal.removeEventListener("abort", stop);
      this.#running.delete(job);
    }
  }
}

/** A build stopped by the time limit (the message the page and the log show). */
class TimeLimit extends GeoZarrError {
  constructor(label: string, ms: number) {
    super(
      "Unsupported",
      `${label}: the map overview was stopped after ${ms / 1000} s, the time limit of a build (overviewTimeout)`,
    );
  }
}

/** Remove the partial directories of processes that no longer run (killed during a build). */
async function sweepDead(dir: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const pid = PARTIAL.exec(name)?.[1];
    if (pid && Number(pid) !== process.pid && !alive(Number(pid)))
      await rm(join(dir, name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
