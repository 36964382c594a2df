import { runAutocannon } from '../lib/autocannon.js';
import { figureSpread, loadAround, measure, ratioSpread, rotated, type Ctx, type RunRecord } from '../lib/context.js';
import { formatRate, formatRatio, formatSpread } from '../lib/stats.js';
import { barOnMedian, type BarCheck, type SuiteResult } from '../lib/suite.js';
import { markdownTable } from '../lib/table.js';
import { runTailprobe } from '../lib/tailprobe.js';
import { runVegeta } from '../lib/vegeta.js';
import { runWrk } from '../lib/wrk.js';

/**
 * Max throughput, closed loop: every tool keeps the same number of connections busy for the same
 * time against the same nginx, with one worker (thread/core) and with all of them.
 * The figure is the server-side steady-state rate (nginx's counter, warm-up skipped); each tool's
 * own figure, its CPU and the nginx worker's CPU are recorded next to it.
 */
export async function throughputSuite(ctx: Ctx): Promise<SuiteResult> {
  const { opts, tools } = ctx;
  const url = ctx.nginx.url;
  const C = opts.connections;
  const D = opts.throughputSec;
  const configs = [{ label: '1 worker', workers: 1 }];
  if (opts.allWorkers > 1) configs.push({ label: `${opts.allWorkers} workers`, workers: opts.allWorkers });

  type Tool = { name: string; run: (workers: number) => Promise<{ figures: Record<string, number>; args?: string[] }> };
  // tailprobe twice: its own HTTP/1.1 path (the default for http://) and undici's, so the table
  // shows what the lean path buys on this machine in the same run.
  const tailprobe = (name: string, env?: NodeJS.ProcessEnv): Tool => ({
    name,
    run: async (w) => {
      const r = await runTailprobe({ url, rate: 0, durationSec: D, connections: C, workers: w, workDir: ctx.workDir, ...(env ? { env } : {}) });
      return {
        figures: { toolRate: r.report.throughput, requests: r.report.requests, cpuSec: r.proc.cpuSec, wallSec: r.proc.wallMs / 1000, peakRss: r.proc.peakRss, success: r.report.success },
        args: r.args,
        proc: r.proc,
        notes: r.report.warnings,
      };
    },
  });
  const toolList: Tool[] = [tailprobe('tailprobe'), tailprobe('tailprobe (undici)', { ...process.env, TAILPROBE_HTTP1: 'undici' })];
  if (tools.wrk) {
    const wrk = tools.wrk;
    toolList.push({
      name: 'wrk',
      run: async (w) => {
        const r = await runWrk({ binary: wrk, url, threads: w, connections: C, durationSec: D, workDir: ctx.workDir });
        const s = r.summary;
        return {
          figures: { toolRate: s.requestsPerSec, requests: s.requests, cpuSec: r.proc.cpuSec, wallSec: r.proc.wallMs / 1000, peakRss: r.proc.peakRss, success: 1 - s.non2xx / Math.max(1, s.requests) },
          args: r.args,
          proc: r.proc,
        };
      },
    });
  }
  toolList.push({
    name: 'autocannon',
    run: async (w) => {
      const r = await runAutocannon({ url, connections: C, durationSec: D, workers: w > 1 ? w : undefined });
      const s = r.summary;
      return {
        figures: { toolRate: s.okPerSec, requests: s.requests, cpuSec: r.proc.cpuSec, wallSec: r.proc.wallMs / 1000, peakRss: r.proc.peakRss, success: s.ok / Math.max(1, s.requests) },
        args: r.args,
        proc: r.proc,
      };
    },
  });
  if (tools.vegeta) {
    const vegeta = tools.vegeta;
    toolList.push({
      name: 'vegeta',
      run: async (w) => {
        const r = await runVegeta({ binary: vegeta, url, rate: 0, durationSec: D, connections: C, cores: w, workDir: ctx.workDir });
        return {
          figures: { toolRate: r.report.throughput, requests: r.report.requests, cpuSec: r.proc.cpuSec, wallSec: r.proc.wallMs / 1000, peakRss: r.proc.peakRss, success: r.report.success },
          proc: r.proc,
        };
      },
    });
  }

  ctx.log(`throughput: ${C} connections, ${D}s per run, ${opts.count} repetition(s), tools: ${toolList.map((t) => t.name).join(', ')}`);
  const runs: RunRecord[] = [];
  for (let rep = 0; rep < opts.count; rep++) {
    for (const cfg of configs) {
      for (const t of rotated(toolList, rep)) {
        runs.push(await measure(ctx, { suite: 'throughput', config: cfg.label, tool: t.name, rep }, () => t.run(cfg.workers)));
      }
    }
  }
  for (const r of runs) {
    // Over the whole run, start-up included (a Node tool spends most of a CPU-second loading).
    r.figures.cpuCores = r.figures.cpuSec! / r.figures.wallSec!;
  }

  const n = opts.count;
  const summary: SuiteResult['summary'] = {};
  const rows: string[][] = [];
  const bars: BarCheck[] = [];
  for (const cfg of configs) {
    for (const t of toolList) {
      const fig = (name: string) => figureSpread(runs, cfg.label, t.name, name, n);
      for (const name of ['serverRate', 'toolRate', 'cpuCores', 'steadyCores', 'cpuUsPerRequest', 'nginxCpuCores', 'peakRss']) {
        summary[`${cfg.label} ${t.name} ${name}`] = fig(name);
      }
      let ratioText = '1 (reference)';
      if (t.name !== 'tailprobe') {
        const r = ratioSpread(runs, cfg.label, ['tailprobe', 'serverRate'], [t.name, 'serverRate'], n);
        summary[`${cfg.label} tailprobe/${t.name}`] = r;
        ratioText = formatSpread(r);
      }
      rows.push([
        cfg.label,
        t.name,
        formatSpread(fig('serverRate'), formatRate),
        formatSpread(fig('toolRate'), formatRate),
        formatSpread(fig('steadyCores'), (x) => x.toFixed(2)),
        formatSpread(fig('cpuUsPerRequest'), (x) => `${x.toFixed(1)}µs`),
        formatSpread(fig('nginxCpuCores'), (x) => x.toFixed(2)),
        ratioText,
        loadAround(runs, cfg.label, t.name),
      ]);
    }
  }
  const one = configs[0]!.label;
  bars.push(
    barOnMedian(
      'max throughput, 1 worker: tailprobe >= 1.5x autocannon',
      ratioSpread(runs, one, ['tailprobe', 'serverRate'], ['autocannon', 'serverRate'], n),
      (x) => x >= 1.5,
      (s) => formatSpread(s, formatRatio),
    ),
  );
  if (tools.wrk) {
    bars.push(
      barOnMedian(
        'max throughput, 1 worker: tailprobe >= 0.6x wrk',
        ratioSpread(runs, one, ['tailprobe', 'serverRate'], ['wrk', 'serverRate'], n),
        (x) => x >= 0.6,
        (s) => formatSpread(s, formatRatio),
      ),
    );
  } else {
    bars.push({ bar: 'max throughput, 1 worker: tailprobe >= 0.6x wrk', measured: 'wrk absent', met: null });
  }
  const table = markdownTable(
    ['config', 'tool', 'req/s (server-side)', 'req/s (tool says)', 'tool CPU (cores)', 'CPU per request', 'nginx CPU', 'tailprobe / tool', 'load around'],
    rows,
  );
  return {
    name: 'throughput',
    method: `Closed loop, ${C} connections, ${D}s, against nginx (1 worker); rate = nginx's own request count over the steady window (first ${opts.warmupSec}s skipped); ratios paired per repetition; load around = the 1-minute load average just before and after each repetition (min..max).${tools.vegeta ? '' : ' vegeta: absent.'}`,
    runs,
    summary,
    tables: [table],
    bars,
  };
}
