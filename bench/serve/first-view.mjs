#!/usr/bin/env node
// The inspector's first view of the full-size MUR-like store (17999 x 36000, the v3 store
// `geozarr convert` writes by default), in headless Chromium:
//  - overview build: the one-time reduction of analysed_sst to its display overview (cold cache);
//  - first view, overview cached: page load until the map has rendered (OpenLayers rendercomplete);
//  - first view, fresh server + empty cache: what a first-ever visit costs (build included);
//  - zoom: one zoom step in (x2) until rendered again, a proxy for pan/zoom smoothness.
// With --store pointing at a store with multiscale levels (geozarr convert --multiscales), the map
// reads the store's own levels and there is no overview to build (build time 0).
// Medians of RUNS runs after one warm-up. Usage: node bench/serve/first-view.mjs [--runs 5] [--store S]
//   [--name serve-first-view] (the results file)
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";
import { DATA, ensure, median, ROOT, save } from "../lib.mjs";

const argv = process.argv;
const opt = (n, d) => (argv.includes(n) ? argv[argv.indexOf(n) + 1] : d);
const runs = Number(opt("--runs", 5));
const geozarr = join(ROOT, "bin", "geozarr.js");
const store = opt("--store", join(DATA, "out", "full-geozarr_v3_packed_default_.zarr"));
// A store URL (s3://, http(s)://: bench/cloud/http-view.mjs) is served where it is.
if (!/^(s3|https?):\/\//.test(store) && !existsSync(store)) {
  const nc = ensure(join(DATA, "mur_full.nc"), process.execPath, [
    join(ROOT, "bench", "prepare.mjs"),
    "--full",
  ]);
  ensure(store, process.execPath, [
    geozarr,
    "convert",
    nc,
    store,
    "--variables",
    "analysed_sst,sea_ice_fraction",
  ]);
}

/** Start `geozarr serve`; resolves with its URL and a promise of the overview build seconds. */
function serve(cacheDir) {
  const child = spawn(
    process.execPath,
    [geozarr, "serve", store, "--port", "0", "--json", "--cache-dir", cacheDir],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const built = new Promise((ok) => {
    createInterface({ input: child.stderr }).on("line", (l) => {
      const m = /built in ([\d.]+) s|loaded from the cache|reads the store's own multiscale levels/.exec(l);
      if (m) ok(m[1] ? Number(m[1]) : 0);
    });
  });
  const url = new Promise((ok) =>
    createInterface({ input: child.stdout }).once("line", (l) => ok(JSON.parse(l).url)),
  );
  return {
    child,
    url,
    built,
    stop: () => {
      const exited = new Promise((ok) => child.once("exit", ok));
      child.kill("SIGINT");
      return exited;
    },
  };
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});

async function firstView(url) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const t0 = performance.now();
  await page.goto(url);
  await page.waitForFunction(
    () => window.__inspector?.map?.state.rendercomplete > 0 || window.__inspector?.map?.state.errors.length,
    null,
    { timeout: 120000 },
  );
  const ms = performance.now() - t0;
  const errors = await page.evaluate(() => window.__inspector.map.state.errors);
  if (errors.length) throw new Error(errors.join("; "));
  // One zoom step in, timed until rendered again.
  const zoomMs = await page.evaluate(async () => {
    const s = window.__inspector.map.state;
    const view = window.__inspector.map.olMap().getView();
    const n = s.rendercomplete;
    const t = performance.now();
    view.setZoom(view.getZoom() + 1);
    while (s.rendercomplete === n) await new Promise((r) => setTimeout(r, 5));
    return performance.now() - t;
  });
  await page.close();
  return { ms, zoomMs };
}

const rows = { build: [], cachedView: [], coldView: [], zoom: [] };
for (let i = 0; i <= runs; i++) {
  // Cold: empty cache, page opened as soon as the server listens.
  const cache = mkdtempSync(join(tmpdir(), "gz-cache-"));
  let s = serve(cache);
  const cold = await firstView(await s.url);
  const build = await s.built;
  await s.stop();
  // Cached: a new server on the same cache, page opened once the overview is loaded.
  s = serve(cache);
  const url = await s.url;
  await s.built;
  const warm = await firstView(url);
  await s.stop();
  rmSync(cache, { recursive: true, force: true });
  if (i === 0) continue; // warm-up
  rows.build.push(build);
  rows.coldView.push(cold.ms / 1000);
  rows.cachedView.push(warm.ms / 1000);
  rows.zoom.push(warm.zoomMs / 1000);
  console.error(
    `run ${i}: build ${build.toFixed(2)} s, first view cold ${(cold.ms / 1000).toFixed(2)} s, cached ${(warm.ms / 1000).toFixed(2)} s, zoom ${(warm.zoomMs / 1000).toFixed(2)} s`,
  );
}
await browser.close();
const result = {
  store,
  runs,
  medianSeconds: {
    overviewBuild: median(rows.build),
    firstViewCached: median(rows.cachedView),
    firstViewColdCache: median(rows.coldView),
    zoomStep: median(rows.zoom),
  },
  samples: rows,
  reproduce: "npm run build && node bench/prepare.mjs --full && node bench/serve/first-view.mjs --runs 5",
};
if (!argv.includes("--no-save")) save(opt("--name", "serve-first-view"), result);
console.log(JSON.stringify(result.medianSeconds));
