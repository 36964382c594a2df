#!/usr/bin/env node
/**
 * Memory of `tailprobe attack -prometheus-addr -hlog` while Prometheus (here: this script) scrapes
 * /metrics every 100 ms: `node dist/bench/prometheus-memory.js [-duration=2m] [-rate=1000]`.
 *
 * The target is a plain Node HTTP server in its own process; the attack runs as the real CLI with
 * the endpoint, an interval log and the results going to a file. The script scrapes every
 * -scrape-every, parses every answer with a registry Prometheus parser (a scrape that fails to parse
 * counts as a failed scrape), and samples the attack's resident memory (VmRSS, /proc) every 0.5 s.
 * "Flat" compares RSS at a third of the run with RSS at its end: the exporter keeps only the
 * run's cumulative histograms and one copy per rolling window, so it must not grow with time or
 * with the number of scrapes. Numbers on a shared machine are noisy; never gate on them.
 * Writes bench/results/prometheus-memory-<time>.json.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatHelp, parseArgs, type CommandSpec } from '../src/cli/flags.js';
import { formatBytes } from '../src/units/index.js';
import { REPO_ROOT } from '../support/paths.js';
import { processMemory, spawnTracked } from './lib/proc.js';

const spec: CommandSpec = {
  name: 'prometheus-memory',
  summary: 'Resident memory of an attack whose /metrics is scraped every 100 ms',
  usage: '[flags]',
  flags: [
    { name: 'duration', type: 'duration', default: '2m', help: 'Length of the attack' },
    { name: 'rate', type: 'int', default: 1000, help: 'Requests per second' },
    { name: 'scrape-every', type: 'duration', default: '100ms', help: 'Scrape interval' },
    { name: 'exporters', type: 'bool', default: true, help: 'Run with -prometheus-addr and -hlog (false: the same attack without them, as a baseline, unscraped)' },
    { name: 'out', type: 'string', help: 'Results file (default bench/results/prometheus-memory-<time>.json)' },
  ],
};

const CLI = join(REPO_ROOT, 'bin', 'tailprobe.js');
const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (t: string) => Array<{ name: string }>;

const TARGET = `require('node:http').createServer((q, s) => s.end('ok')).listen(0, '127.0.0.1', function () {
  console.log('listening on http://127.0.0.1:' + this.address().port);
});`;

function waitFor(child: ReturnType<typeof spawnTracked>, stream: 'stdout' | 'stderr', re: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}: ${text}`)), 30_000);
    child[stream]!.on('data', (d: Buffer) => {
      text += d;
      const m = re.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
  });
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(spec, argv);
  if (args.help) {
    process.stdout.write(formatHelp(spec));
    return 0;
  }
  const durationSec = args.number('duration') / 1e9;
  const rate = args.number('rate');
  const scrapeMs = args.number('scrape-every') / 1e6;
  const exporters = args.bool('exporters');
  const work = join(tmpdir(), `tailprobe-prom-bench-${process.pid}`);
  mkdirSync(work, { recursive: true });

  const target = spawnTracked(process.execPath, ['-e', TARGET], { stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await waitFor(target, 'stdout', /listening on (http:\/\/\S+)/);
  const attack = spawnTracked(
    process.execPath,
    [CLI, 'attack', `-rate=${rate}`, `-duration=${durationSec}s`, `-output=${join(work, 'run.bin')}`,
      ...(exporters ? ['-prometheus-addr=127.0.0.1:0', '-prometheus-linger=1s', `-hlog=${join(work, 'run.hlog')}`] : [])],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  attack.stdin!.end(`GET ${url}/\n`);
  const metricsUrl = exporters ? await waitFor(attack, 'stderr', /prometheus metrics at (http:\/\/\S+)/) : null;
  const t0 = Date.now();
  const exited = new Promise<number | null>((r) => attack.on('exit', (code) => r(code)));
  let running = true;
  void exited.then(() => (running = false));

  const samples: Array<{ t: number; rss: number }> = [];
  const sampler = setInterval(() => {
    const m = processMemory(attack.pid!);
    if (m) samples.push({ t: Date.now() - t0, rss: m.rss });
  }, 500);
  let scrapes = 0;
  let failed = 0;
  let bytes = 0;
  const failures: Array<{ t: number; why: string }> = [];
  while (running && metricsUrl === null) await new Promise((r) => setTimeout(r, 100));
  while (running && metricsUrl !== null) {
    const started = Date.now();
    try {
      const res = await fetch(metricsUrl);
      const text = await res.text();
      if (res.status !== 200 || parsePrometheus(text).length === 0) {
        failed++;
        failures.push({ t: Date.now() - t0, why: `status ${res.status}` });
      }
      else {
        scrapes++;
        bytes = text.length;
      }
    } catch (e) {
      // Once the attack's listener has closed (after -prometheus-linger) a refused connection is the end.
      const why = String((e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message);
      if (why === 'ECONNREFUSED' && Date.now() - t0 >= durationSec * 1000) break;
      failed++;
      failures.push({ t: Date.now() - t0, why });
    }
    await new Promise((r) => setTimeout(r, Math.max(0, scrapeMs - (Date.now() - started))));
  }
  clearInterval(sampler);
  const code = await exited;
  target.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });

  const endMs = durationSec * 1000;
  const at = (ms: number) => samples.reduce((best, s) => (Math.abs(s.t - ms) < Math.abs(best.t - ms) ? s : best), samples[0]!).rss;
  const rssRef = at(endMs / 3);
  const rssEnd = at(endMs);
  const peak = Math.max(...samples.map((s) => s.rss));
  const result = {
    durationSec, rate, exporters, scrapeMs, exitCode: code, scrapes, failedScrapes: failed, failures, exposition_bytes: bytes,
    rssAtThird: rssRef, rssAtEnd: rssEnd, peakRss: peak, growth: rssEnd / rssRef - 1, samples,
  };
  process.stdout.write(
    `attack ${rate} req/s for ${durationSec}s${exporters ? '' : ' WITHOUT exporters (baseline)'}, /metrics scraped every ${scrapeMs} ms: ${scrapes} scrapes (${failed} failed), ` +
      `${formatBytes(bytes)} each\n` +
      `RSS at ${Math.round(endMs / 3000)}s ${formatBytes(rssRef)}, at the end ${formatBytes(rssEnd)} ` +
      `(${((rssEnd / rssRef - 1) * 100).toFixed(1)} %), peak ${formatBytes(peak)}; attack exit ${code}\n`,
  );
  const out = args.string('out') || join(REPO_ROOT, 'bench', 'results', `prometheus-memory-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`wrote ${out}\n`);
  return code === 0 && failed === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then((c) => process.exit(c), (e) => {
  process.stderr.write(`prometheus-memory: ${(e as Error).message}\n`);
  process.exit(1);
});
