#!/usr/bin/env node
/**
 * What tailprobe/agent costs the service it watches: `node dist/bench/agent-overhead.js [flags]`.
 *
 * A Node service started fresh for every measurement in each variant, rotated within each
 * repetition so a noisy neighbour hits all of them alike. `-service=basic` (default) is a small
 * service (bench/agent-service.ts, the agent loaded with `--import tailprobe/agent`);
 * `-service=lookup` is the demo's lookup service (examples/lookup/server.js, which starts the agent
 * from code; `-lookup-flags` selects its configuration, by default the fixed one: pooled buffers,
 * RWMutex, a writer every second).
 *
 *   none     no agent (the baseline)
 *   idle     the agent without per-request records (TAILPROBE_AGENT_REQUESTS=off), nobody profiling
 *            (GC observer, delay histogram, stall timer)
 *   records  the agent as it runs by default: idle plus per-request records (diagnostics channels,
 *            AsyncLocalStorage, the ring, lock waits per request)
 *   records-nowaits  per-request records without the lock-wait attribution (TAILPROBE_AGENT_LOCK_WAITS=off:
 *            no AsyncLocalStorage store per request)
 *   cpu      the agent with a CPU profile running through the measurement (V8 sampler at 1 kHz)
 *   allocs   the agent with allocation sampling running through the measurement (V8 heap sampler)
 *
 * Figures: CPU the idle service burns per second; max throughput (wrk, closed loop; autocannon if
 * wrk is missing) and the service's CPU per request in that run; latency percentiles at a fixed
 * rate (tailprobe attack, open model, HDR percentiles). Each is min/median/max over repetitions,
 * with the paired ratio to `none`. Numbers on a shared 2-core machine are noisy: read the ratios,
 * not the absolutes, and never gate on them. Writes everything to bench/results/agent-overhead-*.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { parseArgs, formatHelp, type CommandSpec } from '../src/cli/flags.js';
import { findTool } from '../support/tools.js';
import { REPO_ROOT } from '../support/paths.js';
import { runAutocannon } from './lib/autocannon.js';
import { describeMachine, load1 } from './lib/machine.js';
import { processCpuSec, runProcess, spawnTracked } from './lib/proc.js';
import { pairedRatios, spread, type Spread } from './lib/stats.js';
import { markdownTable } from './lib/table.js';
import { runWrk, WRK_CANDIDATES } from './lib/wrk.js';

const spec: CommandSpec = {
  name: 'agent-overhead',
  summary: 'Cost of tailprobe/agent to a Node service: idle, and while profiling',
  usage: '[flags]',
  flags: [
    { name: 'count', type: 'int', default: 3, help: 'Repetitions of every figure' },
    { name: 'duration', type: 'duration', default: '5s', help: 'Each throughput and latency run' },
    { name: 'idle', type: 'duration', default: '5s', help: 'Idle window for the idle-CPU figure' },
    { name: 'rate', type: 'int', default: 1000, help: 'Fixed rate of the latency runs, req/s' },
    { name: 'connections', type: 'int', default: 32, help: 'Connections of the throughput runs' },
    { name: 'variants', type: 'string', default: 'none,idle,records,cpu,allocs', help: 'Which variants' },
    { name: 'service', type: 'string', default: 'basic', help: 'basic (bench/agent-service.ts) or lookup (examples/lookup)' },
    { name: 'lookup-flags', type: 'string', default: '--alloc=pool --lock=rwmutex --entries=50000', help: 'Flags of the lookup service' },
    { name: 'out', type: 'string', help: 'Results file (default bench/results/agent-overhead-<time>.json)' },
  ],
};

type Variant = 'none' | 'idle' | 'records' | 'records-nowaits' | 'cpu' | 'allocs';
type ServiceKind = 'basic' | 'lookup';
const SERVICE = join(REPO_ROOT, 'dist', 'bench', 'agent-service.js');
const LOOKUP = join(REPO_ROOT, 'dist', 'examples', 'lookup', 'server.js');
/** What the load asks each service for. */
const PATHS: Record<ServiceKind, string> = { basic: '/', lookup: '/api/lookup?key=k0000042' };
const CLI = join(REPO_ROOT, 'bin', 'tailprobe.js');

