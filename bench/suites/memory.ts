import { rmSync } from 'node:fs';
import { runAutocannon } from '../lib/autocannon.js';
import { figureSpread, loadAround, measure, ratioSpread, rotated, type Ctx, type RunRecord } from '../lib/context.js';
import { rssAt, rssAtEnd, rssTrajectory } from '../lib/proc.js';
import { formatBytes } from '../../src/units/index.js';
import { formatPercentDelta, formatSpread, spread } from '../lib/stats.js';
import { barOnMedian, type BarCheck, type SuiteResult } from '../lib/suite.js';
import { markdownTable } from '../lib/table.js';
import { runTailprobe } from '../lib/tailprobe.js';
import { runVegeta } from '../lib/vegeta.js';

/**
 * Memory over a long attack at a fixed rate: results are streamed to a file, so resident memory must
 * not grow with the number of requests. RSS (summed over the process tree) is sampled every 0.5 s;
 * "flat" compares RSS at the reference point (30 s, or a third of a shorter run) with RSS at the end.
 * Peer: autocannon at the same rate and duration (it keeps histograms only, no per-request record).
 * Storage: bytes per result of tailprobe's binary format, and of vegeta's JSON and CSV formats as
 * tailprobe writes them (a short run each), to compare with what vegeta's users store.
 */
