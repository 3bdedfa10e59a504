#!/usr/bin/env node
// A full-size store read over HTTP (nginx on loopback, as in the tests): how many requests and how
// long `geozarr info` takes on it, and the inspector's first view of it — the server's own requests
// from its start to the first map overview built, then the page timings of bench/serve/first-view.mjs
// (headless Chromium) on the same URL. Requests are counted from nginx's access log.
// Usage: node bench/cloud/http-view.mjs [--runs 3] [--store DIR] [--sample]
//   --store   a v3 store directory (default: the full-size one bench/serve/first-view.mjs uses)
//   --sample  the bundled sample converted to a temporary store instead (a smoke run; nothing saved)
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { DATA, median, ROOT, save } from "../lib.mjs";
import { startNginx } from "./servers.mjs";

const argv = process.argv;
const opt = (n, d) => (argv.includes(n) ? argv[argv.indexOf(n) + 1] : d);
const runs = Number(opt("--runs", 3));
const sample = argv.includes("--sample");
const geozarr = join(ROOT, "bin", "geozarr.js");
const tmp = mkdtempSync(join(tmpdir(), "gz-http-view-"));
let store = resolve(opt("--store", join(DATA, "out", "full-geozarr_v3_packed_default_.zarr")));
if (sample) {
  store = join(tmp, "sample.zarr");
  spawnSync(process.execPath, [geozarr, "convert", join(ROOT, "examples", "data", "mur_small.nc"), store]);
}
const nginx = await startNginx(join(tmp, "nginx"));
symlinkSync(store, join(nginx.info.root, "store.zarr"));
const url = `${nginx.info.base}store.zarr`;
const logged = () => readFileSync(join(tmp, "nginx", "access.log"), "utf8").split("\n").length - 1;

/** Run a command; its wall seconds and the requests nginx saw meanwhile. */
function measured(args) {
  const before = logged();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [geozarr, ...args], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`geozarr ${args.join(" ")}: ${r.stderr}`);
  return { seconds: (performance.now() - t0) / 1000, requests: logged() - before };
}

/** `geozarr serve URL` from its start until the first overview is built (the first view's own work). */
async function serveUntilBuilt() {
  const before = logged();
  const cache = mkdtempSync(join(tmp, "cache-"));
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [geozarr, "serve", url, "--port", "0", "--json", "--cache-dir", cache],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  await new Promise((ok, fail) => {
    createInterface({ input: child.stderr }).on("line", (l) => {
      if (/built in|reads the store's own multiscale levels/.test(l)) ok();
      if (/error/.test(l)) fail(new Error(l));
    });
  });
  const seconds = (performance.now() - t0) / 1000;
  const exited = new Promise((ok) => child.once("exit", ok));
  child.kill("SIGINT");
  await exited;
  return { seconds, requests: logged() - before };
}

const rows = { info: [], infoArray: [], serve: [] };
try {
  for (let i = 0; i <= runs; i++) {
    const a = measured(["info", url]);
    const b = measured(["info", url, "analysed_sst"]);
    const c = await serveUntilBuilt();
    console.error(
      `run ${i}${i ? "" : " (warm-up)"}: info ${a.seconds.toFixed(2)} s / ${a.requests} requests, info analysed_sst ${b.seconds.toFixed(2)} s / ${b.requests}, serve to first overview ${c.seconds.toFixed(2)} s / ${c.requests}`,
    );
    if (i === 0) continue;
    rows.info.push(a);
    rows.infoArray.push(b);
    rows.serve.push(c);
  }
  // The page's timings, on the same URL (its own warm-up and runs).
  const before = logged();
  const page = spawnSync(
    process.execPath,
    [join(ROOT, "bench", "serve", "first-view.mjs"), "--store", url, "--runs", String(runs), "--no-save"],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
  );
  if (page.status !== 0) throw new Error("bench/serve/first-view.mjs failed");
  const pageResult = JSON.parse(page.stdout.trim().split("\n").pop());
  const m = (xs, k) => median(xs.map((x) => x[k]));
  const result = {
    store,
    runs,
    info: { seconds: m(rows.info, "seconds"), requests: m(rows.info, "requests") },
    infoArray: { seconds: m(rows.infoArray, "seconds"), requests: m(rows.infoArray, "requests") },
    serveToFirstOverview: { seconds: m(rows.serve, "seconds"), requests: m(rows.serve, "requests") },
    page: { medianSeconds: pageResult, requestsAllRuns: logged() - before },
    samples: rows,
    reproduce:
      "npm run build && node bench/serve/first-view.mjs --runs 1 && node bench/cloud/http-view.mjs --runs 3",
  };
  if (!sample) save("cloud-http-view", result);
  console.log(
    JSON.stringify({
      info: result.info,
      infoArray: result.infoArray,
      serve: result.serveToFirstOverview,
      page: result.page,
    }),
  );
} finally {
  await nginx.stop();
  rmSync(tmp, { recursive: true, force: true });
}
