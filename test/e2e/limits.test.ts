/**
 * What the page shows when the server will not draw a map (issue 10): in headless Chromium, a
 * store with a 1e15 x 1e15 array (the map refused up front, with the reason) and a store whose
 * overview build runs past its time limit (the page is told why, and the tree still works).
 */

import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkerPool } from "../../src/parallel/pool.js";
import { type RunningServer, startServer } from "../../src/server/app.js";
import { launch, openPage } from "../helpers/browser.js";
import { tmpDir } from "../helpers/tmp.js";
import { hugeStore, slowStore } from "../server/stores.js";

const dir = tmpDir("e2e-limits");
const pool = new WorkerPool(1);
let browser: Browser;
let huge: RunningServer;
let slow: RunningServer;
const log: string[] = [];

beforeAll(async () => {
  const quiet = { log: (l: string) => log.push(l) };
  huge = await startServer({ store: hugeStore(join(dir, "huge.zarr")), pool, port: 0, ...quiet });
  slow = await startServer({
    store: slowStore(join(dir, "slow.zarr")),
    pool,
    port: 0,
    cacheDir: join(dir, "cache"),
    overviewTimeoutMs: 50,
    ...quiet,
  });
  browser = await launch();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await huge?.close();
  await slow?.close();
  await pool.close();
});

const open = (url: string) => openPage(browser, url);

describe("the map when it cannot be drawn", () => {
  it("names the 1e15 x 1e15 array and why its map is unavailable; the tree still shows it", async () => {
    const { page, problems } = await open(huge.url);
    await page.locator('li[data-path="/big"]').waitFor();
    await page.locator('[role=tab][data-tab="map"]').click();
    const pane = page.locator("#pane-map");
    await pane.locator(".empty").waitFor();
    expect(await pane.innerText()).toContain("No array in this store can be drawn on a map.");
    expect(await pane.innerText()).toContain(
      "/big: too large for a display overview: 1000000000000000 x 1000000000000000 cells in a plane",
    );
    expect(problems).toEqual([]);
    await page.close();
  });

  it("says that the overview build was stopped at its time limit", async () => {
    const { page, problems } = await open(slow.url);
    await page.waitForFunction(
      () =>
        ((window as unknown as { __inspector?: { map?: { state: { errors: string[] } } } }).__inspector?.map
          ?.state.errors.length ?? 0) > 0,
      undefined,
      { timeout: 60_000 },
    );
    expect(await page.locator("#map-status").innerText()).toBe(
      "overview: /slow: the map overview was stopped after 0.05 s, the time limit of a build (overviewTimeout)",
    );
    // The browser's own note of the refused request, nothing else.
    expect(problems).toEqual([expect.stringMatching(/^console: Failed to load resource: .* 422/)]);
    await page.close();
  });
});
