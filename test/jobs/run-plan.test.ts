/**
 * Tasks of a run executed in this process (jobs/run-plan.ts `runStagedTasks`), two at a time on
 * one pool of worker threads: the same chunks as one after the other, one summed progress that
 * only grows, and the first failure stopping the run with only complete tasks recorded.
 */

import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import type { ProgressInfo } from "../../src/convert/execute.js";
import { DEFAULT_MEMORY_BUDGET, emptySummary } from "../../src/convert/execute.js";
import { planCopy } from "../../src/convert/pipeline.js";
import type { RunStaging } from "../../src/convert/staging.js";
import {
  type PreparedRun,
  planId,
  runPlanTask,
  runStagedTasks,
  stageRun,
  unfinishedTasks,
} from "../../src/jobs/run-plan.js";
import { planSeriesRun } from "../../src/jobs/series.js";
import { WorkerPool } from "../../src/parallel/pool.js";
import { dataTypeInfo } from "../../src/zarr/dtype.js";
import { treeFingerprint } from "../helpers/processes.js";
import { tmpDir } from "../helpers/tmp.js";

const root = tmpDir("run-plan");
const days = () => join(inject("seriesGranules"), "days");
const pool = new WorkerPool(2);
afterAll(() => pool.close());

/** A series of the 6 test granules planned and staged into `name` under the test directory. */
async function staged(name: string): Promise<PreparedRun> {
  const out = join(root, name);
  const { draft, inputs } = await planSeriesRun([join(days(), "*.nc")], out, { concat: "time" }, pool);
  return stageRun(draft, inputs, false);
}

const exec = (extra: object = {}) => ({ workers: 2, useWorkers: true, pool, ...extra });
const counts = (n: number) => ({ tasks: n, done: 0, skipped: 0, failed: 0 });
/** The chunks in a staging area (v3 keys), with their contents' fingerprints. */
const chunksOf = (dir: string) =>
  new Map([...treeFingerprint(dir)].filter(([k]) => /\/c\/\d+\/\d+\/\d+$/.test(k)));

