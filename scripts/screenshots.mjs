#!/usr/bin/env node
// Screenshots of the inspector for README.md and docs/ (docs/images/*.png), in headless Chromium.
// Run after `npm run build`: node scripts/screenshots.mjs
//  - the demo store (the bundled sample converted to GeoZarr v3): map, metadata;
//  - the notebook's store (xarray + rioxarray on the same sample, bench/peers/peer_xarray_v2.py):
//    the validation panel with the findings geozarr reports for it.
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { convert, startServer, WorkerPool } from "../dist/node.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "docs", "images");
const work = join(root, "examples", "out", "screenshots");
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
mkdirSync(out, { recursive: true });

const sample = join(root, "examples", "data", "mur_small.nc");
const demo = join(work, "mur_small_v3.zarr");
await convert(sample, demo, { zarrFormat: 3, requireStandardName: true, workers: 0 });
const notebook = join(work, "mur_small_xarray_v2.zarr");
const py = spawnSync(
  "/usr/bin/python3",
  [join(root, "bench", "peers", "peer_xarray_v2.py"), sample, notebook],
  { stdio: "inherit" },
);
if (py.status !== 0) process.exit(1);

const pool = new WorkerPool(2);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});
const viewport = { width: 1360, height: 780 };

async function page(url) {
  const p = await browser.newPage({ viewport });
  await p.goto(url);
  return p;
}
const mapReady = (p) =>
  p.waitForFunction(
    () => window.__inspector?.map?.state.rendercomplete > 0 || window.__inspector?.map?.state.errors.length,
    null,
    { timeout: 60000 },
  );

const s1 = await startServer({ store: demo, pool, port: 0 });
let p = await page(s1.url);
await mapReady(p);
await p.locator('li[data-path="/analysed_sst"] .toggle').click();
const box = await p.locator("#map").boundingBox();
await p.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.55);
await p.waitForFunction(() => /kelvin/.test(document.querySelector("#cursor-value")?.textContent ?? ""));
await p.waitForTimeout(400);
await p.screenshot({ path: join(out, "inspector-map.png") });
await p.locator('li[data-path="/analysed_sst"] .label').click();
await p.locator("#node-json").waitFor();
await p.locator("#json-search").fill("standard_name");
await p.waitForTimeout(200);
await p.screenshot({ path: join(out, "inspector-metadata.png") });
await p.close();
await s1.close();

const s2 = await startServer({ store: notebook, pool, port: 0 });
p = await page(s2.url);
await p.locator('[role=tab][data-tab="validation"]').click();
await p.locator("#validation-summary").waitFor();
await p.waitForTimeout(200);
await p.screenshot({ path: join(out, "inspector-validation.png") });
await p.close();
await s2.close();

await browser.close();
await pool.close();
console.log(`screenshots in ${out}`);
