// Debian's chromium driven by playwright-core (which downloads no browser): the web page as a
// person sees it. A missing browser is a failure that names the package, never a skip.
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.AMPIO_TEST_CHROMIUM ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's "chromium" package (.ci/run does)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export const PHONE = { width: 360, height: 740 };
export const DESKTOP = { width: 1280, height: 900 };

/**
 * How much of a PNG is not its background: the share of sampled pixels that differ from the
 * most common colour, and the number of distinct colours (decoded by the browser itself, on
 * a blank page: no image library needed).
 */
export async function inkOf(page: Page, png: Buffer): Promise<{ ink: number; colours: number; width: number; height: number }> {
  await page.goto('about:blank');
  // Runs in the browser (as text: this project compiles without the DOM's types).
  return page.evaluate(`(async () => {
    const img = new Image();
    img.src = 'data:image/png;base64,${png.toString('base64')}';
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.width;
    canvas.height = img.height;
    const ctx = canvas.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const data = ctx.getImageData(0, 0, img.width, img.height).data;
    const counts = new Map();
    let samples = 0;
    for (let i = 0; i < data.length; i += 4 * 7) {
      const key = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
      counts.set(key, (counts.get(key) || 0) + 1);
      samples++;
    }
    const top = Math.max(...counts.values());
    return { ink: 1 - top / samples, colours: counts.size, width: img.width, height: img.height };
  })()`);
}