describe("runStagedTasks", () => {
  it("writes the same chunks two tasks at a time as one task at a time, with one growing progress", async () => {
    const a = await staged("a.zarr");
    const reports: ProgressInfo[] = [];
    const tasks: number[] = [];
    const c = counts(a.plan.tasks.length);
    const events: string[] = [];
    const logged = loggingStaging(a.staging, events);
    const sum = emptySummary(2);
    await runStagedTasks(a.plan, logged, exec({ onProgress: (p: ProgressInfo) => reports.push(p) }), c, sum, {
      onTasks: (done) => tasks.push(done),
    });
    expect(c).toMatchObject({ tasks: 6, done: 6, skipped: 0 });
    // The run's budget, not the half each task in flight had.
    expect(sum.memory.budget).toBe(DEFAULT_MEMORY_BUDGET);
    expect(sum.memory.peakBuffered).toBeGreaterThan(0);
    expect(sum.memory.peakBuffered).toBeLessThanOrEqual(DEFAULT_MEMORY_BUDGET / 2);
    expect(tasks).toEqual([1, 2, 3, 4, 5, 6]);
    // Two in flight: task 1 starts before task 0 ends, and never more than two are open.
    expect(events.slice(0, 2)).toEqual(["start 0", "start 1"]);
    let open = 0;
    for (const e of events) {
      open += e.startsWith("start") ? 1 : -1;
      expect(open).toBeLessThanOrEqual(2);
    }
    expect(events.filter((e) => e.startsWith("end")).sort()).toEqual(
      [0, 1, 2, 3, 4, 5].map((i) => `end ${i}`),
    );
    // Summed over the tasks in flight: never going back, ending at every unit of every task.
    const units = a.plan.tasks.reduce(
      (n, t) => n + Object.values(t.regions).reduce((m, b) => m + b.shape.reduce((x, y) => x * y, 1), 0),
      0,
    );
    expect(units).toBe(24);
    for (const [i, p] of reports.entries()) {
      if (i === 0) continue;
      const q = reports[i - 1]!;
      expect(p.unitsDone).toBeGreaterThanOrEqual(q.unitsDone);
      expect(p.rawBytesDone).toBeGreaterThanOrEqual(q.rawBytesDone);
      expect(p.storedBytes).toBeGreaterThanOrEqual(q.storedBytes);
    }
    expect(reports.at(-1)).toMatchObject({ unitsDone: units, unitsTotal: units });
    expect(await unfinishedTasks(a.plan, a.staging)).toEqual([]);

    // The same tasks one after the other (as before, and as one queue worker runs them).
    const b = await staged("b.zarr");
    for (const i of b.plan.tasks.keys())
      expect(await runPlanTask(b.plan, b.staging, i, exec())).not.toBeNull();
    expect(chunksOf(b.pending.tmp).size).toBe(24);
    expect(chunksOf(a.pending.tmp)).toEqual(chunksOf(b.pending.tmp));
    await a.pending.abort();
    await b.pending.abort();
  });

  it("runs one task at a time when half the budget would cost aligned copies their cache", async () => {
    const r = await staged("d.zarr");
    // A budget whose half no longer holds the segment cache of the first data array (planCopy).
    const n = r.plan.nodes.find((x) => x.kind === "array" && r.plan.tasks[0]!.regions[x.path]);
    if (n?.kind !== "array" || !n.copy) throw new Error("no data array");
    const plan = (b: number) =>
      planCopy(
        n.spec.shape,
        n.spec.chunkShape,
        n.copy!.sourceChunks,
        dataTypeInfo(n.copy!.sourceType).size,
        b,
      );
    let budget = 1 << 30;
    while (budget > 1 && plan(budget / 2).aligned) budget /= 2;
    expect(plan(budget).aligned).toBe(true);
    expect(plan(budget / 2).aligned).toBe(false);
    const events: string[] = [];
    const logged = loggingStaging(r.staging, events);
    const c = counts(r.plan.tasks.length);
    await runStagedTasks(r.plan, logged, exec({ memoryBudget: budget }), c, emptySummary(2), {});
    expect(c.done).toBe(6);
    expect(events).toEqual([0, 1, 2, 3, 4, 5].flatMap((i) => [`start ${i}`, `end ${i}`]));
    await r.pending.abort();
  });

  it("stops at the first failure: that error, no task after it started, only complete tasks recorded", async () => {
    const r = await staged("c.zarr");
    // Task 2's source no longer matches the plan: it fails before writing anything.
    const bad = r.plan.tasks[2]!.sources[0]!;
    const sources = r.plan.sources.map((s, i) => (i === bad ? { ...s, size: s.size + 1 } : s));
    const plan = { ...r.plan, sources };
    const c = counts(plan.tasks.length);
    await expect(runStagedTasks(plan, r.staging, exec(), c, emptySummary(2), {})).rejects.toThrow(
      `${sources[bad]!.file}: changed since the run was planned`,
    );
    const records = readdirSync(join(r.pending.tmp, ".geozarr-run", "tasks"));
    // Task 0 finished before task 2 started; task 1 (in flight beside it) may have; none after.
    expect(c.done).toBe(records.length);
    expect(c.done === 1 || c.done === 2).toBe(true);
    const left = await unfinishedTasks(r.plan, r.staging);
    expect(left.slice(-4)).toEqual([2, 3, 4, 5]);
    expect(left.length).toBe(6 - c.done);
    // Every chunk written is of tasks 0 or 1 (time steps 0, 1), all 4 of each task recorded.
    const steps = [...chunksOf(r.pending.tmp).keys()].map((k) => Number(/\/c\/(\d+)\//.exec(k)?.[1]));
    expect(steps.every((t) => t === 0 || t === 1)).toBe(true);
    for (const t of [0, 1].filter((t) => !left.includes(t)))
      expect(steps.filter((s) => s === t).length).toBe(4);
    await r.pending.abort();
  });
});

/** `staging` logging its calls in order: a task checks its record first and writes it last. */
function loggingStaging(staging: RunStaging, events: string[]): RunStaging {
  return {
    planId: staging.planId,
    where: staging.where,
    dir: staging.dir,
    store: () => staging.store(),
    writePlan: (text) => staging.writePlan(text),
    done: (i, sources) => {
      events.push(`start ${i}`);
      return staging.done(i, sources);
    },
    record: async (rec) => {
      await staging.record(rec);
      events.push(`end ${rec.index}`);
    },
  };
}

describe("planId", () => {
  // A node reading a NetCDF-4 file in object storage in place, as remote-input.ts plans it.
  const nodes = (remote: { concurrency?: number; run?: string; url?: string; version?: string }) =>
    [
      {
        kind: "array",
        path: "/sst",
        copy: {
          source: {
            kind: "netcdf",
            file: remote.url ?? "http://127.0.0.1:1/mur.nc",
            remote: {
              url: remote.url ?? "http://127.0.0.1:1/mur.nc",
              store: { kind: "http", url: "http://127.0.0.1:1/", concurrency: remote.concurrency },
              key: "/mur.nc",
              size: 1000,
              version: remote.version ?? '"etag-1"',
              fetched: new SharedArrayBuffer(8),
              run: remote.run ?? "run-a",
            },
          },
        },
      },
    ] as never;
  const id = (remote: Parameters<typeof nodes>[0]) =>
    planId({ nodes: nodes(remote), tasks: [], sources: [] }, { zarrFormat: 3 });

  it("is the same for another reading of the same object: its run id and its requests in flight", () => {
    expect(id({ concurrency: 4, run: "run-a" })).toBe(id({ concurrency: 16, run: "run-b" }));
    expect(id({})).toBe(id({ concurrency: 8 }));
  });

  it("differs for another object or another version of it", () => {
    expect(id({ version: '"etag-2"' })).not.toBe(id({}));
    expect(id({ url: "http://127.0.0.1:1/other.nc" })).not.toBe(id({}));
  });
});
