#!/usr/bin/env node
/**
 * Overload: `tailprobe attack` asked for far more than one machine can send (1M req/s by default)
 * against nginx on loopback. Before the bounded backlog (issue 17) memory grew ~200 MB/s until V8
 * died; now the backlog is a count, not a queue. Samples the resident memory of the attack's process
 * every 250 ms and reports its peak and its trajectory, the wall time against -duration, what was
 * sent, what was counted as due but never sent (health.overdue) and the peak in flight; then, with
 * -sigint, how long a Ctrl-C takes to end a run under that overload.
 *
 *   npm run build && node dist/bench/overload.js [-rate=1000000] [-duration=60s] [-sigint=3s] [-workers=0]
 *
 * The asked run is 60 s; on a shared machine run it shorter (e.g. -duration=10s) and say so. Writes
 * bench/results/overload.json. Nothing here is a pass/fail gate: it prints what it measured.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDuration } from '../src/units/duration.js';
import { readMetrics } from '../src/metrics/index.js';
import { REPO_ROOT, makeTempDir as tempDir } from '../support/paths.js';
import { findTool } from '../support/tools.js';
import { NGINX_CANDIDATES, startNginx } from './lib/nginx.js';
import { killAllChildren, onExitCleanup, processMemory, processTree, spawnTracked } from './lib/proc.js';

function arg(name: string, dflt: string): string {
  const a = process.argv.slice(2).find((x) => x.replace(/^--?/, '').startsWith(`${name}=`));
  return a ? a.slice(a.indexOf('=') + 1) : dflt;
}

interface Sample {
  tMs: number;
  rssMB: number;
}

interface RunFigures {
  args: string[];
  exitCode: number | null;
  wallS: number;
  peakRssMB: number;
  /** RSS every second (MB), to see that it is flat rather than growing. */
  rssBySecondMB: number[];
  results: number;
  overdue: number;
  unsent: number;
  peakInFlight: number;
  inFlightCap: number;
  ended: string;
  /** Ctrl-C runs only: from the signal to the process's exit, s. */
  stopS?: number;
}

const CLI = join(REPO_ROOT, 'bin', 'tailprobe.js');

/** Runs one attack, sampling its process tree's RSS; with sigintAtMs, interrupts it then. */
async function runAttack(url: string, dir: string, args: string[], sigintAtMs?: number): Promise<RunFigures> {
  const out = join(dir, `r-${Date.now()}.bin`);
  const full = ['attack', ...args, `-output=${out}`, '-quiet'];
  const t0 = performance.now();
  const child = spawnTracked(process.execPath, [CLI, ...full], { cwd: REPO_ROOT, stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin!.end(`GET ${url}\n`);
  const samples: Sample[] = [];
  const timer = setInterval(() => {
    let rss = 0;
    for (const pid of processTree(child.pid!)) rss += processMemory(pid)?.rss ?? 0;
    if (rss > 0) samples.push({ tMs: performance.now() - t0, rssMB: rss / 2 ** 20 });
  }, 250);
  let sigAt = 0;
  if (sigintAtMs !== undefined) {
    setTimeout(() => {
      sigAt = performance.now();
      child.kill('SIGINT');
    }, sigintAtMs);
  }
  const exitCode = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  const end = performance.now();
  clearInterval(timer);
  if (exitCode !== 0) process.stderr.write(`overload: attack exited ${exitCode}: ${stderr.slice(-500)}\n`);
  const { metrics, sources } = await readMetrics([out]);
  const h = sources[0]?.meta.health;
  rmSync(out, { force: true });
  const bySecond: number[] = [];
  for (const s of samples) bySecond[Math.floor(s.tMs / 1000)] = Math.max(bySecond[Math.floor(s.tMs / 1000)] ?? 0, s.rssMB);
  return {
    args: full,
    exitCode,
    wallS: (end - t0) / 1000,
    peakRssMB: Math.max(0, ...samples.map((s) => s.rssMB)),
    rssBySecondMB: [...bySecond].map((x) => Math.round(x ?? 0)),
    results: metrics.requests,
    overdue: h?.overdue ?? NaN,
    unsent: h?.unsent ?? NaN,
    peakInFlight: h?.peakInFlight ?? NaN,
    inFlightCap: h?.inFlightCap ?? NaN,
    ended: h?.ended ?? '(no health record)',
    ...(sigintAtMs !== undefined ? { stopS: (end - sigAt) / 1000 } : {}),
  };
}

async function main(): Promise<void> {
  const rate = arg('rate', '1000000');
  const durationNs = parseDuration(arg('duration', '60s'));
  const sigintNs = parseDuration(arg('sigint', '3s'));
  const workers = arg('workers', '0');
  const nginxBin = findTool('nginx', NGINX_CANDIDATES);
  if (!nginxBin) throw new Error('overload: nginx not found (apt-get install nginx-light)');
  const dir = tempDir('tailprobe-overload-');
  const nginx = await startNginx(nginxBin);
  const cleanup = onExitCleanup(() => {
    killAllChildren();
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    const base = [`-rate=${rate}`, `-workers=${workers}`];
    process.stderr.write(`overload: ${rate} req/s asked for ${durationNs / 1e9}s against nginx ${nginx.version} at ${nginx.url}\n`);
    const full = await runAttack(nginx.url, dir, [...base, `-duration=${durationNs / 1e9}s`]);
    let interrupted: RunFigures | null = null;
    if (sigintNs > 0) {
      process.stderr.write(`overload: the same, open-ended, interrupted after ${sigintNs / 1e9}s\n`);
      interrupted = await runAttack(nginx.url, dir, [...base, '-duration=0'], sigintNs / 1e6);
    }
    const doc = { bench: 'overload', at: new Date().toISOString(), rate: Number(rate), durationS: durationNs / 1e9, nginx: nginx.version, full, interrupted };
    mkdirSync(join(REPO_ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(join(REPO_ROOT, 'bench', 'results', 'overload.json'), JSON.stringify(doc, null, 2) + '\n');
    const line = (name: string, f: RunFigures) =>
      `${name}: exit ${f.exitCode}, wall ${f.wallS.toFixed(2)} s, peak RSS ${f.peakRssMB.toFixed(0)} MB (by second: ${f.rssBySecondMB.join(' ')}), ` +
      `${f.results} results, ${f.overdue} due but never sent, ${f.unsent} unsent in all, peak in flight ${f.peakInFlight} (cap ${f.inFlightCap}), ended ${f.ended}` +
      (f.stopS !== undefined ? `, Ctrl-C to exit ${f.stopS.toFixed(2)} s` : '');
    process.stdout.write(`${line(`-duration=${durationNs / 1e9}s`, full)}\n`);
    if (interrupted) process.stdout.write(`${line(`Ctrl-C after ${sigintNs / 1e9}s`, interrupted)}\n`);
    process.stdout.write('bench/results/overload.json written\n');
  } finally {
    await nginx.stop();
    cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`overload: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
