import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Nginx } from './nginx.js';
import { load1 } from './machine.js';
import { steadyWindow, watchServer } from './server-rate.js';
import { cpuCoresBetween, type ProcessRun } from './proc.js';
import { pairedRatios, spread, type Spread } from './stats.js';

/** Everything a suite needs: options, the tools found, the server, a scratch directory, a logger. */
export interface BenchOptions {
  quick: boolean;
  count: number;
  suites: string[];
  /** Connections for max-throughput runs and for fixed-rate runs (all tools alike). */
  connections: number;
  /** Worker count of the "all workers" configuration (default: the cores available). */
  allWorkers: number;
  throughputSec: number;
  fidelitySec: number;
  rates: number[];
  /** Workers (threads, cores) of every tool in the fidelity suite. */
  fidelityWorkers: number;
  memorySec: number;
  memoryRate: number;
  memoryWorkers: number;
  /** Run the memory suite this many times (it is long); defaults to count. */
  memoryCount: number;
  /** Run autocannon at the same rate and for as long, as the peer of the memory figures. */
  memoryPeer: boolean;
  /** Seconds of traffic skipped before the server-side steady-state window. */
  warmupSec: number;
  /** vegeta binary given with -vegeta ('' = look for it). */
  vegeta: string;
  /** Analysis suite: results in the big and the small file. */
  analysisResults: number;
  analysisSmallResults: number;
  /** Fidelity: tailprobe also run with each of these NAME=VALUE environment settings. */
  variants: string[];
}

export interface Tools {
  nginx: string;
  wrk: string | null;
  vegeta: string | null;
  autocannonVersion: string;
  wrkVersion: string;
}

export interface Ctx {
  opts: BenchOptions;
  tools: Tools;
  nginx: Nginx;
  workDir: string;
  log(line: string): void;
}

/** One tool run: its figures (NaN where unknown) and the conditions it ran in. */
export interface RunRecord {
  suite: string;
  /** e.g. "1 worker", "5000 req/s". */
  config: string;
  tool: string;
  rep: number;
  ok: boolean;
  error?: string;
  figures: Record<string, number>;
  /** 1-minute load average before and after the run. */
  load: [number, number];
  args?: string[];
  /** What the tool itself warned about (tailprobe's report warnings). */
  notes?: string[];
  /** Resident memory over the run, [ms since start, bytes] (memory suite). */
  rss?: Array<[number, number]>;
}