interface Service {
  url: string;
  agentUrl: string | null;
  pid: number;
  stop: () => void;
}

function startService(variant: Variant, kind: ServiceKind, lookupFlags: string): Promise<Service> {
  const withAgent = variant !== 'none';
  // Records are on by default; every variant but `records` (and those profiling) runs without them.
  const requests = variant === 'idle' ? 'off' : 'on';
  const env = { ...process.env, TAILPROBE_AGENT_REQUESTS: requests, TAILPROBE_AGENT_LOCK_WAITS: variant === 'records-nowaits' ? 'off' : 'on', EXIT_AFTER_MS: '300000' };
  const args = kind === 'lookup'
    ? [LOOKUP, '--port', '0', '--pprof', withAgent ? '0' : 'off', ...lookupFlags.split(/\s+/).filter(Boolean)]
    : withAgent ? ['--import', 'tailprobe/agent', SERVICE] : [SERVICE];
  const child = spawnTracked(process.execPath, args, {
    cwd: REPO_ROOT,
    env: kind === 'lookup' ? { ...env, TAILPROBE_AGENT: 'off' } : { ...env, TAILPROBE_AGENT: withAgent ? '127.0.0.1:0' : 'off' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`service (${variant}) did not start: ${out}`));
    }, 15_000);
    const check = () => {
      const lookup = /lookup ready url=(\S+) pprof=(\S+)/.exec(out);
      const url = lookup?.[1] ?? /listening on (http:\/\/\S+)/.exec(out)?.[1];
      const agentUrl = (lookup ? (lookup[2] === 'off' ? null : lookup[2]) : /profiling endpoints on (http:\/\/[^/\s]+)/.exec(out)?.[1]) ?? null;
      if (url && (!withAgent || agentUrl)) {
        clearTimeout(timer);
        resolve({ url, agentUrl, pid: child.pid!, stop: () => child.kill('SIGKILL') });
      }
    };
    child.stdout!.on('data', (d: Buffer) => ((out += d), check()));
    child.stderr!.on('data', (d: Buffer) => ((out += d), check()));
    child.on('exit', (code) => reject(new Error(`service (${variant}) exited (${code}): ${out}`)));
  });
}

