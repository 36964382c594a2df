import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runProcess, type ProcessRun } from './proc.js';

/**
 * wrk (Debian's wrk 4.x, the C limit of an HTTP/1.1 closed-loop generator): how to run it and how to
 * read what it prints. Debian's wrk is not wrk2: it has no -R, so it cannot hold a constant rate.
 * For "the same load" we pace it with wrk's Lua `delay()` hook (see pacedScript), which wrk honours
 * with its millisecond event-loop timers; docs/benchmarks.md says what that does and does not compare.
 */
export const WRK_CANDIDATES = ['/usr/bin/wrk', '/usr/local/bin/wrk'];

export interface WrkSummary {
  threads: number;
  connections: number;
  requests: number;
  /** Wall time wrk reports for the run, seconds. */
  durationSec: number;
  /** wrk's "Requests/sec" (all responses over the run). */
  requestsPerSec: number;
  bytesRead: number;
  /** Latency in ns: wrk's mean/stdev/max and, with --latency, its 50/75/90/99 percentiles. */
  latency: { mean: number; stdev: number; max: number; p50?: number; p75?: number; p90?: number; p99?: number };
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  /** Responses that were not 2xx/3xx. */
  non2xx: number;
}

const TIME_NS: Record<string, number> = { us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
const BINARY: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

/** "83.84us" -> 83840 (ns). wrk prints times with us/ms/s/m/h units. */
export function parseWrkTime(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`wrk: cannot read time "${text}"`);
  return parseFloat(m[1]!) * TIME_NS[m[2]!]!;
}

/** "26.14MB" -> bytes (wrk uses powers of 1024). */
function parseBinary(text: string): number {
  const m = /^([\d.]+)(B|KB|MB|GB|TB)$/.exec(text.trim());
  if (!m) throw new Error(`wrk: cannot read size "${text}"`);
  return parseFloat(m[1]!) * BINARY[m[2]!]!;
}

/** Reads wrk's standard report (with or without --latency). Throws when the summary lines are missing. */
export function parseWrkOutput(text: string): WrkSummary {
  const header = /(\d+) threads and (\d+) connections/.exec(text);
  const total = /(\d+) requests in ([\d.]+(?:us|ms|s|m|h)), ([\d.]+(?:B|KB|MB|GB|TB)) read/.exec(text);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  if (!header || !total || !rps) throw new Error(`wrk: unexpected output: ${text.trim().split('\n')[0] || '(empty)'}`);
  const lat = /^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)\s+\S+%\s*$/m.exec(text);
  const latency: WrkSummary['latency'] = lat
    ? { mean: parseWrkTime(lat[1]!), stdev: parseWrkTime(lat[2]!), max: parseWrkTime(lat[3]!) }
    : { mean: NaN, stdev: NaN, max: NaN };
  const dist = /Latency Distribution\n((?:\s+\d+%\s+\S+\n?)+)/.exec(text);
  if (dist) {
    for (const line of dist[1]!.split('\n')) {
      const m = /^\s*(\d+)%\s+(\S+)/.exec(line);
      if (!m) continue;
      const key = `p${m[1]}` as 'p50' | 'p75' | 'p90' | 'p99';
      if (key === 'p50' || key === 'p75' || key === 'p90' || key === 'p99') latency[key] = parseWrkTime(m[2]!);
    }
  }
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  return {
    threads: parseInt(header[1]!, 10),
    connections: parseInt(header[2]!, 10),
    requests: parseInt(total[1]!, 10),
    durationSec: parseWrkTime(total[2]!) / 1e9,
    requestsPerSec: parseFloat(rps[1]!),
    bytesRead: parseBinary(total[3]!),
    latency,
    socketErrors: sock
      ? { connect: +sock[1]!, read: +sock[2]!, write: +sock[3]!, timeout: +sock[4]! }
      : { connect: 0, read: 0, write: 0, timeout: 0 },
    non2xx: non2xx ? parseInt(non2xx[1]!, 10) : 0,
  };
}

/**
 * A Lua script that makes each wrk connection wait `delayMs` after each response before its next
 * request: with C connections, about C * 1000 / (delayMs + latency) requests per second.
 */
export function pacedScript(delayMs: number): string {
  if (!Number.isInteger(delayMs) || delayMs < 1) throw new Error(`wrk: delay must be a whole number of ms >= 1, not ${delayMs}`);
  return `-- written by tailprobe's bench: pace each connection\nfunction delay()\n  return ${delayMs}\nend\n`;
}

/**
 * Connections and per-connection delay for a wrk run paced at about `rate` req/s: delay 10 ms per
 * connection (so a request of ~0.1-1 ms adds a few percent to the period) and as many connections as
 * the rate needs, compensating for the round trip with `cycleExtraMs`.
 */
export function pacedPlan(rate: number, cycleExtraMs = 0.3): { connections: number; delayMs: number } {
  const delayMs = 10;
  return { connections: Math.max(1, Math.round((rate * (delayMs + cycleExtraMs)) / 1000)), delayMs };
}

/** Connections that would have given `rate`, from a probe that gave `measured` on `connections`. */
export function calibratedConnections(connections: number, rate: number, measured: number): number {
  if (!(measured > 0)) return connections;
  return Math.max(1, Math.round((connections * rate) / measured));
}

export interface WrkRun {
  summary: WrkSummary;
  proc: ProcessRun;
  args: string[];
}

export async function runWrk(opts: {
  binary: string;
  url: string;
  threads: number;
  connections: number;
  durationSec: number;
  /** Per-connection delay between requests (wrk's Lua delay()); absent = closed loop, flat out. */
  delayMs?: number;
  workDir: string;
}): Promise<WrkRun> {
  const args = [`-t${opts.threads}`, `-c${opts.connections}`, `-d${opts.durationSec}s`, '--latency', '--timeout', '10s'];
  if (opts.delayMs !== undefined) {
    const script = join(opts.workDir, `wrk-delay-${opts.delayMs}ms.lua`);
    writeFileSync(script, pacedScript(opts.delayMs));
    args.push('-s', script);
  }
  args.push(opts.url);
  const proc = await runProcess(opts.binary, args, { timeoutMs: (opts.durationSec + 30) * 1000 });
  if (proc.code !== 0) throw new Error(`wrk exited with ${proc.code ?? proc.signal}: ${proc.stderr.trim() || proc.stdout.trim()}`);
  return { summary: parseWrkOutput(proc.stdout), proc, args };
}
