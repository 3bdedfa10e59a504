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

export interface PixelStats {
  width: number;
  height: number;
  lumaMean: number;
  lumaVariance: number;
  distinctColors: number;
}

/** The luma of the screen pixel at (x, y) of the page. */
export async function lumaAt(page: Page, x: number, y: number): Promise<number> {
  const png = await page.screenshot({ clip: { x: x - 2, y: y - 2, width: 4, height: 4 } });
  return page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement("canvas");
    c.width = img.width;
    c.height = img.height;
    const ctx = c.getContext("2d")!;
    ctx.drawImage(img, 0, 0);
    const [r, g, b] = ctx.getImageData(2, 2, 1, 1).data;
    return 0.299 * r! + 0.587 * g! + 0.114 * b!;
  }, png.toString("base64"));
}

export async function pixelStats(page: Page, target: Locator): Promise<PixelStats> {
  const png = await target.screenshot();
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
