import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Headless Chromium as the brief asks (Debian's chromium, no sandbox, no background traffic). */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

export async function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({ executablePath, args: CHROMIUM_FLAGS, headless: true });
}

export interface OpenedReport {
  page: Page;
  /** console.error/warning messages and uncaught page errors. */
  problems: string[];
  /** Every URL the page asked for (the report itself is the only file:// one allowed). */
  requests: string[];
  /** ms from navigation start to the page script's "drawn" mark. */
  drawnMs: number;
}

/** Opens a report file and waits until its charts are drawn (or the page failed). */
export async function openReport(browser: Browser, file: string, viewport = { width: 1280, height: 900 }): Promise<OpenedReport> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: 120_000 });
  await page.waitForFunction(
    () => {
      const w = globalThis as unknown as { __tailprobe?: { drawnAt: number; error: string | null } };
      return !!w.__tailprobe && (w.__tailprobe.drawnAt > 0 || w.__tailprobe.error !== null);
    },
    undefined,
    { timeout: 120_000 },
  );
  const drawnMs = await page.evaluate(() => (globalThis as unknown as { __tailprobe: { drawnAt: number } }).__tailprobe.drawnAt);
  return { page, problems, requests, drawnMs };
}

export interface ChartInk {
  id: string;
  kind: string;
  /** Pixels inside the plot area drawn in a saturated colour (data marks, not grid or axes). */
  ink: number;
  width: number;
  height: number;
}

/** Counts coloured pixels inside each chart's plot area, read back from its canvas. */
export async function chartInk(page: Page): Promise<ChartInk[]> {
  return page.evaluate(() => {
    const tp = (globalThis as unknown as { __tailprobe: { charts: { id: string; kind: string; u: any }[] } }).__tailprobe;
    return tp.charts.map(({ id, kind, u }) => {
      const { left, top, width, height } = u.bbox;
      const w = Math.max(1, Math.round(width));
      const h = Math.max(1, Math.round(height));
      // Read a copy, so the page's own canvas is not flagged for repeated readbacks.
      const copy = (globalThis as any).document.createElement('canvas');
      copy.width = w;
      copy.height = h;
      const ctx = copy.getContext('2d', { willReadFrequently: true });
      ctx.drawImage(u.ctx.canvas, Math.round(left), Math.round(top), w, h, 0, 0, w, h);
      const data = ctx.getImageData(0, 0, w, h).data;
      let ink = 0;
      for (let i = 0; i < data.length; i += 4) {
        const r = data[i]!, g = data[i + 1]!, b = data[i + 2]!, a = data[i + 3]!;
        if (a > 40 && Math.max(r, g, b) - Math.min(r, g, b) > 50) ink++;
      }
      return { id, kind, ink, width: Math.round(width), height: Math.round(height) };
    });
  });
}
