/**
 * Queued and prepared runs with their output in object storage (issue 16, item 2, "or S3
 * output"): a real redis-server and a real S3-compatible server (s3rver) on loopback, real
 * `geozarr worker` processes that reach S3 through their own AWS environment only (the jobs name
 * the plan by its s3:// URL and carry no credential). Every store is downloaded with boto3 and
 * compared key for key and byte for byte with the single-process conversion of the same inputs
 * into a directory (the same output name and SOURCE_DATE_EPOCH, so the history lines agree).
 */

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { finalizeStaged } from "../../src/jobs/run-plan.js";
import { uploadIdentity } from "../../src/jobs/upload-run.js";
import { expectOneLine } from "../helpers/cli.js";
import { downloadWithBoto3, filesUnder, keysUnder, useCloud } from "../helpers/cloud.js";
import { runCliProcess, startCli, treeFingerprint } from "../helpers/processes.js";
import { startRedis } from "../helpers/redis.js";
import { tmpDir } from "../helpers/tmp.js";
import { tasksStarted, workerProcesses } from "../helpers/workers.js";

const cloud = useCloud("queue-s3");
const root = tmpDir("queue-s3-out");
const EPOCH = { SOURCE_DATE_EPOCH: "1796169600" };
const four = () =>
  ["mur_0701.nc", "mur_0702.nc", "mur_0703.nc", "mur_0704.nc"].map((f) =>
    join(inject("seriesGranules"), "twelve", f),
  );
let redis = "";
const env = () => ({ ...cloud.env, ...EPOCH });

const pool = workerProcesses(
  () => redis,
  () => env(),
);
const worker = pool.start;
const stopWorkers = pool.stop;

/** The store at `name` in the test bucket, downloaded with boto3, is the directory `local`, key for key and byte for byte. */
function expectSameStore(name: string, local: string, label: string): void {
  const got = join(root, `boto3-${label}`);
  expect(downloadWithBoto3(cloud, name, got)).toEqual(filesUnder(local));
  expect(treeFingerprint(got)).toEqual(treeFingerprint(local));
}

const local = join(root, "local", "sst.zarr");

beforeAll(async () => {
  redis = await startRedis();
  mkdirSync(join(root, "local"), { recursive: true });
  const r = await runCliProcess(["convert", ...four(), local, "--concat", "time"], EPOCH);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(stopWorkers);

describe("geozarr convert ... s3://... --queue with geozarr workers", () => {
  it("4 granules, a worker killed (SIGKILL) mid-task, 2 workers finish: the single-process store byte for byte, nothing of the run left; resubmitting runs no task", async () => {
    const q = "s3e2e";
    const name = "queued/sst.zarr";
    const args = ["convert", ...four(), cloud.s3Url(name), "--concat", "time", "--queue", redis];
    // Killed at its third chunk encoding: in its first task, some chunks PUT, no record.
    const doomed = worker(q, { GEOZARR_FAULT: "task:encode-chunk:kill:3" });
    await doomed.waitFor(/ready/, "stdout");
    const run = startCli([...args, "--queue-name", q], env());
    expect(await doomed.exit).toBe(137);
    const killed = /task (\d+) \(([^)]*)\) of \w+: started/.exec(doomed.stdout());
    expect(killed).not.toBeNull();
    // While the run is unfinished the prefix holds the plan and no metadata a reader could open.
    const mid = await keysUnder(cloud, name);
    expect(mid).toContain(".geozarr-run/plan.json");
    expect(mid).toContain(".geozarr-partial.json");
    expect(mid.filter((k) => /(zarr\.json|\.z\w+)$/.test(k))).toEqual([]);
    const a = worker(q);
    const b = worker(q);
    expect(await run.exit, run.stderr()).toBe(0);
    expect(run.stdout()).toMatch(/sst\.zarr: 4 tasks on the queue \(4 run now\) by [12] workers?/);
    // The dead worker's task was run again by one of the two.
    expect(`${a.stdout()}${b.stdout()}`).toContain(`task ${killed![1]} (${killed![2]}) of`);
    expectSameStore(name, local, "queued");

    // The same command again: the store is complete, no job is added and no task runs.
    const ran = tasksStarted(a) + tasksStarted(b);
    const before = await runCliProcess(["status", redis, "--queue-name", q, "--json"]);
    const again = await runCliProcess([...args, "--queue-name", q], env());
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/already complete .*nothing submitted/);
    const after = await runCliProcess(["status", redis, "--queue-name", q, "--json"]);
    expect(JSON.parse(after.stdout).counts).toEqual(JSON.parse(before.stdout).counts);
    const st = JSON.parse(after.stdout).runs[0] as {
      output: string;
      plan: string;
      done: number;
      before: number;
    };
    expect(st.output).toBe(cloud.s3Url(name));
    expect(st.plan).toBe(`${cloud.s3Url(name)}/.geozarr-run/plan.json`);
    expect(st.done + st.before).toBe(4);
    expect(tasksStarted(a) + tasksStarted(b)).toBe(ran);
    expectSameStore(name, local, "queued-again");
    await stopWorkers();
  });
});

