/**
 * The inspector end to end, in real headless Chromium: the page the server builds and serves, its
 * tree, metadata browser, validation panel and map (OpenLayers' GeoZarr source reading the
 * server's overview store, WebGL on SwiftShader).
 */

import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { convert } from "../../src/jobs/convert.js";
import { WorkerPool } from "../../src/parallel/pool.js";
import { type RunningServer, startServer } from "../../src/server/app.js";
import { launch, openPage, pixelStats } from "../helpers/browser.js";
import { edit, sampleStore, saveStore } from "../helpers/stores.js";
import { tmpDir } from "../helpers/tmp.js";

const dir = tmpDir("e2e");
const pool = new WorkerPool(2);
let browser: Browser;
let demo: RunningServer;
let broken: RunningServer;

interface MapState {
  ready: boolean;
  rendercomplete: number;
  errors: string[];
}

async function waitForMap(page: Page, after = 0): Promise<MapState> {
  await page.waitForFunction(
    (n) => {
      const s = (window as unknown as { __inspector?: { map?: { state: MapState } } }).__inspector?.map
        ?.state;
      return s && (s.rendercomplete > n || s.errors.length > 0);
    },
    after,
    { timeout: 60_000 },
  );
  return page.evaluate(
    () => (window as unknown as { __inspector: { map: { state: MapState } } }).__inspector.map.state,
  );
}

beforeAll(async () => {
  const store = join(dir, "demo_v3.zarr");
  await convert("examples/data/mur_small.nc", store, {
    zarrFormat: 3,
    workers: 0,
    requireStandardName: true,
  });
  demo = await startServer({ store, pool, port: 0, cacheDir: join(dir, "cache") });
  // A store with one known error: units that UDUNITS does not parse (CF-03), at /attributes/units.
  const bad = await sampleStore({ zarrFormat: 3 });
  edit(bad, "/analysed_sst/zarr.json", (doc) => {
    (doc.attributes as Record<string, unknown>).units = "degrees Kelvinish";
  });
  broken = await startServer({ store: saveStore(bad, join(dir, "broken_v3.zarr")), pool, port: 0 });
  browser = await launch();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await demo?.close();
  await broken?.close();
  await pool.close();
});

const open = (url: string) => openPage(browser, url);

describe("inspector", () => {
  it("expands the tree, opens a node's metadata and searches it", async () => {
    const { page, problems } = await open(demo.url);
    const item = page.locator('li[data-path="/analysed_sst"]');
    await item.waitFor();
    expect(await item.getAttribute("aria-expanded")).toBe("false");
    await item.locator(".toggle").click();
    expect(await item.getAttribute("aria-expanded")).toBe("true");
    const facts = await item.locator("dl.facts").innerText();
    expect(facts).toContain("[1, 719, 1440]");
    expect(facts).toMatch(/zstd/);
    expect(facts).toContain("-32768");

    await item.locator(".label").click();
    await page.locator("#node-path").waitFor();
    expect(await page.locator("#node-path").innerText()).toBe("/analysed_sst");
    const json = await page.locator("#node-json").innerText();
    expect(json).toContain('"standard_name": "sea_surface_foundation_temperature"');
    expect(json).toContain('"grid_mapping": "spatial_ref"');
    await page.locator("#json-search").fill("kelvin");
    expect(await page.locator("#search-count").innerText()).toBe("1 match");
    expect(await page.locator("#node-json .match").innerText()).toBe('"kelvin"');
    expect(problems).toEqual([]);
    await page.close();
  });

  it("shows the validation panel, each finding linked to its node and field", async () => {
    const { page, problems } = await open(broken.url);
    await page.locator('[role=tab][data-tab="validation"]').click();
    await page.locator("#validation-summary").waitFor();
    expect(await page.locator("#validation-summary").innerText()).toMatch(/^1 error/);
    const finding = page.locator('.finding[data-rule="CF-03"]');
    expect(await finding.innerText()).toContain("degrees Kelvinish");
    await finding.locator("a.message").click();
    await page.locator("#node-path").waitFor();
    expect(await page.locator("#node-path").innerText()).toBe("/analysed_sst");
    // The field the finding points at is revealed and highlighted.
    await page.locator("#node-json .hl").waitFor();
    expect(await page.locator("#node-json .hl").innerText()).toContain('"units": "degrees Kelvinish"');
    expect(await page.locator('li[data-path="/analysed_sst"] .dot.error').count()).toBe(1);
    expect(await page.locator("#findings-badge").innerText()).toMatch(/^1 error, \d+ warnings?$/);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("draws the data on the map with a legend in the variable's units and reads values", async () => {
    const { page, problems } = await open(demo.url);
    const state = await waitForMap(page);
    expect(state.errors).toEqual([]);
    await page.waitForTimeout(300); // the 250 ms tile fade-in, so the screenshot shows the data
    const stats = await pixelStats(page, page.locator("#map"));
    expect(stats.lumaVariance).toBeGreaterThan(300);
    expect(stats.distinctColors).toBeGreaterThan(200);
    const legend = await page.locator("#legend").innerText();
    expect(legend).toContain("analysed sea surface temperature");
    expect(legend).toContain("(kelvin)");
    // 2-98 % stretch of the data: numbers in kelvin.
    const [lo, hi] = await Promise.all([
      page.locator("#stretch-min").inputValue(),
      page.locator("#stretch-max").inputValue(),
    ]);
    expect(Number(lo)).toBeGreaterThan(270);
    expect(Number(hi)).toBeLessThan(310);
    expect(Number(hi)).toBeGreaterThan(Number(lo));

    // The value under the cursor, read from the store at full resolution.
    const box = (await page.locator("#map").boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForFunction(
      () => /kelvin|missing/.test(document.querySelector("#cursor-value")?.textContent ?? ""),
      null,
      {
        timeout: 30_000,
      },
    );
    expect(await page.locator("#cursor-value").innerText()).toMatch(
      /\(row \d+, col \d+\): analysed_sst = (2[789]\d|30\d)\.\d+ kelvin|missing/,
    );

    // Changing the stretch restyles without reloading: the legend follows.
    await page.locator("#stretch-min").fill("280");
    await page.locator("#stretch-min").dispatchEvent("change");
    expect(await page.locator("#legend .legend-ticks").innerText()).toMatch(/^280\b/);

    // Web Mercator view: OpenLayers reprojects the tiles; still not blank.
    const before = (await waitForMap(page)).rendercomplete;
    await page.locator("#view-projection").selectOption("EPSG:3857");
    const after = await waitForMap(page, before);
    expect(after.errors).toEqual([]);
    await page.waitForTimeout(300);
    expect((await pixelStats(page, page.locator("#map"))).lumaVariance).toBeGreaterThan(300);
    expect(problems).toEqual([]);
    await page.close();
  });
});
