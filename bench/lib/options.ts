import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs, type CommandSpec } from '../../src/cli/flags.js';
import { UsageError } from '../../src/errors.js';
import type { BenchOptions } from './context.js';
import { REPO_ROOT } from './tailprobe.js';

/** The bench's flags (same Go/GNU spellings as tailprobe's own commands) and their quick-mode defaults. */
export const SUITE_NAMES = ['throughput', 'fidelity', 'memory', 'analysis'] as const;
/** The suites run when -suites is not given (analysis writes a 10M-result file: ask for it). */
const DEFAULT_SUITES = 'throughput,fidelity,memory';

export const spec: CommandSpec = {
  name: 'bench',
  summary: 'Benchmark tailprobe against wrk, autocannon (and vegeta if installed) on nginx, side by side.',
  usage: '[flags]',
  description:
    'Suites: throughput (max mode, 1 worker and all workers), fidelity (fixed rates: achieved/asked,\n' +
    'send lag, p50 vs wrk), memory (RSS over a long attack, bytes per result; -memory-long: 30 minutes),\n' +
    'analysis (report and plot over 10M results: results/s, peak RSS; not run unless asked). See docs/benchmarks.md.',
  flags: [
    { name: 'suites', type: 'string', default: DEFAULT_SUITES, help: `comma-separated suites to run (have: ${SUITE_NAMES.join(', ')})` },
    { name: 'quick', type: 'bool', help: 'smoke run (~2 minutes): 1 repetition, 3s/2s runs, a 30s memory run without its peer' },
    { name: 'count', type: 'int', default: 3, help: 'repetitions of each figure (quick: 1)' },
    { name: 'connections', type: 'int', default: 50, help: 'connections of every tool (max mode and fixed rates)' },
    { name: 'workers', type: 'int', default: availableParallelism(), help: 'workers of the "all workers" throughput configuration' },
    { name: 'duration', type: 'duration', default: '10s', help: 'length of each throughput and fidelity run (quick: 3s and 2s)' },
    { name: 'rates', type: 'string', default: '1000,5000,10000,20000', help: 'fixed rates of the fidelity suite, req/s' },
    { name: 'fidelity-workers', type: 'int', default: 1, help: 'workers (threads) of every tool in the fidelity suite (issue 16: 50000 req/s with 2)' },
    { name: 'memory-duration', type: 'duration', default: '5m', help: 'length of the memory run (quick: 30s)' },
    { name: 'memory-long', type: 'bool', help: 'the long memory run: 30 minutes, once (-memory-duration and -memory-count still win)' },
    { name: 'memory-rate', type: 'int', default: 5000, help: 'rate of the memory run, req/s' },
    { name: 'memory-workers', type: 'int', default: 1, help: 'tailprobe workers in the memory run' },
    { name: 'memory-count', type: 'int', help: 'repetitions of the memory run (default: -count)' },
    { name: 'memory-peer', type: 'bool', default: true, help: 'run autocannon and vegeta (when found) for the same time as the memory peers (quick: off)' },
    { name: 'analysis-results', type: 'int', default: 10_000_000, value: 'N', help: 'analysis: results in the big file for report and plot (quick: 1000000)' },
    { name: 'analysis-small', type: 'int', default: 1_000_000, value: 'N', help: 'analysis: results in the small file (bounded memory: big vs small; the vegeta peer) (quick: 100000)' },
    { name: 'warmup', type: 'duration', default: '1s', help: 'traffic skipped before the server-side rate window' },
    { name: 'variants', type: 'string', default: '', value: 'ENV=V,...', help: 'fidelity: also run tailprobe with each of these environment settings (e.g. TAILPROBE_METRONOME=0,TAILPROBE_HTTP1=undici), NAME=V+NAME=V for several at once, side by side' },
    { name: 'vegeta', type: 'string', value: 'PATH', help: 'vegeta binary (default: ../shared/tools/vegeta beside the repository, then PATH); a peer in every suite' },
    { name: 'out', type: 'string', value: 'FILE', help: 'JSON results file (default bench/results/bench-<time>.json)' },
  ],
  examples: ['npm run bench -- -quick', 'node dist/bench/run.js -suites=fidelity -rates=5000 -count=5'],
};

export function optionsFrom(argv: string[]): BenchOptions & { out: string; help: boolean } {
  const a = parseArgs(spec, argv);
  const quick = a.bool('quick');
  const suites = a.string('suites').split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of suites) if (!(SUITE_NAMES as readonly string[]).includes(s)) throw new UsageError(`bench: unknown suite "${s}" (have: ${SUITE_NAMES.join(', ')})`);
  const rates = a.string('rates').split(',').map((s) => Number(s.trim()));
  if (rates.some((r) => !Number.isFinite(r) || r <= 0)) throw new UsageError(`bench: invalid value "${a.string('rates')}" for flag -rates`);
  const count = a.has('count') ? a.number('count') : quick ? 1 : a.number('count');
  if (count < 1) throw new UsageError('bench: -count must be at least 1');
  const sec = (name: string, quickSec: number) => (a.has(name) || !quick ? a.number(name) / 1e9 : quickSec);
  for (const v of a.string('variants').split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!/^[A-Z_][A-Z0-9_]*=[^=+]*(\+[A-Z_][A-Z0-9_]*=[^=+]*)*$/.test(v)) throw new UsageError(`bench: invalid value "${v}" for flag -variants (want NAME=VALUE[+NAME=VALUE])`);
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return {
    help: a.help,
    quick,
    count,
    suites,
    connections: a.number('connections'),
    allWorkers: a.number('workers'),
    throughputSec: Math.max(1, Math.round(sec('duration', 3))),
    fidelitySec: Math.max(1, Math.round(sec('duration', 2))),
    rates,
    fidelityWorkers: a.number('fidelity-workers'),
    memorySec: a.bool('memory-long') && !a.has('memory-duration') ? 1800 : Math.max(3, Math.round(sec('memory-duration', 30))),
    memoryRate: a.number('memory-rate'),
    memoryWorkers: a.number('memory-workers'),
    memoryCount: a.has('memory-count') ? a.number('memory-count') : a.bool('memory-long') ? 1 : count,
    memoryPeer: a.has('memory-peer') || !quick ? a.bool('memory-peer') : false,
    warmupSec: a.number('warmup') / 1e9,
    analysisResults: a.has('analysis-results') || !quick ? a.number('analysis-results') : 1_000_000,
    analysisSmallResults: a.has('analysis-small') || !quick ? a.number('analysis-small') : 100_000,
    vegeta: a.string('vegeta'),
    variants: a.string('variants').split(',').map((s) => s.trim()).filter(Boolean),
    out: a.string('out') || join(REPO_ROOT, 'bench', 'results', `bench-${stamp}${quick ? '-quick' : ''}.json`),
  };
}

