/**
 * Runs on many processes (issue 16): a real redis-server on loopback, real `geozarr worker`
 * processes, `geozarr convert --queue` as a user runs it. Every queued store is compared byte for
 * byte with the single-process conversion of the same inputs (the same output name and
 * SOURCE_DATE_EPOCH, so the history lines agree too). Dead workers are killed by fault injection
 * at an exact point (GEOZARR_FAULT, src/faults.ts), never by a timer.
 */

import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { finalizeStaged, stagingOf } from "../../src/jobs/run-plan.js";
import { expectOneLine } from "../helpers/cli.js";
import { runCliProcess, startCli, treeFingerprint } from "../helpers/processes.js";
import { startRedis } from "../helpers/redis.js";
import { tmpDir } from "../helpers/tmp.js";
import { tasksStarted, workerProcesses } from "../helpers/workers.js";

const root = tmpDir("queue");
const twelve = () => join(inject("seriesGranules"), "twelve");
const EPOCH = { SOURCE_DATE_EPOCH: "1796169600" };
let redis = "";

const pool = workerProcesses(
  () => redis,
  () => EPOCH,
);
const worker = pool.start;
const stopWorkers = pool.stop;

async function status(queue: string) {
  const r = await runCliProcess(["status", redis, "--queue-name", queue, "--json"]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as {
    counts: Record<string, number>;
    runs: { id: string; done: number; before: number; failed: { task: number; error: string }[] }[];
  };
}

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(stopWorkers);

describe("geozarr convert --queue with geozarr workers", () => {
  const ref = join(root, "ref", "sst.zarr");

  beforeAll(async () => {
    mkdirSync(join(root, "ref"));
    const r = await runCliProcess(["convert", join(twelve(), "*.nc"), ref, "--concat", "time"], EPOCH);
    expect(r.code, r.stderr).toBe(0);
  });

  it("12 granules, 3 workers, one killed (SIGKILL) in the middle of a task: the store is the single-process one, byte for byte; resubmitting runs nothing", async () => {
    const q = "e2e";
    mkdirSync(join(root, "e2e"));
    const out = join(root, "e2e", "sst.zarr");
    // The first worker dies at its third chunk encoding: in its first task, chunks written, no record.
    const doomed = worker(q, { GEOZARR_FAULT: "task:encode-chunk:kill:3" });
    await doomed.waitFor(/ready/, "stdout");
    const run = startCli(
      ["convert", join(twelve(), "*.nc"), out, "--concat", "time", "--queue", redis, "--queue-name", q],
      EPOCH,
    );
    expect(await doomed.exit).toBe(137);
    const killed = /task (\d+) \(([^)]*)\) of \w+: started/.exec(doomed.stdout());
    expect(killed).not.toBeNull();
    expect(doomed.stderr()).toMatch(/geozarr-fault: task:encode-chunk kill/);
    // The other two join after; the stalled-job check hands them the dead worker's task too.
    const a = worker(q);
    const b = worker(q);
    expect(await run.exit, run.stderr()).toBe(0);
    expect(run.stdout()).toMatch(/sst\.zarr: 12 tasks on the queue \(12 run now\) by [12] workers?/);
    const rerun = `task ${killed![1]} (${killed![2]})`;
    expect(`${a.stdout()}${b.stdout()}`).toContain(`${rerun} of`);
    expect(treeFingerprint(out)).toEqual(treeFingerprint(ref));
    expect(readdirSync(join(root, "e2e")).sort()).toEqual(["sst.zarr"]);

    // The same command again: the run is complete; no job is added and no task runs.
    const before = await status(q);
    const ran = tasksStarted(a) + tasksStarted(b);
    const again = await runCliProcess(
      ["convert", join(twelve(), "*.nc"), out, "--concat", "time", "--queue", redis, "--queue-name", q],
      EPOCH,
    );
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/already complete .*nothing submitted/);
    const after = await status(q);
    expect(after.counts).toEqual(before.counts);
    expect(tasksStarted(a) + tasksStarted(b)).toBe(ran);
    expect(after.runs[0]!.done + after.runs[0]!.before).toBe(12);
    expect(treeFingerprint(out)).toEqual(treeFingerprint(ref));
    await stopWorkers();
  });

  it("a task that always fails makes the run fail with its own message after its retries; the staging area stays", async () => {
    const q = "failing";
    const dir = join(root, "bad");
    mkdirSync(join(dir, "in"), { recursive: true });
    for (const f of ["mur_0701.nc", "mur_0702.nc", "mur_0703.nc"])
      cpSync(join(twelve(), f), join(dir, "in", f));
    // A data chunk of 07-02 overwritten: the scan (metadata, coordinates) passes, its task cannot.
    execFileSync("/usr/bin/python3", [
      "-c",
      [
        "import h5py, sys",
        "p = sys.argv[1]",
        "with h5py.File(p, 'r') as f: c = f['analysed_sst'].id.get_chunk_info(5)",
        "fh = open(p, 'r+b'); fh.seek(c.byte_offset + 2); fh.write(b'\\xff' * min(64, c.size - 4)); fh.close()",
      ].join("\n"),
      join(dir, "in", "mur_0702.nc"),
    ]);
    const w = worker(q);
    const r = await runCliProcess([
      "convert",
      join(dir, "in", "*.nc"),
      join(dir, "bad.zarr"),
      "--concat",
      "time",
      "--queue",
      redis,
      "--queue-name",
      q,
      "--attempts",
      "2",
    ]);
    expect(r.code).toBe(3);
    expectOneLine(
      r.stderr,
      /bad\.zarr: task 1 \(mur_0702\.nc\) failed after 2 attempts: .*mur_0702\.nc: cannot read \/analysed_sst: corrupt chunk/,
    );
    expect(w.stdout().match(/task 1 \(mur_0702\.nc\) of \w+: failed/g)).toHaveLength(2);
    expect(existsSync(join(dir, "bad.zarr"))).toBe(false);
    const staging = readdirSync(dir).filter((e) => e.startsWith(".bad.zarr.partial-"));
    expect(staging).toHaveLength(1);
    const records = readdirSync(join(dir, staging[0]!, ".geozarr-run", "tasks")).sort();
    expect(records).toEqual(["0.json", "2.json"]);
    const s = await status(q);
    expect(s.runs[0]!.failed).toEqual([expect.objectContaining({ task: 1 })]);
    expect(s.runs[0]!.failed[0]!.error).toMatch(/corrupt chunk/);
    await stopWorkers();
  });

  it("SIGTERM on a worker hands its running task back to the queue; another worker finishes the run", async () => {
    const q = "handback";
    mkdirSync(join(root, "hb"));
    const out = join(root, "hb", "sst.zarr");
    const stuck = worker(q, { GEOZARR_FAULT: "task:encode-chunk:hang" }, ["--grace", "0.5"]);
    await stuck.waitFor(/ready/, "stdout");
    const files = ["mur_0701.nc", "mur_0702.nc"].map((f) => join(twelve(), f));
    const run = startCli(
      ["convert", ...files, out, "--concat", "time", "--queue", redis, "--queue-name", q],
      EPOCH,
    );
    await stuck.waitFor(/geozarr-fault: task:encode-chunk hang/);
    stuck.child.kill("SIGTERM");
    expect(await stuck.exit).toBe(143);
    expect(stuck.stdout()).toMatch(/handed-back task 0 \(mur_0701\.nc\)/);
    worker(q);
    expect(await run.exit, run.stderr()).toBe(0);
    const local = join(root, "hb", "local", "sst.zarr");
    mkdirSync(join(root, "hb", "local"));
    expect((await runCliProcess(["convert", ...files, local, "--concat", "time"], EPOCH)).code).toBe(0);
    expect(treeFingerprint(out)).toEqual(treeFingerprint(local));
    await stopWorkers();
  });
});