/** Starts a profile on the agent for `seconds`; resolves with the response size when it ends. */
function profileRequest(agentUrl: string, variant: Variant, seconds: number): Promise<number> {
  const path = variant === 'cpu' ? `/debug/pprof/profile?seconds=${seconds}` : `/debug/pprof/allocs?seconds=${seconds}`;
  return new Promise((resolve, reject) => {
    request(`${agentUrl}${path}`, (res) => {
      let n = 0;
      res.on('data', (d: Buffer) => (n += d.length));
      res.on('end', () => (res.statusCode === 200 ? resolve(n) : reject(new Error(`${path}: HTTP ${res.statusCode}`))));
    }).on('error', reject).end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Figures {
  idleCpuPct?: number;
  reqPerSec: number;
  cpuUsPerReq: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  profileBytes?: number;
  /** 1-minute load average before and after (a noisy neighbour shows here). */
  load: [number, number];
}

interface MeasureOptions {
  durationSec: number;
  idleSec: number;
  rate: number;
  connections: number;
  wrk: string | null;
  dir: string;
  service: ServiceKind;
  lookupFlags: string;
}

async function measure(variant: Variant, o: MeasureOptions): Promise<Figures> {
  const loadBefore = load1();
  const svc = await startService(variant, o.service, o.lookupFlags);
  const target = `${svc.url}${PATHS[o.service]}`;
  try {
    await sleep(500);
    let idleCpuPct: number | undefined;
    if (variant === 'none' || variant === 'idle' || variant === 'records' || variant === 'records-nowaits') {
      const c0 = processCpuSec(svc.pid);
      await sleep(o.idleSec * 1000);
      idleCpuPct = ((processCpuSec(svc.pid) - c0) / o.idleSec) * 100;
    }
    // Each profiled run gets its own profile window covering it (and a little on each side).
    const profiled = (seconds: number) => (variant === 'cpu' || variant === 'allocs' ? profileRequest(svc.agentUrl!, variant, seconds) : Promise.resolve(0));

    // Warm the JIT so the first variant measured is not penalized.
    await runProcess(process.execPath, [CLI, 'attack', '-rate=500', '-duration=1s', '-output=/dev/null', '-quiet'], { timeoutMs: 20_000, input: `GET ${target}\n` });

    let prof = profiled(o.durationSec + 2);
    await sleep(300);
    const c0 = processCpuSec(svc.pid);
    let reqPerSec: number;
    let requests: number;
    if (o.wrk) {
      const w = await runWrk({ binary: o.wrk, url: target, threads: 1, connections: o.connections, durationSec: o.durationSec, workDir: o.dir });
      reqPerSec = w.summary.requestsPerSec;
      requests = w.summary.requests;
    } else {
      const a = await runAutocannon({ url: target, connections: o.connections, durationSec: o.durationSec });
      reqPerSec = a.summary.okPerSec;
      requests = a.summary.requests;
    }
    const cpuUsPerReq = ((processCpuSec(svc.pid) - c0) * 1e6) / requests;
    const profileBytes = await prof;

    prof = profiled(o.durationSec + 2);
    await sleep(300);
    const results = join(o.dir, `${variant}-latency.bin`);
    const att = await runProcess(
      process.execPath,
      [CLI, 'attack', `-rate=${o.rate}`, `-duration=${o.durationSec}s`, `-output=${results}`, '-quiet'],
      { timeoutMs: (o.durationSec + 60) * 1000, input: `GET ${target}\n` },
    );
    if (att.code !== 0) throw new Error(`tailprobe attack failed: ${att.stderr.trim()}`);
    const rep = await runProcess(process.execPath, [CLI, 'report', '-type=json', results], { timeoutMs: 60_000 });
    if (rep.code !== 0) throw new Error(`tailprobe report failed: ${rep.stderr.trim()}`);
    const lat = (JSON.parse(rep.stdout) as { latencies: Record<string, number> }).latencies;
    await prof;
    return { idleCpuPct, reqPerSec, cpuUsPerReq, p50: lat['50th']!, p99: lat['99th']!, p999: lat['99.9th']!, max: lat.max!, profileBytes, load: [loadBefore, load1()] };
  } finally {
    svc.stop();
  }
}

function fmtSpread(s: Spread, f: (x: number) => string): string {
  if (s.n === 0) return '-';
  return s.n === 1 ? f(s.median) : `${f(s.median)} (${f(s.min)}..${f(s.max)})`;
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(spec, argv);
  if (args.help) {
    process.stdout.write(formatHelp(spec));
    return 0;
  }
  const variants = args.string('variants').split(',').map((s) => s.trim()) as Variant[];
  const count = args.number('count');
  const o = {
    durationSec: Math.max(1, Math.round(args.number('duration') / 1e9)),
    idleSec: Math.max(1, Math.round(args.number('idle') / 1e9)),
    rate: args.number('rate'),
    connections: args.number('connections'),
    wrk: findTool('wrk', WRK_CANDIDATES),
    dir: join(REPO_ROOT, 'bench', 'results', 'agent-overhead-tmp'),
    service: args.string('service') as ServiceKind,
    lookupFlags: args.string('lookup-flags'),
  };
  if (o.service !== 'basic' && o.service !== 'lookup') throw new Error(`-service must be basic or lookup, got "${o.service}"`);
  mkdirSync(o.dir, { recursive: true });
  const machine = describeMachine();
  const runs: Record<string, Figures[]> = Object.fromEntries(variants.map((v) => [v, []]));
  for (let rep = 0; rep < count; rep++) {
    // Rotate the order each repetition: no variant always goes first (or last) on a drifting machine.
    const order = variants.map((_, i) => variants[(i + rep) % variants.length]!);
    for (const v of order) {
      process.stderr.write(`[${rep + 1}/${count}] ${v}...\n`);
      // A shared machine where others rebuild dist/ can break one run; retry it rather than lose the rest.
      for (let attempt = 1; ; attempt++) {
        try {
          runs[v]!.push(await measure(v, o));
          break;
        } catch (err) {
          if (attempt >= 3) throw err;
          process.stderr.write(`  retrying (${(err as Error).message.split('\n')[0]})\n`);
          await sleep(3000);
        }
      }
    }
  }
  const base = runs.none ?? [];
  const ratio = (v: Variant, k: keyof Figures) =>
    spread(pairedRatios(runs[v]!.map((f) => f[k] as number), base.map((f) => f[k] as number)));
  const ms = (ns: number) => `${(ns / 1e6).toFixed(2)}ms`;
  const pct = (x: number) => `${x.toFixed(2)}%`;
  const times = (x: number) => `${x.toFixed(3)}x`;
  const rows = variants.map((v) => {
    const s = (k: keyof Figures) => spread(runs[v]!.map((f) => f[k] as number).filter((x) => x !== undefined));
    return [
      v,
      fmtSpread(s('idleCpuPct'), pct),
      fmtSpread(s('reqPerSec'), (x) => x.toFixed(0)),
      v === 'none' ? '1' : fmtSpread(ratio(v, 'reqPerSec'), times),
      fmtSpread(s('cpuUsPerReq'), (x) => `${x.toFixed(1)}µs`),
      v === 'none' ? '1' : fmtSpread(ratio(v, 'cpuUsPerReq'), times),
      fmtSpread(s('p50'), ms),
      fmtSpread(s('p99'), ms),
      v === 'none' ? '1' : fmtSpread(ratio(v, 'p99'), times),
      fmtSpread(s('p999'), ms),
    ];
  });
  const table = markdownTable(
    ['variant', 'idle CPU (of a core)', 'max req/s', 'vs none', 'CPU per request', 'vs none', `p50 @${o.rate}/s`, 'p99', 'vs none', 'p99.9'],
    rows,
  );
  // The records' own cost: the agent with them against the agent without them, paired by repetition.
  let recordsLine = '';
  for (const [v, what] of [['records', 'the per-request records alone'], ['records-nowaits', 'records without lock-wait attribution']] as const) {
    const mine = runs[v];
    if (!mine || !runs.idle) continue;
    const vs = (k: keyof Figures) => spread(pairedRatios(mine.map((f) => f[k] as number), runs.idle!.map((f) => f[k] as number)));
    recordsLine += `\n${v} vs idle (${what}): max req/s ${fmtSpread(vs('reqPerSec'), times)}, CPU per request ${fmtSpread(vs('cpuUsPerReq'), times)}, p99 ${fmtSpread(vs('p99'), times)}\n`;
  }
  const loads = Object.values(runs).flat().flatMap((f) => f.load);
  process.stdout.write(`Agent overhead on the ${o.service === 'lookup' ? `lookup service (${o.lookupFlags})` : 'basic service'} (${count} repetitions; median (min..max); ratios paired by repetition)\n` +
    `machine: ${machine.cores} cores, ${machine.cpuModel}, Node ${machine.node}, commit ${machine.commit}; 1-min load during the runs ${Math.min(...loads)}..${Math.max(...loads)}\n` +
    `throughput: ${o.wrk ? 'wrk -t1' : 'autocannon'} -c${o.connections}, ${o.durationSec}s; latency: tailprobe attack -rate=${o.rate} -duration=${o.durationSec}s\n\n${table}\n${recordsLine}`);
  const out = args.string('out') || join(REPO_ROOT, 'bench', 'results', `agent-overhead-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(out, JSON.stringify({ machine, options: o, runs }, null, 1));
  process.stderr.write(`results: ${out}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`agent-overhead: ${err.message}\n`);
    process.exit(1);
  },
);