export function scratchDir(): string {
  return mkdtempSync(join(tmpdir(), 'tailprobe-bench-'));
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits (up to 30 s) until nginx holds no client connection and has stopped serving: a peer that
 * overran the server (vegeta at 50k req/s opens thousands of connections and times them out) must
 * not leave its backlog to be served during the next tool's run, which would measure the leftover.
 */
async function drained(ctx: Ctx): Promise<void> {
  const t0 = performance.now();
  let open = NaN;
  let last = NaN;
  while (performance.now() - t0 < 30_000) {
    try {
      open = await ctx.nginx.connections();
      const served = (await ctx.nginx.requests()).requests;
      if (open <= 0 && served === last) break;
      last = served;
    } catch {
      /* a slow status answer is a busy server: keep waiting */
    }
    await pause(200);
  }
  const waited = performance.now() - t0;
  if (waited > 1000) ctx.log(`    waited ${(waited / 1000).toFixed(1)}s for nginx to drain (${Number.isNaN(open) ? '?' : open} connection(s) still open)`);
}

/**
 * Runs one tool while the server counts what it serves; returns a record with the server-side
 * steady-state rate and the nginx worker's CPU next to the figures the tool reports. A failing run
 * is recorded (with its error) and the suite goes on: one broken peer must not void the others.
 */
export async function measure(
  ctx: Ctx,
  at: { suite: string; config: string; tool: string; rep: number },
  run: () => Promise<{ figures: Record<string, number>; args?: string[]; notes?: string[]; rss?: Array<[number, number]>; proc?: ProcessRun }>,
): Promise<RunRecord> {
  const before = load1();
  const nginxCpu0 = ctx.nginx.workerCpuSec();
  const watcher = watchServer(ctx.nginx);
  let figures: Record<string, number> = {};
  let error: string | undefined;
  let args: string[] | undefined;
  let notes: string[] | undefined;
  let rss: Array<[number, number]> | undefined;
  let proc: ProcessRun | undefined;
  const t0 = performance.now();
  try {
    ({ figures, args, notes, rss, proc } = await run());
  } catch (err) {
    error = (err as Error).message.split('\n')[0];
  }
  const samples = await watcher.stop();
  const wallSec = (performance.now() - t0) / 1000;
  const w = steadyWindow(samples, { skipMs: ctx.opts.warmupSec * 1000 });
  const serverRate = w ? ((w.end.requests - w.start.requests) * 1000) / (w.end.at - w.start.at) : NaN;
  // The tool's CPU over the same steady window: cores, and CPU time per request served.
  const steadyCores = w && proc ? cpuCoresBetween(proc.samples, w.start.at, w.end.at) : NaN;
  const rec: RunRecord = {
    ...at,
    ok: error === undefined,
    error,
    figures: {
      ...figures,
      serverRate,
      steadyCores,
      cpuUsPerRequest: (steadyCores * 1e6) / serverRate,
      nginxCpuCores: (ctx.nginx.workerCpuSec() - nginxCpu0) / wallSec,
    },
    load: [before, load1()],
    args,
    notes: notes?.length ? notes : undefined,
    rss,
  };
  ctx.log(
    `  ${at.config.padEnd(14)} ${at.tool.padEnd(16)} rep ${at.rep + 1}: ` +
      (rec.ok ? `server ${Math.round(rec.figures.serverRate!)} req/s` : `FAILED: ${error}`) +
      ` (load ${before} -> ${rec.load[1]})`,
  );
  for (const note of rec.notes ?? []) ctx.log(`    ${at.tool} warns: ${note}`);
  await pause(500); // let sockets close and the CPU settle before the next tool
  await drained(ctx);
  return rec;
}

/** A figure over the repetitions of one tool in one configuration, by repetition (NaN if missing). */
export function byRep(runs: RunRecord[], config: string, tool: string, figure: string, count: number): number[] {
  const out = new Array<number>(count).fill(NaN);
  for (const r of runs) {
    if (r.config === config && r.tool === tool && r.ok && r.rep < count) out[r.rep] = r.figures[figure] ?? NaN;
  }
  return out;
}

export function figureSpread(runs: RunRecord[], config: string, tool: string, figure: string, count: number): Spread {
  return spread(byRep(runs, config, tool, figure, count));
}

/** Paired ratio spread: tool a's figure over tool b's, repetition by repetition. */
export function ratioSpread(runs: RunRecord[], config: string, a: [string, string], b: [string, string], count: number): Spread {
  return spread(pairedRatios(byRep(runs, config, a[0], a[1], count), byRep(runs, config, b[0], b[1], count)));
}

/**
 * The 1-minute load average around the runs of one tool in one configuration: the lowest and the
 * highest seen just before or just after any of its repetitions ("2.1..3.4"), so every row of a
 * table says how busy the shared machine was while it was measured.
 */
export function loadAround(runs: RunRecord[], config: string, tool: string): string {
  const xs = runs.filter((r) => r.config === config && r.tool === tool).flatMap((r) => r.load);
  if (xs.length === 0) return 'n/a';
  const lo = Math.min(...xs).toFixed(1);
  const hi = Math.max(...xs).toFixed(1);
  return lo === hi ? lo : `${lo}..${hi}`;
}

/** Rotate the order of tools each repetition, so no tool always runs first (or last) on a drifting machine. */
export function rotated<T>(items: readonly T[], rep: number): T[] {
  const k = rep % Math.max(1, items.length);
  return [...items.slice(k), ...items.slice(0, k)];
}