describe("geozarr convert --prepare and geozarr task (no Redis: a Kubernetes Indexed Job)", () => {
  it("tasks in any order, one twice, then finalize: the single-process store; finalize refuses while a task is missing", async () => {
    const dir = join(root, "indexed");
    mkdirSync(dir);
    const out = join(dir, "sst.zarr");
    const files = ["mur_0701.nc", "mur_0702.nc", "mur_0703.nc", "mur_0704.nc"].map((f) => join(twelve(), f));
    const p = await runCliProcess(
      ["convert", ...files, out, "--concat", "time", "--prepare", "--json"],
      EPOCH,
    );
    expect(p.code, p.stderr).toBe(0);
    const plan = JSON.parse(p.stdout) as { plan: string; tasks: number; done: number };
    expect(plan.tasks).toBe(4);
    expect(plan.done).toBe(0);
    for (const k of [2, 0, 3]) {
      const t = await runCliProcess(
        ["task", "--plan", plan.plan, "--index", String(k), "--workers", "1"],
        EPOCH,
      );
      expect(t.code, t.stderr).toBe(0);
    }
    const early = await runCliProcess(["task", "--plan", plan.plan, "--finalize"], EPOCH);
    expect(early.code).toBe(3);
    expectOneLine(early.stderr, /1 task not done \(task 1, mur_0702\.nc, has no intact record\)/);
    // Task 1 twice at once (at-least-once delivery): the same files.
    const [x, y] = await Promise.all(
      [1, 1].map(() => runCliProcess(["task", "--plan", plan.plan, "--index", "1", "--workers", "1"], EPOCH)),
    );
    expect([x!.code, y!.code]).toEqual([0, 0]);
    const once = await runCliProcess(["task", "--plan", plan.plan, "--index", "1"], EPOCH);
    expect(once.stdout).toMatch(/task 1: done before/);
    const st = statSync(stagingOf(plan.plan));
    const identity = { dev: st.dev, ino: st.ino, birthtimeMs: st.birthtimeMs };
    const fin = await runCliProcess(["task", "--plan", plan.plan, "--finalize"], EPOCH);
    expect(fin.code, fin.stderr).toBe(0);
    // A finalize delivered again after it moved the store (the queue's case): a no-op, not an error.
    const exec = { workers: 0, useWorkers: false };
    const twice = await finalizeStaged(plan.plan, exec, identity);
    expect(twice).toMatchObject({ already: true, output: out });
    await expect(finalizeStaged(plan.plan, exec)).rejects.toThrow(/no such plan/);
    const local = join(dir, "local", "sst.zarr");
    mkdirSync(join(dir, "local"));
    expect((await runCliProcess(["convert", ...files, local, "--concat", "time"], EPOCH)).code).toBe(0);
    expect(treeFingerprint(out)).toEqual(treeFingerprint(local));
    const gone = await runCliProcess(["task", "--plan", plan.plan, "--index", "0"]);
    expect(gone.code).toBe(3);
    expect(gone.stderr).toMatch(/no such plan \(the run was finalized already/);
  });

  it("one input cut into tasks of whole chunk rows (--task-size): the single-process store", async () => {
    const dir = join(root, "single");
    mkdirSync(join(dir, "local"), { recursive: true });
    const input = join(twelve(), "mur_0705.nc");
    const out = join(dir, "sst.zarr");
    const p = await runCliProcess(
      ["convert", input, out, "--chunks", "lat=128,lon=256", "--prepare", "--task-size", "1M", "--json"],
      EPOCH,
    );
    expect(p.code, p.stderr).toBe(0);
    const plan = JSON.parse(p.stdout) as { plan: string; tasks: number };
    expect(plan.tasks).toBeGreaterThan(4);
    for (let k = plan.tasks - 1; k >= 0; k--) {
      const t = await runCliProcess(
        ["task", "--plan", plan.plan, "--index", String(k), "--workers", "0"],
        EPOCH,
      );
      expect(t.code, t.stderr).toBe(0);
    }
    expect((await runCliProcess(["task", "--plan", plan.plan, "--finalize"], EPOCH)).code).toBe(0);
    const local = join(dir, "local", "sst.zarr");
    const l = await runCliProcess(["convert", input, local, "--chunks", "lat=128,lon=256"], EPOCH);
    expect(l.code, l.stderr).toBe(0);
    expect(treeFingerprint(out)).toEqual(treeFingerprint(local));
  });
});

describe("refusals, one line each", () => {
  it("an unreachable Redis, a URL that is not Redis, --append with --queue, task without --plan", async () => {
    const input = join(twelve(), "mur_0701.nc");
    const out = join(root, "never.zarr");
    const dead = await runCliProcess(["convert", input, out, "--queue", "redis://127.0.0.1:1"]);
    expect(dead.code).toBe(3);
    expectOneLine(dead.stderr, /redis:\/\/127\.0\.0\.1:1: cannot reach Redis/);
    const http = await runCliProcess(["worker", "http://127.0.0.1:1"]);
    expect(http.code).toBe(2);
    expect(http.stderr).toMatch(/not a Redis URL/);
    const append = await runCliProcess(["convert", input, out, "--append", "time", "--queue", redis]);
    expect(append.code).toBe(2);
    expect(append.stderr).toMatch(/--append runs in one process/);
    const task = await runCliProcess(["task", "--index", "0"]);
    expect(task.code).toBe(2);
    expect(task.stderr).toMatch(/--plan PLAN is required/);
    const unknown = await runCliProcess(["status", redis, "0123456789abcdef"]);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/no such run on the queue geozarr/);
    expect(existsSync(out)).toBe(false);
    const url = await runCliProcess(["convert", "https://example.invalid/in.nc", out, "--queue", redis]);
    expect(url.code).toBe(3);
    expectOneLine(
      url.stderr,
      /https:\/\/example\.invalid\/in\.nc: the inputs of runs planned as tasks are files/,
    );
  });
});
