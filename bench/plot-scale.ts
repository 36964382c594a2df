#!/usr/bin/env node
/**
 * How `tailprobe plot` scales: for results files of 1M and 5M requests (tailprobe binary, with agent
 * events), the CLI's wall time and peak RSS next to `tailprobe report` on the same file (the cost of
 * just reading it), the size of the HTML, and in headless Chromium the time from navigation to all
 * charts drawn, plus a zoom redraw of the latency chart (zoom in, zoom out: the mean of the two).
 *
 *   node dist/bench/plot-scale.js [-sizes=1000000,5000000] [-reps=3] [-keep]
 *
 * Writes bench/results/plot-scale.json. Machines are shared and noisy: figures are min/median/max
 * over repetitions, and nothing here is a pass/fail gate.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, makeTempDir as tempDir } from '../support/paths.js';
import { CHROMIUM_CANDIDATES, findTool } from '../support/tools.js';
import { launchChromium, openReport } from '../support/browser.js';
import { writeSyntheticFile } from '../support/synthetic-run.js';

interface Run {
  ms: number;
  /** User + system CPU of the process: far less sensitive than wall time to a busy machine. */
  cpuMs: number;
  maxRssMB: number;
}

function arg(name: string, dflt: string): string {
  const a = process.argv.slice(2).find((x) => x.replace(/^--?/, '').startsWith(`${name}=`));
  return a ? a.slice(a.indexOf('=') + 1) : dflt;
}
const flag = (name: string) => process.argv.slice(2).some((x) => x.replace(/^--?/, '') === name);

/**
 * A private copy of the compiled CLI. Several engineers rebuild dist/ while working; a benchmark
 * that imports it mid-rebuild fails or measures a half-written tree. The copy is checked by
 * running `plot --help` from it, and retaken until that works.
 */
