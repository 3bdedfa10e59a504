#!/usr/bin/env node
// Queue benchmark (issue 16): the same time series converted
//   - by one process with two worker threads: geozarr convert 'granules/*.nc' OUT --concat time --workers 2
//   - by two `geozarr worker --workers 1` processes through BullMQ on a loopback redis-server, submitted
//     with geozarr convert ... --queue (the submit's wall time, planning included, as the user waits)
// on the same 2 cores, alternating, a warm-up round and RUNS timed rounds; medians and the ratio per
// round (target: queue at most 1.1x). Both stores are compared file by file. Then the queue's own
// cost per task: a flow of no-op jobs through the same two worker connections (BullMQ alone), and
// the time between tasks in the geozarr workers' logs.
// Usage: node bench/queue/run.mjs [--granules 16] [--step 0.05] [--runs 3]
import { spawn, spawnSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { DATA, granules, median, ROOT, save, timed } from "../lib.mjs";

const argv = process.argv;
const opt = (n, d) => (argv.includes(n) ? argv[argv.indexOf(n) + 1] : d);
const n = Number(opt("--granules", 16));
const step = opt("--step", "0.05");
const runs = Number(opt("--runs", 3));
const { dir } = granules(n, step);
const OUT = join(DATA, "out", "queue");
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const geozarr = join(ROOT, "bin", "geozarr.js");
const enc = ["--zarr-format", "2", "--unpack", "float64", "--variables", "analysed_sst,sea_ice_fraction"];
const env = { SOURCE_DATE_EPOCH: "1796169600" };

const port = await new Promise((ok) => {
  const s = createServer().listen(0, "127.0.0.1", () => {
    const p = s.address().port;
    s.close(() => ok(p));
  });
});
const redis = spawn(
  "redis-server",
  ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
  {
    stdio: "ignore",
  },
);
const url = `redis://127.0.0.1:${port}`;
await new Promise((r) => setTimeout(r, 500));
// Long-lived workers, as in a deployment: their start-up is not part of a run.
// Their --json logs go to files: the rounds below run synchronously (spawnSync), so this process's
// event loop would not read pipes until the end, and the logs would be empty when they are used.
const logFiles = [0, 1].map((i) => join(OUT, `worker-${i}.log`));
const workers = logFiles.map((file) => {
  const fd = openSync(file, "w");
  const w = spawn(process.execPath, [geozarr, "worker", url, "--workers", "1", "--json"], {
    stdio: ["ignore", fd, "inherit"],
    env: { ...process.env, ...env },
  });
  closeSync(fd);
  return w;
});
await new Promise((r) => setTimeout(r, 2000));

const sides = [
  {
    name: "geozarr, 1 process x 2 threads",
    args: (o) => ["convert", join(dir, "*.nc"), o, "--concat", "time", ...enc, "--workers", "2"],
  },
  {
    name: "geozarr, 2 worker processes x 1 thread (BullMQ)",
    args: (o) => ["convert", join(dir, "*.nc"), o, "--concat", "time", ...enc, "--queue", url],
  },
];
const rows = sides.map(() => []);
for (let i = 0; i <= runs; i++) {
  for (const [k, s] of sides.entries()) {
    const out = join(OUT, `${k ? "queue" : "local"}-${i}`, "sst.zarr");
    mkdirSync(join(out, ".."), { recursive: true });
    const t = timed(process.execPath, [geozarr, ...s.args(out)], { env });
    console.error(`${s.name} run ${i}${i ? "" : " (warm-up)"}: ${t.wall}s`);
    if (i > 0) rows[k].push(t);
  }
  const same = spawnSync("diff", ["-rq", join(OUT, `local-${i}`), join(OUT, `queue-${i}`)], {
    encoding: "utf8",
  });
  if (same.status !== 0) {
    for (const w of workers) w.kill("SIGTERM");
    redis.kill("SIGTERM");
    throw new Error(`round ${i}: the stores differ:\n${same.stdout}`);
  }
  if (i > 0) rmSync(join(OUT, `local-${i - 1}`), { recursive: true, force: true });
}

// The gaps between one task's end and the next one's start on the same worker: the queue's and
// geozarr's cost per task in a real run (plan read, record checks, the Redis round trips).
const gaps = [];
for (const log of logFiles.map((f) => readFileSync(f, "utf8"))) {
  let lastDone = null;
  for (const line of log.trim().split("\n")) {
    const e = JSON.parse(line);
    if (e.event === "done") lastDone = e;
    if (e.event === "start" && lastDone) gaps.push(Date.parse(e.time) - Date.parse(lastDone.time));
  }
}

// BullMQ alone: a flow of no-op jobs through two workers on this Redis.
const noop = spawnSync(
  process.execPath,
  [
    "--input-type=module",
    "-e",
    `import { FlowProducer, Worker, QueueEvents } from "bullmq";
const connection = { url: ${JSON.stringify(url)}, maxRetriesPerRequest: null };
const N = 1000;
const ws = [0, 1].map(() => new Worker("noop", async () => 0, { connection }));
const flow = new FlowProducer({ connection });
const ev = new QueueEvents("noop", { connection });
await ev.waitUntilReady();
const t0 = performance.now();
const node = await flow.add({ name: "fin", queueName: "noop", children: Array.from({ length: N }, (_, i) => ({ name: "t", queueName: "noop", data: { i } })) });
await node.job.waitUntilFinished(ev);
const ms = performance.now() - t0;
console.log(JSON.stringify({ jobs: N, ms, perJobMs: ms / N }));
await Promise.all([...ws.map((w) => w.close()), flow.close(), ev.close()]);`,
  ],
  { cwd: ROOT, encoding: "utf8" },
);
for (const w of workers) w.kill("SIGTERM");
redis.kill("SIGTERM");
if (noop.status !== 0) throw new Error(noop.stderr);
const bull = JSON.parse(noop.stdout.trim().split("\n").pop());

const local = median(rows[0].map((r) => r.wall));
const queued = median(rows[1].map((r) => r.wall));
const perRound = rows[1].map((t, i) => t.wall / rows[0][i].wall);
const gapMs = gaps.length ? median(gaps) : null;
const result = {
  granules: n,
  step,
  runs,
  local: { name: sides[0].name, wall: local, cpu: median(rows[0].map((r) => r.user + r.sys)) },
  queue: { name: sides[1].name, wall: queued, submitCpu: median(rows[1].map((r) => r.user + r.sys)) },
  ratio: queued / local,
  perRound,
  taskGapMs: gapMs,
  bullmqNoop: bull,
  sameStores: true,
};
console.log(
  `${n} granules (step ${step}): 1 process x 2 threads ${local.toFixed(1)} s; 2 workers x 1 thread via BullMQ ${queued.toFixed(1)} s = ${result.ratio.toFixed(2)}x (per round ${perRound.map((x) => x.toFixed(2)).join(" ")}); stores identical`,
);
console.log(
  `per task: ${gapMs === null ? "-" : `${gapMs} ms`} between a worker's tasks (median); BullMQ alone ${bull.perJobMs.toFixed(2)} ms per no-op job (${bull.jobs} jobs, 2 workers)`,
);
save("queue", result);
