#!/usr/bin/env node
/**
 * Where does an attack's CPU go? `node dist/bench/profile.js [-rate=0] [-duration=10s] [-workers=1]`
 * runs `tailprobe attack` against the bench's nginx under `node --cpu-prof` (every thread writes a
 * .cpuprofile; worker threads too) and prints, per thread, the top functions by self time and the
 * share of each part of the stack (tailprobe's modules, undici, Node internals, GC).
 * The profiles are kept under bench/results/ for speedscope or Chrome DevTools.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { formatHelp, parseArgs, type CommandSpec } from '../src/cli/flags.js';
import { TailprobeError } from '../src/errors.js';
import { formatDuration } from '../src/units/index.js';
import { findTool } from '../support/tools.js';
import { scratchDir } from './lib/context.js';
import { formatProfileSummary, summarizeCpuProfile, type CpuProfile } from './lib/cpuprofile.js';
import { NGINX_CANDIDATES, startNginx } from './lib/nginx.js';
import { killAllChildren, onExitCleanup } from './lib/proc.js';
import { REPO_ROOT, runTailprobe, snapshotBuild } from './lib/tailprobe.js';

const spec: CommandSpec = {
  name: 'bench/profile',
  summary: 'CPU-profile a tailprobe attack against the bench nginx and print where the time goes.',
  usage: '[flags]',
  flags: [
    { name: 'rate', type: 'int', default: 0, help: 'req/s; 0 = max mode' },
    { name: 'duration', type: 'duration', default: '10s', help: 'attack length' },
    { name: 'connections', type: 'int', default: 50, help: 'connections' },
    { name: 'workers', type: 'int', default: 1, help: 'tailprobe workers' },
    { name: 'top', type: 'int', default: 25, help: 'functions to list per thread' },
    { name: 'skip', type: 'duration', default: '2s', help: 'start of each profile left out (start-up, JIT warm-up)' },
    { name: 'out', type: 'string', value: 'DIR', help: 'where to keep the .cpuprofile files (default bench/results/profile-<time>)' },
  ],
};

// `profile.js | head` must end cleanly (and still stop nginx): exit on a closed stdout.
process.stdout.on('error', () => process.exit(0));

async function main(argv: string[]): Promise<number> {
  const a = parseArgs(spec, argv);
  if (a.help) {
    process.stdout.write(formatHelp(spec));
    return 0;
  }
  const nginxBin = findTool('nginx', NGINX_CANDIDATES);
  if (!nginxBin) throw new TailprobeError('bench: nginx not found (apt-get install nginx-light)', 1);
  const outDir = a.string('out') || join(REPO_ROOT, 'bench', 'results', `profile-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(outDir, { recursive: true });
  const workDir = scratchDir();
  onExitCleanup(() => rmSync(workDir, { recursive: true, force: true }));
  snapshotBuild(join(workDir, 'build'));
  const nginx = await startNginx(nginxBin);
  process.once('SIGINT', () => {
    killAllChildren();
    process.exit(130);
  });
  try {
    const durationSec = a.number('duration') / 1e9;
    const r = await runTailprobe({
      url: nginx.url,
      rate: a.number('rate'),
      durationSec,
      connections: a.number('connections'),
      workers: a.number('workers'),
      workDir,
      nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${outDir}`],
    });
    const rep = r.report;
    process.stdout.write(
      `tailprobe ${r.args.join(' ')}\n` +
        `${rep.requests} requests, ${Math.round(rep.throughput)} req/s ok, p50 ${(rep.latency.p50 / 1e3).toFixed(0)}µs, ` +
        `send lag p99 ${rep.schedule ? `${(rep.schedule.p99 / 1e3).toFixed(0)}µs` : 'n/a'}, process CPU ${(r.proc.cpuSec / durationSec).toFixed(2)} cores\n\n`,
    );
    for (const f of readdirSync(outDir).filter((x) => x.endsWith('.cpuprofile')).sort()) {
      const profile = JSON.parse(readFileSync(join(outDir, f), 'utf8')) as CpuProfile;
      process.stdout.write(formatProfileSummary(summarizeCpuProfile(profile, a.number('top'), a.number('skip') / 1e3), `${f} (after the first ${formatDuration(a.number('skip'))})`) + '\n');
    }
    // A thread blocked in Atomics.wait or a syscall looks busy in a V8 profile (it samples wall
    // time); the kernel's per-thread CPU says which threads really used the CPU.
    process.stdout.write(
      `CPU per thread over the whole run (s): ${r.proc.threads.filter((t) => t.cpuSec > 0).map((t) => `${t.tid}${t.tid === r.proc.pid ? ' (main)' : ''} ${t.cpuSec.toFixed(2)}`).join(', ')}\n`,
    );
    process.stdout.write(`profiles: ${outDir}\n`);
  } finally {
    await nginx.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err) => {
    killAllChildren();
    process.stderr.write(`bench: ${err instanceof TailprobeError ? err.message : ((err as Error)?.stack ?? String(err))}\n`);
    process.exitCode = err instanceof TailprobeError ? err.exitCode : 1;
  },
);