export async function memorySuite(ctx: Ctx): Promise<SuiteResult> {
  const { opts } = ctx;
  const url = ctx.nginx.url;
  const R = opts.memoryRate;
  const D = opts.memorySec;
  const C = opts.connections;
  const refSec = Math.min(30, Math.round(D / 3));
  const n = opts.memoryCount;
  const cfg = `${R} req/s ${D}s`;

  // Startup of a node process is well under a second; the attack ends about D s after it.
  const endMs = D * 1000;
  const allTools = [
    {
      name: 'tailprobe',
      run: async () => {
        const r = await runTailprobe({ url, rate: R, durationSec: D, connections: C, workers: opts.memoryWorkers, workDir: ctx.workDir, outName: 'memory.bin' });
        rmSync(`${ctx.workDir}/memory.bin`, { force: true });
        return {
          figures: {
            requests: r.report.requests,
            rssRef: rssAt(r.proc.samples, refSec * 1000),
            rssEnd: rssAtEnd(r.proc.samples, endMs),
            peakRss: r.proc.peakRss,
            bytesPerResult: r.fileBytes / r.report.requests,
            lagP99: r.report.schedule?.p99 ?? NaN,
          },
          args: r.args,
          proc: r.proc,
          notes: r.report.warnings,
          rss: r.proc.samples.map((x): [number, number] => [x.t, x.rss]),
        };
      },
    },
    {
      name: 'autocannon -R',
      run: async () => {
        const r = await runAutocannon({ url, connections: C, durationSec: D, rate: R });
        return {
          figures: {
            requests: r.summary.requests,
            rssRef: rssAt(r.proc.samples, refSec * 1000),
            rssEnd: rssAtEnd(r.proc.samples, endMs),
            peakRss: r.proc.peakRss,
          },
          args: r.args,
          proc: r.proc,
          rss: r.proc.samples.map((x): [number, number] => [x.t, x.rss]),
        };
      },
    },
  ];
  if (ctx.tools.vegeta) {
    const vegeta = ctx.tools.vegeta;
    // vegeta also stores every result (its gob format), so its RSS and bytes per result compare
    // like for like; GOMAXPROCS=1, as one tailprobe worker.
    allTools.push({
      name: 'vegeta',
      run: async () => {
        const r = await runVegeta({ binary: vegeta, url, rate: R, durationSec: D, connections: C, cores: 1, workDir: ctx.workDir });
        return {
          figures: {
            requests: r.report.requests,
            rssRef: rssAt(r.proc.samples, refSec * 1000),
            rssEnd: rssAtEnd(r.proc.samples, endMs),
            peakRss: r.proc.peakRss,
            bytesPerResult: r.fileBytes / r.report.requests,
            lagP99: NaN,
          },
          args: r.args,
          proc: r.proc,
          notes: [],
          rss: r.proc.samples.map((x): [number, number] => [x.t, x.rss]),
        };
      },
    });
  }

  const tools = opts.memoryPeer ? allTools : allTools.filter((t) => t.name === 'tailprobe');
  ctx.log(`memory: ${R} req/s for ${D}s, RSS at ${refSec}s vs end, ${n} repetition(s), tools: ${tools.map((t) => t.name).join(', ')}`);
  const runs: RunRecord[] = [];
  for (let rep = 0; rep < n; rep++) {
    for (const t of rotated(tools, rep)) {
      const rec = await measure(ctx, { suite: 'memory', config: cfg, tool: t.name, rep }, t.run);
      rec.figures.growth = rec.figures.rssEnd! / rec.figures.rssRef!;
      runs.push(rec);
    }
  }
  // Bytes per result in vegeta's formats, as tailprobe writes them: a short run each, once.
  const formats: Record<string, number> = {};
  for (const format of ['json', 'csv']) {
    const rec = await measure(ctx, { suite: 'memory', config: 'format size', tool: `tailprobe ${format}`, rep: 0 }, async () => {
      const r = await runTailprobe({ url, rate: 1000, durationSec: 2, connections: C, workers: 1, workDir: ctx.workDir, outName: `format.${format}`, extraArgs: [`-output-format=${format}`] });
      rmSync(`${ctx.workDir}/format.${format}`, { force: true });
      return { figures: { bytesPerResult: r.fileBytes / r.report.requests }, args: r.args };
    });
    runs.push(rec);
    formats[format] = rec.figures.bytesPerResult ?? NaN;
  }

  const summary: SuiteResult['summary'] = {};
  const rows: string[][] = [];
  const mb = (x: number) => formatBytes(Math.round(x));
  for (const t of tools) {
    const fig = (name: string) => figureSpread(runs, cfg, t.name, name, n);
    for (const name of ['rssRef', 'rssEnd', 'peakRss', 'growth', 'bytesPerResult', 'lagP99']) summary[`${t.name} ${name}`] = fig(name);
    rows.push([
      t.name,
      formatSpread(fig('rssRef'), mb),
      formatSpread(fig('rssEnd'), mb),
      formatSpread(fig('growth'), (x) => formatPercentDelta(x - 1)),
      formatSpread(fig('peakRss'), mb),
      t.name === 'autocannon -R' ? '- (stores none)' : formatSpread(fig('bytesPerResult'), (x) => `${x.toFixed(1)} B`),
      loadAround(runs, cfg, t.name),
    ]);
  }
  const peakRatio = ratioSpread(runs, cfg, ['tailprobe', 'peakRss'], ['autocannon -R', 'peakRss'], n);
  summary['tailprobe/autocannon peakRss'] = peakRatio;
  const peakVsVegeta = ratioSpread(runs, cfg, ['tailprobe', 'peakRss'], ['vegeta', 'peakRss'], n);
  summary['tailprobe/vegeta peakRss'] = peakVsVegeta;
  const bpr = figureSpread(runs, cfg, 'tailprobe', 'bytesPerResult', n);
  const formatLine = Object.entries(formats)
    .map(([f, b]) => `vegeta ${f} ${b.toFixed(1)} B/result (binary is ${formatSpread(spread([bpr.median / b]))} of it)`)
    .join('; ');
  summary['vegeta format bytesPerResult'] = Object.fromEntries(Object.entries(formats).map(([f, b]) => [f, spread([b])]));
  const bars: BarCheck[] = [
    barOnMedian(
      `memory flat: RSS at end within 10 % of RSS at ${refSec}s (${D}s at ${R} req/s)`,
      figureSpread(runs, cfg, 'tailprobe', 'growth', n),
      (x) => Math.abs(x - 1) <= 0.1,
      (s) => formatSpread(s, (x) => formatPercentDelta(x - 1)),
    ),
  ];
  const trajectory = (tool: string) => {
    const run = runs.find((r) => r.config === cfg && r.tool === tool && r.ok && r.rss?.length);
    return run ? `${tool} RSS over time (MiB): ${rssTrajectory(run.rss!, D)}` : '';
  };
  const table =
    markdownTable([`${R} req/s, ${D}s`, `RSS at ${refSec}s`, 'RSS at end', 'growth', 'peak RSS', 'bytes/result', 'load around'], rows) +
    `\npeak RSS tailprobe / autocannon: ${opts.memoryPeer ? formatSpread(peakRatio) : 'peer not run (-memory-peer=false)'}; ` +
    `tailprobe / vegeta: ${!opts.memoryPeer ? 'peer not run (-memory-peer=false)' : ctx.tools.vegeta ? formatSpread(peakVsVegeta) : 'vegeta absent'}; ${formatLine}\n` +
    [trajectory('tailprobe'), trajectory('autocannon -R'), trajectory('vegeta')].filter(Boolean).join('\n');
  return {
    name: 'memory',
    method: `${R} req/s for ${D}s (tailprobe with ${opts.memoryWorkers} worker(s), results streamed to a binary file), RSS of the process tree sampled every 0.5s; flat = RSS at end within 10 % of RSS at ${refSec}s.`,
    runs,
    summary,
    tables: [table],
    bars,
  };
}
