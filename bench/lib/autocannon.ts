import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { runProcess, type ProcessRun } from './proc.js';

/**
 * autocannon (the Node peer), run through its own CLI in a separate process, exactly as a user would
 * run it, with --json. Caveat worth knowing when reading its numbers: autocannon records latency in
 * whole milliseconds, so on loopback its percentiles are 0 or 1 ms and cannot be compared at the
 * microsecond scale; its rate limiting (-R) paces each connection per second, not per request.
 */
export interface AutocannonSummary {
  connections: number;
  workers: number;
  durationSec: number;
  /** Requests that got a response. */
  requests: number;
  /** Responses with a 2xx status. */
  ok: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  /** ok / duration. */
  okPerSec: number;
  /** Latency percentiles in ns (autocannon's resolution is 1 ms). */
  latency: { mean: number; p50: number; p90: number; p99: number; max: number };
}

export function parseAutocannonJson(text: string): AutocannonSummary {
  // --json prints one JSON object on a line; a progress line or warning may precede it.
  const line = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('{'))
    .pop();
  if (!line) throw new Error(`autocannon: no JSON in output: ${text.trim().slice(0, 200) || '(empty)'}`);
  const j = JSON.parse(line) as Record<string, any>;
  const ms = (v: unknown) => (typeof v === 'number' ? v * 1e6 : NaN);
  const durationSec = Number(j.duration);
  const ok = Number(j['2xx'] ?? 0);
  return {
    connections: Number(j.connections),
    workers: Number(j.workers ?? 0),
    durationSec,
    requests: Number(j.requests?.total ?? 0),
    ok,
    errors: Number(j.errors ?? 0),
    timeouts: Number(j.timeouts ?? 0),
    non2xx: Number(j.non2xx ?? 0),
    okPerSec: durationSec > 0 ? ok / durationSec : NaN,
    latency: {
      mean: ms(j.latency?.mean),
      p50: ms(j.latency?.p50),
      p90: ms(j.latency?.p90),
      p99: ms(j.latency?.p99),
      max: ms(j.latency?.max),
    },
  };
}

/** autocannon's CLI script inside node_modules (resolved, so the bench runs from any directory). */
export function autocannonCli(): { script: string; version: string } {
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve('autocannon/package.json');
  const pkg = require(pkgPath) as { version: string };
  return { script: join(dirname(pkgPath), 'autocannon.js'), version: pkg.version };
}

export interface AutocannonRun {
  summary: AutocannonSummary;
  proc: ProcessRun;
  args: string[];
}

export async function runAutocannon(opts: {
  url: string;
  connections: number;
  durationSec: number;
  /** Worker threads (autocannon -w); 0 or absent = main thread only. Connections are split among them. */
  workers?: number;
  /** Overall rate limit (-R), req/s; absent = as fast as possible. */
  rate?: number;
  sampleMs?: number;
}): Promise<AutocannonRun> {
  const { script } = autocannonCli();
  const args = [script, '-c', String(opts.connections), '-d', String(opts.durationSec), '--json', '-n'];
  if (opts.workers && opts.workers > 0) args.push('-w', String(opts.workers));
  if (opts.rate !== undefined) args.push('-R', String(opts.rate));
  args.push(opts.url);
  const proc = await runProcess(process.execPath, args, {
    timeoutMs: (opts.durationSec + 30) * 1000,
    sampleMs: opts.sampleMs,
  });
  if (proc.code !== 0) throw new Error(`autocannon exited with ${proc.code ?? proc.signal}: ${proc.stderr.trim().split('\n').pop()}`);
  return { summary: parseAutocannonJson(proc.stdout), proc, args: args.slice(1) };
}
