import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { ProfileBuilder, encodeProfile } from '../../src/profile/builder.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';
import { CHROMIUM_CANDIDATES, requireTool } from '../helpers/tools.js';
import { launchChromium } from '../../support/browser.js';

/** `tailprobe pprof flame`: one self-contained page, drawn by a real browser with no network. */
describe('flame graph page', () => {
  const dir = tempDir('tailprobe-flame-');
  after(() => rmSync(dir, { recursive: true, force: true }));

  function profileFile(): string {
    const b = new ProfileBuilder({ sampleTypes: [['samples', 'count'], ['cpu', 'nanoseconds']], periodType: ['cpu', 'nanoseconds'], period: 1e6, durationNanos: 2e9 });
    const loc = (name: string) => b.location({ name, file: '/srv/app.js', line: 1 });
    const stack = (...names: string[]) => names.reverse().map(loc);
    b.sample(stack('main', 'handleRequest', 'spinHotLoop'), [700, 700e6]);
    b.sample(stack('main', 'handleRequest', 'renderJson'), [200, 200e6]);
    b.sample(stack('(garbage collector)'), [100, 100e6]);
    // A name with markup in it must stay text.
    b.sample(stack('main', '<script>alert(1)</script>'), [5, 5e6]);
    const file = join(dir, 'cpu.pb.gz');
    writeFileSync(file, encodeProfile(b.build()));
    return file;
  }

  it('writes a page with the data inline and no external references', async () => {
    const out = join(dir, 'flame.html');
    const r = await runCli(['pprof', 'flame', profileFile(), '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    const html = readFileSync(out, 'utf8');
    assert.match(html, /^<!doctype html>/);
    assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=|https?:\/\//i);
    assert.match(html, /spinHotLoop/);
    assert.match(html, /GC: 10\.0% of CPU/);
    assert.doesNotMatch(html, /<script>alert\(1\)<\/script>/, 'names are escaped in the script data');
  });

  it('draws in Chromium: frames sized by value, zoom on click, search', async (t) => {
    const chromium = requireTool(t, 'chromium', CHROMIUM_CANDIDATES);
    if (!chromium) return;
    const out = join(dir, 'flame2.html');
    const r = await runCli(['pprof', 'flame', profileFile(), '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    const browser = await launchChromium(chromium);
    try {
      const page = await browser.newPage({ viewport: { width: 1000, height: 600 } });
      const requests: string[] = [];
      const problems: string[] = [];
      page.on('request', (q) => requests.push(q.url()));
      page.on('pageerror', (e) => problems.push(e.message));
      page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
      await page.goto(pathToFileURL(out).href, { waitUntil: 'load' });
      assert.deepEqual(problems, []);
      assert.deepEqual(requests, [pathToFileURL(out).href], 'no network');
      const frames = await page.$$eval('.f', (els) => els.map((e) => ({ text: e.textContent, width: (e as unknown as { getBoundingClientRect(): { width: number } }).getBoundingClientRect().width })));
      const width = (name: string) => frames.find((f) => f.text === name)?.width ?? 0;
      assert.ok(width('all') > 900);
      assert.ok(Math.abs(width('spinHotLoop') / width('all') - 0.7 / 1.005) < 0.02, `spinHotLoop width ${width('spinHotLoop')}`);
      assert.ok(width('handleRequest') > width('spinHotLoop'));
      // Zoom into handleRequest: it becomes full width.
      await page.click('.f:text-is("handleRequest")');
      const zoomed = await page.$$eval('.f', (els) => els.map((e) => ({ text: e.textContent, width: (e as unknown as { getBoundingClientRect(): { width: number } }).getBoundingClientRect().width })));
      assert.ok((zoomed.find((f) => f.text === 'handleRequest')?.width ?? 0) > 900);
      assert.match((await page.textContent('#crumbs')) ?? '', /zoomed: all > main > handleRequest/);
      await page.fill('#search', 'spin');
      assert.match((await page.textContent('#match')) ?? '', /^1 frames match$/);
    } finally {
      await browser.close();
    }
  });
});
