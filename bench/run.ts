#!/usr/bin/env node
/**
 * The load-generator benchmark: `npm run bench` (or `node dist/bench/run.js [flags]`).
 *
 * Starts nginx on loopback, then runs tailprobe and its peers (wrk, autocannon, vegeta if installed)
 * side by side in one invocation, repetition by repetition, and prints each figure as a ratio to its
 * peer (min/median/max over repetitions). Writes everything it measured to bench/results/*.json.
 * Method and caveats: docs/benchmarks.md. Progress goes to stderr, the tables to stdout.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatHelp } from '../src/cli/flags.js';
import { TailprobeError, UsageError } from '../src/errors.js';
import { findTool } from '../support/tools.js';
import { autocannonCli } from './lib/autocannon.js';
import { scratchDir, type Ctx, type Tools } from './lib/context.js';
import { optionsFrom, spec, SUITE_NAMES } from './lib/options.js';
import { describeMachine, load1 } from './lib/machine.js';
import { NGINX_CANDIDATES, startNginx } from './lib/nginx.js';
import { killAllChildren, onExitCleanup, runProcess } from './lib/proc.js';
import type { BarCheck, SuiteResult } from './lib/suite.js';
import { snapshotBuild, tailprobeAttackAvailable } from './lib/tailprobe.js';
import { findVegeta } from './lib/vegeta.js';
import { WRK_CANDIDATES } from './lib/wrk.js';
import { throughputSuite } from './suites/throughput.js';
import { fidelitySuite } from './suites/fidelity.js';
import { memorySuite } from './suites/memory.js';
import { analysisSuite } from './suites/analysis.js';

const SUITES: Record<(typeof SUITE_NAMES)[number], (ctx: Ctx) => Promise<SuiteResult>> = {
  throughput: throughputSuite,
  fidelity: fidelitySuite,
  memory: memorySuite,
  analysis: analysisSuite,
};

async function toolVersion(cmd: string, args: string[]): Promise<string> {
  const r = await runProcess(cmd, args, { timeoutMs: 10_000 });
  return (r.stdout + r.stderr).trim().split('\n')[0] ?? '';
}

function formatBars(bars: BarCheck[]): string {
  return bars
    .map((b) => `${b.met === null ? '[not measured]' : b.met ? '[met]    ' : '[NOT met]'} ${b.bar}: ${b.measured}`)
    .join('\n');
}

// `run.js | head` must end cleanly, and still stop every tool and nginx (exit hooks do).
process.stdout.on('error', () => process.exit(0));

async function main(argv: string[]): Promise<number> {
  const opts = optionsFrom(argv);
  if (opts.help) {
    process.stdout.write(formatHelp(spec));
    return 0;
  }
  const nginxBin = findTool('nginx', NGINX_CANDIDATES);
  if (!nginxBin) throw new TailprobeError('bench: nginx not found (apt-get install nginx-light)', 1);
  const wrk = findTool('wrk', WRK_CANDIDATES);
  const vegeta = findVegeta(opts.vegeta);
  if (opts.vegeta && !vegeta) throw new UsageError(`-vegeta=${opts.vegeta}: no such file`);
  const tools: Tools = {
    nginx: nginxBin,
    wrk,
    vegeta,
    autocannonVersion: autocannonCli().version,
    wrkVersion: wrk ? (await toolVersion(wrk, ['--version'])).replace(/ Copyright.*/, '') : 'absent',
  };
  const log = (line: string) => process.stderr.write(`${line}\n`);
  if (!wrk) log('bench: wrk not found (apt-get install wrk): its comparisons are skipped');
  log(`bench: vegeta ${vegeta ? `found at ${vegeta}` : 'absent (not on PATH): its comparisons are skipped'}`);
  if (!tailprobeAttackAvailable()) log('bench: `tailprobe attack` is not built yet: tailprobe runs will fail and be reported as such');

  const machine = describeMachine();
  const workDir = scratchDir();
  const unhookDir = onExitCleanup(() => rmSync(workDir, { recursive: true, force: true }));
  if (tailprobeAttackAvailable()) log(`bench: measuring a snapshot of the current build: ${snapshotBuild(join(workDir, 'build'))}`);
  const nginx = await startNginx(nginxBin);
  const stopOnSignal = (sig: NodeJS.Signals) => {
    log(`bench: ${sig}: stopping every tool and nginx`);
    killAllChildren();
    process.exit(130);
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);

  const ctx: Ctx = { opts, tools, nginx, workDir, log };
  const startedAt = new Date();
  log(`bench: nginx ${nginx.version} at ${nginx.url}; ${machine.cores} cores, load ${machine.loadAvg.join(' ')}; suites ${opts.suites.join(', ')}`);
  const results: SuiteResult[] = [];
  try {
    for (const name of opts.suites) results.push(await SUITES[name as keyof typeof SUITES](ctx));
  } finally {
    await nginx.stop();
    rmSync(workDir, { recursive: true, force: true });
    unhookDir();
  }
  const loadEnd = load1();
  const bars = results.flatMap((r) => r.bars);
  const out = {
    format: 'tailprobe-bench/1',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine,
    loadAvgEnd: loadEnd,
    options: { ...opts, help: undefined },
    tools: {
      nginx: nginx.version,
      wrk: tools.wrkVersion,
      autocannon: tools.autocannonVersion,
      vegeta: vegeta ?? 'absent',
      tailprobe: machine.commit,
    },
    suites: results.map(({ tables: _t, ...rest }) => rest),
    bars,
  };
  mkdirSync(join(opts.out, '..'), { recursive: true });
  writeFileSync(opts.out, JSON.stringify(out, null, 1) + '\n');

  const lines = [
    `# tailprobe bench${opts.quick ? ' (quick)' : ''}, ${startedAt.toISOString()}`,
    '',
    `${machine.cores} cores (${machine.cpuModel}), node ${machine.node}, tailprobe ${machine.commit}, nginx ${nginx.version} (1 worker), ` +
      `wrk ${tools.wrkVersion}, autocannon ${tools.autocannonVersion}, vegeta ${vegeta ? 'present' : 'absent'}`,
    `load average: ${machine.loadAvg[0]} at start, ${loadEnd} at end (${Math.round((Date.now() - startedAt.getTime()) / 1000)}s); ` +
      `repetitions: ${opts.count}; figures are median (min..max)`,
  ];
  for (const r of results) {
    lines.push('', `## ${r.name}`, '', r.method, '', ...r.tables);
  }
  lines.push('', '## bars (issues 3 and 16)', '', formatBars(bars), '', `results: ${opts.out}`, '');
  process.stdout.write(lines.join('\n'));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err) => {
    killAllChildren();
    if (err instanceof TailprobeError) {
      process.stderr.write(`bench: ${err.message}\n`);
      process.exitCode = err.exitCode;
    } else {
      process.stderr.write(`bench: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
