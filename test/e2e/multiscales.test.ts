/**
 * A real client renders our pyramid (issue 6): the inspector's map draws a v3 multiscale store
 * with OpenLayers' `ol/source/GeoZarr` straight from the store the server exposes, in headless
 * Chromium. At the first (whole-globe) view it reads only coarse levels, at a deeper zoom finer
 * ones; both canvases carry the data, the right way up (MUR latitudes ascend: south-up storage).
 */

import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { convert } from "../../src/jobs/convert.js";
import { WorkerPool } from "../../src/parallel/pool.js";
import { type RunningServer, startServer } from "../../src/server/app.js";
import { launch, lumaAt, pixelStats } from "../helpers/browser.js";
import { tmpDir } from "../helpers/tmp.js";

const dir = tmpDir("e2e-ms");
const pool = new WorkerPool(2);
let browser: Browser;
let server: RunningServer;

interface Inspector {
  map: {
    state: { rendercomplete: number; errors: string[]; overview: { source: string } | null };
    olMap(): {
      getView(): { setCenter(c: number[]): void; setZoom(z: number): void; getZoom(): number };
      getPixelFromCoordinate(c: number[]): number[];
    };
  };
}

async function rendered(page: Page, after: number): Promise<number> {
  await page.waitForFunction(
    (n) => {
      const s = (window as unknown as { __inspector?: Inspector }).__inspector?.map?.state;
      return s && (s.rendercomplete > n || s.errors.length > 0);
    },
    after,
    { timeout: 60_000 },
  );
  const s = await page.evaluate(
    () => (window as unknown as { __inspector: Inspector }).__inspector.map.state,
  );
  expect(s.errors).toEqual([]);
  return s.rendercomplete;
}

beforeAll(async () => {
  const store = join(dir, "pyramid_v3.zarr");
  await convert("examples/data/mur_small.nc", store, {
    zarrFormat: 3,
    workers: 0,
    requireStandardName: true,
    multiscales: { tileSize: 256, workers: 0 },
  });
  server = await startServer({ store, pool, port: 0 });
  browser = await launch();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await pool.close();
});

describe("OpenLayers draws our v3 multiscale store", () => {
  it("at zoom 0 from coarse levels and deeper from finer ones, not blank and north up", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const chunks: string[] = [];
    page.on("request", (r) => {
      const m = /\/store\/(\d+)\/analysed_sst\/c\//.exec(r.url());
      if (m) chunks.push(m[1]!);
    });
    await page.goto(server.url);
    let n = await rendered(page, 0);
    const source = await page.evaluate(
      () => (window as unknown as { __inspector: Inspector }).__inspector.map.state.overview?.source,
    );
    expect(source).toBe("store");
    expect(await page.locator("#map-status").textContent()).toContain(
      "The store's own levels 1440×719, 720×360",
    );
    const whole = await pixelStats(page, page.locator("#map"));
    expect(whole.lumaVariance).toBeGreaterThan(300);
    // The whole globe needs no full-resolution chunk.
    expect(chunks.length).toBeGreaterThan(0);
    expect(chunks).not.toContain("0");

    // The map's luma at a longitude/latitude (viridis: cold is dark, warm is bright).
    const luma = async (lon: number, lat: number) => {
      const [x, y] = await page.evaluate(
        (c) =>
          (window as unknown as { __inspector: Inspector }).__inspector.map.olMap().getPixelFromCoordinate(c),
        [lon, lat],
      );
      const box = (await page.locator("#map").boundingBox())!;
      return lumaAt(page, box.x + x!, box.y + y!);
    };
    // Orientation: a point the data says is missing (land, drawn as the light background) and its
    // mirror across the equator, which holds data (cold water, dark in viridis). Drawn upside
    // down, the two would swap.
    const value = async (x: number, y: number) =>
      (await (
        await fetch(`${server.url.replace(/\/$/, "")}/api/value?path=/0/analysed_sst&x=${x}&y=${y}`)
      ).json()) as {
        value: number | null;
      };
    expect((await value(-140, 75)).value).toBeNull();
    expect((await value(-140, -75)).value).toBeCloseTo(271.35, 2);
    expect(await luma(-140, 75)).toBeGreaterThan(200);
    expect(await luma(-140, -75)).toBeLessThan(120);
    // And the tropics are warmer (brighter) than the polar water.
    expect(await luma(-150, 5)).toBeGreaterThan((await luma(-140, -75)) + 60);

    chunks.length = 0;
    await page.evaluate(() => {
      const view = (window as unknown as { __inspector: Inspector }).__inspector.map.olMap().getView();
      view.setCenter([-10, 40]);
      view.setZoom(view.getZoom() + 3);
    });
    n = await rendered(page, n);
    const deep = await pixelStats(page, page.locator("#map"));
    expect(deep.lumaVariance).toBeGreaterThan(100);
    expect(deep.distinctColors).toBeGreaterThan(50);
    // Finer levels were read for the deeper view.
    expect(chunks.some((c) => Number(c) <= 1)).toBe(true);
    await page.close();
  });
});
