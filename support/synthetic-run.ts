import { createWriteStream } from 'node:fs';
import { createResultWriter } from '../src/results/writer.js';
import type { Result, RunEvent, RunMeta } from '../src/results/result.js';
import { Rng } from '../src/compare/rng.js';
import { result } from './results.js';

/**
 * A synthetic open-model run with a tail worth looking at, for plot tests and the plot benchmark:
 * lognormal service times, a stop-the-world pause every `pauseEvery` seconds that delays every
 * request scheduled during it (the lurch), a few fast 500s and some timeouts. The pauses are also
 * returned as agent GC events, so lurch and pause should line up in the picture.
 */
export interface SyntheticOptions {
  count: number;
  /** Requests per second. */
  rate: number;
  name?: string;
  start?: bigint;
  seed?: number;
  /** Median service time, ms. Default 2. */
  medianMs?: number;
  /** Seconds between pauses; 0 for none. Default 5. */
  pauseEvery?: number;
  /** Pause length, ms. Default 250. */
  pauseMs?: number;
  /** Fraction of fast 500s. Default 0.002. */
  errorRatio?: number;
  batch?: number;
}

/** Uniform [0, 1) numbers from tailprobe's own seeded generator (src/compare/rng.ts). */
export function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

export function syntheticEvents(o: SyntheticOptions): RunEvent[] {
  const start = o.start ?? 1_700_000_000_000_000_000n;
  const every = o.pauseEvery ?? 5;
  const pauseNs = (o.pauseMs ?? 250) * 1e6;
  const durS = o.count / o.rate;
  const ev: RunEvent[] = [];
  if (every > 0) {
    for (let t = every; t < durS; t += every) {
      ev.push({ kind: 'gc', start: start + BigInt(Math.round(t * 1e9)), duration: pauseNs, detail: 'mark-sweep-compact' });
    }
  }
  for (let t = 1.3; t < durS; t += 2.7) {
    ev.push({ kind: 'stall', start: start + BigInt(Math.round(t * 1e9)), duration: 12e6, detail: 'sync JSON.parse' });
    ev.push({ kind: 'gc', start: start + BigInt(Math.round((t + 0.4) * 1e9)), duration: 1.5e6, detail: 'scavenge' });
  }
  return ev;
}

/** The results, in batches, in (roughly) completion order like a real results file. */
export function* syntheticBatches(o: SyntheticOptions): Generator<Result[]> {
  const rand = rng(o.seed ?? 42);
  const start = o.start ?? 1_700_000_000_000_000_000n;
  const intervalNs = 1e9 / o.rate;
  const every = (o.pauseEvery ?? 5) * 1e9;
  const pauseNs = (o.pauseMs ?? 250) * 1e6;
  const medianNs = (o.medianMs ?? 2) * 1e6;
  const errorRatio = o.errorRatio ?? 0.002;
  const batchSize = o.batch ?? 10_000;
  const name = o.name ?? 'synthetic';
  let batch: Result[] = [];
  for (let i = 0; i < o.count; i++) {
    const t = i * intervalNs;
    // Box-Muller normal -> lognormal service time.
    const z = Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
    let latency = medianNs * Math.exp(0.45 * z);
    if (every > 0) {
      const inCycle = t % every;
      if (t >= every && inCycle < pauseNs) latency += pauseNs - inCycle; // waited out the pause
    }
    let code = 200;
    let error = '';
    const r = rand();
    if (r < errorRatio) {
      code = 500;
      latency = medianNs * 0.3;
    } else if (r < errorRatio * 1.25) {
      code = 0;
      latency = 1e9;
      error = 'Get "http://127.0.0.1:8080/": context deadline exceeded';
    }
    batch.push(result(i, Math.round(latency), {
      attack: name,
      code,
      timestamp: start + BigInt(Math.round(t)),
      sendLag: Math.round(20_000 + rand() * 50_000),
      bytesIn: code === 200 ? 512 : 0,
      error,
      url: 'http://127.0.0.1:8080/api/lookup',
    }));
    if (batch.length >= batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

export function syntheticMeta(o: SyntheticOptions): RunMeta {
  const start = o.start ?? 1_700_000_000_000_000_000n;
  return {
    info: {
      name: o.name ?? 'synthetic',
      pacer: `${o.rate}/1s`,
      rate: o.rate,
      maxMode: false,
      duration: Math.round((o.count / o.rate) * 1e9),
      targets: ['GET http://127.0.0.1:8080/api/lookup'],
      targetCount: 1,
      workers: 1,
      connections: 64,
      startedAt: start,
      version: 'test',
    },
    health: { cpuPercent: 31, cores: 2, eventLoopP99: 1.2e6, eventLoopMax: 4e6, unsent: 0, ended: 'completed' },
    events: syntheticEvents(o),
  };
}

/** Writes a synthetic run as a tailprobe binary results file (with run info, health and agent events). */
export async function writeSyntheticFile(path: string, o: SyntheticOptions): Promise<void> {
  const out = createWriteStream(path);
  const w = createResultWriter(out, 'binary');
  const meta = syntheticMeta(o);
  w.writeMeta({ info: meta.info });
  for (const b of syntheticBatches(o)) {
    for (const r of b) w.write(r);
    await w.drained();
  }
  w.writeMeta({ health: meta.health, events: meta.events });
  await w.close();
}