function snapshotCli(dir: string): string {
  for (let attempt = 0; attempt < 10; attempt++) {
    const root = join(dir, `cli-${attempt}`);
    mkdirSync(join(root, 'dist'), { recursive: true });
    cpSync(join(REPO_ROOT, 'dist', 'src'), join(root, 'dist', 'src'), { recursive: true });
    cpSync(join(REPO_ROOT, 'package.json'), join(root, 'package.json'));
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'));
    const main = join(root, 'dist', 'src', 'cli', 'main.js');
    const check = spawnSync(process.execPath, ['--input-type=module', '-e', `const { main } = await import(${JSON.stringify(`file://${main}`)}); process.exitCode = await main(['plot', '--help']);`], { stdio: 'ignore' });
    if (check.status === 0) return main;
    spawnSync('sleep', ['2']);
  }
  throw new Error('could not take a working copy of dist/ (is a build running?)');
}

let CLI_MAIN = '';

/** Runs the CLI in a child, reporting its wall time and peak RSS (from the child itself). */
function timeCli(args: string[]): Promise<Run> {
  const code = `
    const { main } = await import(${JSON.stringify(`file://${CLI_MAIN}`)});
    const t = performance.now();
    const rc = await main(${JSON.stringify(args)}, { stdin: process.stdin, stdout: { write() { return true; }, on() {} }, stderr: process.stderr, env: process.env });
    const ms = performance.now() - t;
    const cpu = process.cpuUsage();
    process.stderr.write('\\nBENCH ' + JSON.stringify({ rc, ms, cpuMs: (cpu.user + cpu.system) / 1000, maxRss: process.resourceUsage().maxRSS }) + '\\n');`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', () => {
      const m = /BENCH (.*)/.exec(err);
      if (!m) return reject(new Error(`tailprobe ${args.join(' ')} failed: ${err}`));
      const r = JSON.parse(m[1]!) as { rc: number; ms: number; cpuMs: number; maxRss: number };
      if (r.rc !== 0) return reject(new Error(`tailprobe ${args.join(' ')} exited ${r.rc}: ${err}`));
      resolve({ ms: r.ms, cpuMs: r.cpuMs, maxRssMB: r.maxRss / 1024 });
    });
  });
}

function stats(xs: number[]): { min: number; median: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! };
}

const fmt = (x: number, d = 0) => x.toFixed(d);
const fmtStats = (s: { min: number; median: number; max: number }, d = 0) => `${fmt(s.median, d)} (${fmt(s.min, d)}–${fmt(s.max, d)})`;

async function main(): Promise<void> {
  const sizes = arg('sizes', '1000000,5000000').split(',').map(Number);
  const reps = Math.max(1, Number(arg('reps', '3')));
  const dir = tempDir('tailprobe-plot-bench-');
  const chromium = findTool('chromium', CHROMIUM_CANDIDATES);
  CLI_MAIN = snapshotCli(dir);
  const out: Record<string, unknown>[] = [];
  try {
    for (const n of sizes) {
      const bin = join(dir, `results-${n}.bin`);
      const html = join(dir, `plot-${n}.html`);
      process.stderr.write(`plot-scale: writing ${n} results...\n`);
      // 2000 req/s: 1M is an 8-minute run, 5M a 42-minute one, with a GC pause every 5 s.
      await writeSyntheticFile(bin, { count: n, rate: 2000, name: `bench-${n}`, seed: 1 });
      const fileMB = statSync(bin).size / 1e6;
      const plot: Run[] = [];
      const report: Run[] = [];
      for (let i = 0; i < reps; i++) {
        process.stderr.write(`plot-scale: ${n} results, repetition ${i + 1}/${reps}\n`);
        report.push(await timeCli(['report', bin]));
        plot.push(await timeCli(['plot', bin, '-o', html]));
      }
      const htmlMB = statSync(html).size / 1e6;
      const page: { drawnMs: number; zoomMs: number }[] = [];
      if (chromium) {
        const browser = await launchChromium(chromium);
        try {
          for (let i = 0; i < reps; i++) {
            const r = await openReport(browser, html);
            if (r.problems.length) throw new Error(`page problems: ${r.problems.join('; ')}`);
            const zoomMs = await r.page.evaluate(() => {
              const u = (globalThis as any).__tailprobe.charts.find((c: any) => c.kind === 'latency').u;
              const { min, max } = u.scales.x;
              // uPlot.batch commits synchronously, so the time is that of the redraw itself.
              const t = performance.now();
              u.batch(() => u.setScale('x', { min: min + (max - min) * 0.25, max: min + (max - min) * 0.75 }));
              u.batch(() => u.setScale('x', { min, max }));
              return (performance.now() - t) / 2;
            });
            page.push({ drawnMs: r.drawnMs, zoomMs });
            await r.page.context().close();
          }
        } finally {
          await browser.close();
        }
      }
      const row = {
        results: n,
        resultsFileMB: fileMB,
        plotMs: stats(plot.map((r) => r.ms)),
        reportMs: stats(report.map((r) => r.ms)),
        plotCpuMs: stats(plot.map((r) => r.cpuMs)),
        reportCpuMs: stats(report.map((r) => r.cpuMs)),
        plotMaxRssMB: stats(plot.map((r) => r.maxRssMB)),
        reportMaxRssMB: stats(report.map((r) => r.maxRssMB)),
        htmlMB,
        pageDrawnMs: page.length ? stats(page.map((p) => p.drawnMs)) : null,
        zoomRedrawMs: page.length ? stats(page.map((p) => p.zoomMs)) : null,
      };
      out.push(row);
      if (!flag('keep')) rmSync(bin, { force: true });
    }
  } finally {
    if (!flag('keep')) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`plot-scale: files kept in ${dir}\n`);
  }

  const lines = [
    `tailprobe plot scale (median (min–max) of ${reps}; CLI: node ${process.version}; page: headless Chromium)`,
    '',
    'results    file MB  plot s           report s         plot CPU s       report CPU s     CPU plot/report  plot RSS MB     report RSS MB   HTML MB  page drawn ms     zoom redraw ms',
  ];
  for (const r of out as any[]) {
    lines.push(
      [
        String(r.results).padEnd(10),
        fmt(r.resultsFileMB, 1).padEnd(8),
        fmtStats({ min: r.plotMs.min / 1000, median: r.plotMs.median / 1000, max: r.plotMs.max / 1000 }, 1).padEnd(16),
        fmtStats({ min: r.reportMs.min / 1000, median: r.reportMs.median / 1000, max: r.reportMs.max / 1000 }, 1).padEnd(16),
        fmtStats({ min: r.plotCpuMs.min / 1000, median: r.plotCpuMs.median / 1000, max: r.plotCpuMs.max / 1000 }, 1).padEnd(16),
        fmtStats({ min: r.reportCpuMs.min / 1000, median: r.reportCpuMs.median / 1000, max: r.reportCpuMs.max / 1000 }, 1).padEnd(16),
        `${fmt(r.plotCpuMs.median / r.reportCpuMs.median, 2)}x`.padEnd(16),
        fmtStats(r.plotMaxRssMB).padEnd(15),
        fmtStats(r.reportMaxRssMB).padEnd(15),
        fmt(r.htmlMB, 2).padEnd(8),
        (r.pageDrawnMs ? fmtStats(r.pageDrawnMs) : 'no chromium').padEnd(17),
        r.zoomRedrawMs ? fmtStats(r.zoomRedrawMs, 1) : '',
      ].join(' '),
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  mkdirSync(join(REPO_ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(REPO_ROOT, 'bench', 'results', 'plot-scale.json'), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, reps, rows: out }, null, 2)}\n`);
}

main().catch((e) => {
  process.stderr.write(`plot-scale: ${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
});