describe("one input to s3:// on the queue", () => {
  it("cut into tasks of whole chunk rows (--task-size) on 2 workers: the store of the same conversion to s3:// in one process", async () => {
    const q = "s3one";
    const input = four()[0]!;
    const opts = ["--chunks", "lat=128,lon=256"];
    const ref = await runCliProcess(["convert", input, cloud.s3Url("one-ref/one.zarr"), ...opts], env());
    expect(ref.code, ref.stderr).toBe(0);
    const a = worker(q);
    const b = worker(q);
    const r = await runCliProcess(
      [
        "convert",
        input,
        cloud.s3Url("one/one.zarr"),
        ...opts,
        "--task-size",
        "1M",
        "--queue",
        redis,
        "--queue-name",
        q,
        "--json",
      ],
      env(),
    );
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as { tasks: number; ran: number };
    expect(s.tasks).toBeGreaterThan(4);
    expect(s.ran).toBe(s.tasks);
    expect(tasksStarted(a) + tasksStarted(b)).toBe(s.tasks);
    const refDir = join(root, "boto3-one-ref");
    const keys = downloadWithBoto3(cloud, "one-ref/one.zarr", refDir);
    expect(keys.some((k) => k.startsWith(".geozarr"))).toBe(false);
    expectSameStore("one/one.zarr", refDir, "one");
    await stopWorkers();
  });
});

describe("geozarr convert ... s3://... --prepare and geozarr task --plan s3://... (an Indexed Job)", () => {
  it("the plan under the prefix; tasks in any order, one twice at once, finalize refusing while one is missing, then the single-process store", async () => {
    const name = "indexed/sst.zarr";
    const p = await runCliProcess(
      ["convert", ...four(), cloud.s3Url(name), "--concat", "time", "--prepare", "--json"],
      env(),
    );
    expect(p.code, p.stderr).toBe(0);
    const plan = JSON.parse(p.stdout) as { plan: string; tasks: number; done: number; output: string };
    expect(plan).toMatchObject({
      plan: `${cloud.s3Url(name)}/.geozarr-run/plan.json`,
      output: cloud.s3Url(name),
      tasks: 4,
      done: 0,
    });
    // Planned, the lock is released and the prefix marked as the run's.
    expect(await keysUnder(cloud, name)).toEqual([".geozarr-partial.json", ".geozarr-run/plan.json"]);
    const task = (k: number) =>
      runCliProcess(["task", "--plan", plan.plan, "--index", String(k), "--workers", "1"], env());
    for (const k of [2, 0, 3]) {
      const t = await task(k);
      expect(t.code, t.stderr).toBe(0);
    }
    const early = await runCliProcess(["task", "--plan", plan.plan, "--finalize"], env());
    expect(early.code).toBe(3);
    expectOneLine(early.stderr, /1 task not done \(task 1, mur_0702\.nc, has no intact record\)/);
    expect((await keysUnder(cloud, name)).filter((k) => /(zarr\.json|\.z\w+)$/.test(k))).toEqual([]);
    // Task 1 twice at once (at-least-once delivery), then once more: done before.
    const [x, y] = await Promise.all([task(1), task(1)]);
    expect([x!.code, y!.code]).toEqual([0, 0]);
    expect((await task(1)).stdout).toMatch(/task 1: done before/);
    // Preparing again continues the same plan: every task is done.
    const re = await runCliProcess(
      ["convert", ...four(), cloud.s3Url(name), "--concat", "time", "--prepare", "--json"],
      env(),
    );
    expect(re.code, re.stderr).toBe(0);
    expect(JSON.parse(re.stdout)).toMatchObject({ tasks: 4, done: 4 });
    const fin = await runCliProcess(["task", "--plan", plan.plan, "--finalize"], env());
    expect(fin.code, fin.stderr).toBe(0);
    expect(fin.stdout).toMatch(/sst\.zarr: finalized and its consolidated metadata written/);
    expectSameStore(name, local, "indexed");
    // A finalize delivered again once the store is complete (the queue records the digest): a
    // no-op; without that record, or for another store there, the plan's absence is an error.
    const exec = { workers: 0, useWorkers: false };
    const digest = await uploadIdentity(cloud.s3Url(name));
    expect(digest?.digest).toMatch(/^[0-9a-f]{64}$/);
    await expect(finalizeStaged(plan.plan, exec, digest!)).resolves.toMatchObject({
      already: true,
      output: cloud.s3Url(name),
    });
    await expect(finalizeStaged(plan.plan, exec, { digest: "0".repeat(64) })).rejects.toThrow(/no such plan/);
    await expect(finalizeStaged(plan.plan, exec)).rejects.toThrow(/no such plan/);
    expectSameStore(name, local, "indexed-again");
    const gone = await runCliProcess(["task", "--plan", plan.plan, "--index", "0"], env());
    expect(gone.code).toBe(3);
    expectOneLine(gone.stderr, /plan\.json: no such plan \(the run was finalized already/);
  });

  it("refusals in one line: a plan URL that is not a run's plan, inputs by URL", async () => {
    const bad = await runCliProcess(
      ["task", "--plan", cloud.s3Url("indexed/sst.zarr/zarr.json"), "--index", "0"],
      env(),
    );
    expect(bad.code).toBe(2);
    expectOneLine(
      bad.stderr,
      /zarr\.json: a plan in object storage is the output.s \.geozarr-run\/plan\.json/,
      "task",
    );
    const url = await runCliProcess(
      ["convert", cloud.httpUrl("in.nc"), cloud.s3Url("never/a.zarr"), "--prepare"],
      env(),
    );
    expect(url.code).toBe(3);
    expectOneLine(url.stderr, /in\.nc: the inputs of runs planned as tasks are files every worker reads/);
    expect(await keysUnder(cloud, "never")).toEqual([]);
  });
});
