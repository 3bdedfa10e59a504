/**
 * Real headless Chromium (Debian's, installed by .ci/run) driven by playwright-core, and pixel
 * statistics of screenshots, decoded in the page itself (no PNG library needed).
 */

import { existsSync } from "node:fs";
import { type Browser, chromium, type Locator, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  // Playwright adds --enable-unsafe-swiftshader: WebGL on the CPU, as there is no GPU here.
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
}

/** A new 1280 x 800 page at `url`, collecting page errors and console errors as they come. */
export async function openPage(browser: Browser, url: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  await page.goto(url);
  return { page, problems };
}

export interface PixelStats {
  width: number;
  height: number;
  lumaMean: number;
  lumaVariance: number;
  distinctColors: number;
}

/** The luma of the screen pixel at (x, y) of the page. */
export async function lumaAt(page: Page, x: number, y: number): Promise<number> {
  return (await pixelStats(page, { x: Math.floor(x), y: Math.floor(y), width: 1, height: 1 })).lumaMean;
}

/** Pixel statistics of an element's screenshot, or of a rectangle of the page. */
export async function pixelStats(
  page: Page,
  target: Locator | { x: number; y: number; width: number; height: number },
): Promise<PixelStats> {
  const png = "screenshot" in target ? await target.screenshot() : await page.screenshot({ clip: target });
  return page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement("canvas");
    c.width = img.width;
    c.height = img.height;
    const ctx = c.getContext("2d")!;
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let sum = 0;
    let sum2 = 0;
    const colors = new Set<number>();
    for (let i = 0; i < d.length; i += 4) {
      const y = 0.299 * d[i]! + 0.587 * d[i + 1]! + 0.114 * d[i + 2]!;
      sum += y;
      sum2 += y * y;
      colors.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
    }
    const n = d.length / 4;
    const mean = sum / n;
    return {
      width: c.width,
      height: c.height,
      lumaMean: mean,
      lumaVariance: sum2 / n - mean * mean,
      distinctColors: colors.size,
    };
  }, png.toString("base64"));
}
