import { createWriteStream, existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { byRep, figureSpread, loadAround, ratioSpread, type Ctx, type RunRecord } from '../lib/context.js';
import { load1 } from '../lib/machine.js';
import { runProcess, spawnTracked, type ProcessRun } from '../lib/proc.js';
import { formatRate, formatRatio, formatSpread, pairedRatios, spread, type Spread } from '../lib/stats.js';
import { barOnMedian, type BarCheck, type SuiteResult } from '../lib/suite.js';
import { markdownTable } from '../lib/table.js';
import { tailprobeCli } from '../lib/tailprobe.js';
import { formatBytes } from '../../src/units/index.js';
import { writeSyntheticFile } from '../../support/synthetic-run.js';

/** GNU time (Debian package `time`), for the peak RSS of a command however short. */
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

/**
 * Reading results back: `tailprobe report` and `tailprobe plot` over a large results file (10
 * million by default), generated once into the scratch directory (support/synthetic-run.ts: a
 * 2,000 req/s open-model run with GC lurches, errors and timeouts, in tailprobe's binary format).
 * Figures: results per second of wall time (and of CPU time), and the peak RSS of the process
 * (VmHWM). "Bounded" is judged by running the same commands over a file 10x smaller (1 million by
 * default): memory that does not grow with the file stays about the same.
 * Peer: `vegeta report` over the same smaller file converted to vegeta's own gob format (its
 * native, fastest input), so the ratio compares each tool reading its own format.
 */
export async function analysisSuite(ctx: Ctx): Promise<SuiteResult> {
  const { opts, tools } = ctx;
  const N = opts.analysisResults;
  const P = opts.analysisSmallResults;
  const n = opts.count;
  const cli = tailprobeCli();
  const big = join(ctx.workDir, `analysis-${N}.bin`);
  const small = join(ctx.workDir, `analysis-${P}.bin`);
  const gob = join(ctx.workDir, `analysis-${P}.gob`);
  const html = join(ctx.workDir, 'analysis.html');
  const rssFile = join(ctx.workDir, 'analysis.maxrss');

  const t0 = performance.now();
  ctx.log(`analysis: writing ${N} and ${P} synthetic results (once)...`);
  await writeSyntheticFile(big, { count: N, rate: 2000, name: 'bench-analysis', seed: 1 });
  await writeSyntheticFile(small, { count: P, rate: 2000, name: 'bench-analysis', seed: 1 });
  if (tools.vegeta) {
    // tailprobe binary -> vegeta JSON lines (tailprobe encode) -> vegeta gob (vegeta encode).
    const enc = spawnTracked(process.execPath, [cli, 'encode', '-to=json', small], { stdio: ['ignore', 'pipe', 'inherit'] });
    const veg = spawnTracked(tools.vegeta, ['encode', '-to=gob'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const done = (c: ReturnType<typeof spawnTracked>) => new Promise<number | null>((res) => c.on('close', res));
    await Promise.all([pipeline(enc.stdout!, veg.stdin!), pipeline(veg.stdout!, createWriteStream(gob)), done(enc), done(veg)]);
  }
  const sizes = `${formatBytes(statSync(big).size)} (${(statSync(big).size / N).toFixed(1)} B/result)`;
  ctx.log(`analysis: files ready in ${((performance.now() - t0) / 1000).toFixed(0)}s; ${N} results: ${sizes}`);

  const runs: RunRecord[] = [];
  const one = async (config: string, tool: string, rep: number, count: number, cmd: string, args: string[]) => {
    const before = load1();
    let proc: ProcessRun | undefined;
    let error: string | undefined;
    let maxRss = NaN;
    try {
      // GNU time's %M (the kernel's maxrss of the command) also catches a process too short to sample.
      proc = GNU_TIME
        ? await runProcess(GNU_TIME, ['-f', '%M', '-o', rssFile, cmd, ...args], { timeoutMs: 600_000, sampleMs: 250 })
        : await runProcess(cmd, args, { timeoutMs: 600_000, sampleMs: 250 });
      if (proc.code !== 0) error = `exited with ${proc.code ?? proc.signal}: ${proc.stderr.trim().split('\n').pop() ?? ''}`;
      if (GNU_TIME) maxRss = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) * 1024;
    } catch (err) {
      error = (err as Error).message.split('\n')[0];
    }
    const wallSec = proc ? proc.wallMs / 1000 : NaN;
    const rec: RunRecord = {
      suite: 'analysis',
      config,
      tool,
      rep,
      ok: error === undefined,
      error,
      figures: proc
        ? { results: count, wallSec, cpuSec: proc.cpuSec, peakRss: Number.isFinite(maxRss) ? Math.max(maxRss, proc.peakRss) : proc.peakRss, resultsPerSec: count / wallSec, resultsPerCpuSec: count / proc.cpuSec }
        : {},
      load: [before, load1()],
      args,
    };
    ctx.log(
      `  ${config.padEnd(14)} ${tool.padEnd(16)} rep ${rep + 1}: ` +
        (rec.ok ? `${formatRate(rec.figures.resultsPerSec!)} results/s, peak RSS ${formatBytes(rec.figures.peakRss!)}` : `FAILED: ${error}`) +
        ` (load ${before} -> ${rec.load[1]})`,
    );
    runs.push(rec);
  };
  const cfgBig = `${N} results`;
  const cfgSmall = `${P} results`;
  try {
    for (let rep = 0; rep < n; rep++) {
      for (const [cfg, file, count] of [[cfgBig, big, N], [cfgSmall, small, P]] as const) {
        await one(cfg, 'tailprobe report', rep, count, process.execPath, [cli, 'report', file]);
        await one(cfg, 'tailprobe plot', rep, count, process.execPath, [cli, 'plot', file, '-o', html]);
      }
      if (tools.vegeta) await one(cfgSmall, 'vegeta report', rep, P, tools.vegeta, ['report', gob]);
    }
  } finally {
    for (const f of [big, small, gob, html, rssFile]) rmSync(f, { force: true });
  }

  const summary: SuiteResult['summary'] = {};
  const rows: string[][] = [];
  const toolsRun = ['tailprobe report', 'tailprobe plot', ...(tools.vegeta ? ['vegeta report'] : [])];
  for (const cfg of [cfgBig, cfgSmall]) {
    for (const tool of toolsRun) {
      if (!runs.some((r) => r.config === cfg && r.tool === tool)) continue;
      const fig = (name: string) => figureSpread(runs, cfg, tool, name, n);
      for (const name of ['resultsPerSec', 'resultsPerCpuSec', 'peakRss', 'wallSec']) summary[`${cfg} ${tool} ${name}`] = fig(name);
      rows.push([
        cfg,
        tool,
        formatSpread(fig('resultsPerSec'), formatRate),
        formatSpread(fig('resultsPerCpuSec'), formatRate),
        formatSpread(fig('wallSec'), (x) => `${x.toFixed(1)}s`),
        formatSpread(fig('peakRss'), (x) => formatBytes(Math.round(x))),
        loadAround(runs, cfg, tool),
      ]);
    }
  }
  // Paired by repetition: peak RSS over N results / peak RSS over P results.
  const rssGrowth = (tool: string) => spread(pairedRatios(byRep(runs, cfgBig, tool, 'peakRss', n), byRep(runs, cfgSmall, tool, 'peakRss', n)));
  const reportGrowth = rssGrowth('tailprobe report');
  const plotGrowth = rssGrowth('tailprobe plot');
  summary['report peakRss N/P'] = reportGrowth;
  summary['plot peakRss N/P'] = plotGrowth;
  const vsVegeta = ratioSpread(runs, cfgSmall, ['tailprobe report', 'resultsPerSec'], ['vegeta report', 'resultsPerSec'], n);
  summary['report results/s tailprobe/vegeta'] = vsVegeta;
  const ratioFmt = (s: Spread) => formatSpread(s, formatRatio);
  const bars: BarCheck[] = [
    barOnMedian(`report over ${N} results: >= 1M results/s`, figureSpread(runs, cfgBig, 'tailprobe report', 'resultsPerSec', n), (x) => x >= 1e6, (s) => formatSpread(s, formatRate)),
    barOnMedian(`report: memory bounded (peak RSS over ${N} results <= 1.5x that over ${P})`, reportGrowth, (x) => x <= 1.5, ratioFmt),
    barOnMedian(`plot: memory bounded (peak RSS over ${N} results <= 1.5x that over ${P})`, plotGrowth, (x) => x <= 1.5, ratioFmt),
  ];
  const table =
    markdownTable(['file', 'command', 'results/s (wall)', 'results/CPU-s', 'wall', 'peak RSS', 'load around'], rows) +
    `\npeak RSS over ${N} / over ${P} results: report ${ratioFmt(reportGrowth)}, plot ${ratioFmt(plotGrowth)}; ` +
    `report results/s tailprobe / vegeta (${P} results, each its own format): ${tools.vegeta ? formatSpread(vsVegeta) : 'vegeta absent'}; ` +
    `binary file: ${sizes}`;
  return {
    name: 'analysis',
    method:
      `tailprobe report (text) and plot (HTML) over ${N} and ${P} synthetic results (binary format, written once), in separate processes; ` +
      `results/s = results / wall time of the process (start-up included); peak RSS = the command's maxrss (GNU time %M; else sampled VmHWM). vegeta report reads the ${P} results as its gob.`,
    runs,
    summary,
    tables: [table],
    bars,
  };
}
