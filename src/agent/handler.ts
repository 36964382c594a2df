import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Profile } from 'pprof-format';
import { perfToWallNs, wallClockNs } from '../time/wall.js';
import { parseNsParam } from './params.js';
import { captureContentionProfile } from './contention.js';
import type { EventLoopMonitor } from './eventloop.js';
import { gcKindName, type GcRecorder } from './gc.js';
import { BusyError, captureCpuProfile, captureHeapProfile } from './profilers.js';
import type { RequestRecorder } from './requests.js';
import { authorize } from './security.js';
import { RECORDS_FORMAT, type AgentIndexJson } from '../profile/records.js';

/**
 * The agent's HTTP surface: Go's /debug/pprof paths (so `go tool pprof URL` and `tailprobe profile`
 * work unchanged) and /debug/tailprobe/* (docs/records-format.md): per-request records, GC pauses,
 * event-loop stalls and CPU samples with their times.
 */

/** Response header naming the agent and its version (clients tell Node from Go by it). */
export const AGENT_HEADER = 'X-Tailprobe-Agent';

export interface ResolvedAgentOptions {
  token: string | undefined;
  /** Longest window a request may ask for, s. */
  maxSeconds: number;
  cpuIntervalUs: number;
  heapIntervalBytes: number;
  /** Window for heap/allocs when the request gives none, s. */
  defaultHeapSeconds: number;
}

export interface AgentContext {
  options: ResolvedAgentOptions;
  gc: GcRecorder;
  loop: EventLoopMonitor;
  /** null when per-request records are off (or this Node cannot record them). */
  requests: RequestRecorder | null;
}

let versionCache: string | null = null;
export function agentVersion(): string {
  if (versionCache === null) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
      versionCache = pkg.version ?? 'dev';
    } catch {
      versionCache = 'dev';
    }
  }
  return versionCache;
}

/** The X-Tailprobe-Agent value and the index's `agent`: `node/<version>`, as the Go companion says `go/<version>`. */
export function agentId(): string {
  return `node/${agentVersion()}`;
}

const gzipAsync = promisify(gzip);

/** Go's serveError: text/plain, and X-Go-Pprof so `go tool pprof` shows our message. */
function serveError(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('X-Go-Pprof', '1');
  res.removeHeader('Content-Disposition');
  res.end(`${text}\n`);
}

/**
 * Streams /debug/tailprobe/requests: up to the whole ring (100 000 records, tens of MB of JSON) in
 * slices of 1000 records, yielding to the event loop between slices and waiting for the socket to
 * drain, so reading the records never stalls the service they describe. The counters go last, so
 * they include anything overwritten while the answer was being written.
 */
async function sendRequests(rec: RequestRecorder, res: ServerResponse, since: bigint | undefined, until: bigint | undefined, signal: AbortSignal): Promise<void> {
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/json');
  const now = wallClockNs();
  const { first, last } = rec.window();
  const head = `{"format":${JSON.stringify(RECORDS_FORMAT)},"now":"${now}","recordingSince":"${perfToWallNs(rec.startedAt)}","capacity":${rec.capacity},"requests":[`;
  let out = head;
  let n = 0;
  for (let tag = first; tag <= last; tag++) {
    const r = rec.recordJson(tag, since, until);
    if (r !== null) out += `${n++ === 0 ? '\n' : ',\n'}${JSON.stringify(r)}`;
    if ((tag - first) % 1000 === 999) {
      if (signal.aborted) return;
      const more = res.write(out);
      out = '';
      await new Promise<void>((resolve) => {
        if (more) return void setImmediate(resolve);
        // A client that goes away while the socket is full never drains it: 'close' ends the wait.
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.once('drain', done);
        res.once('close', done);
      });
    }
  }
  if (signal.aborted) return;
  res.end(`${out}\n],"recorded":${rec.recorded},"dropped":${rec.dropped}}\n`);
}

function sendJson(res: ServerResponse, body: unknown, compact = false): void {
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), compact ? undefined : 1));
}

function indexJson(ctx: AgentContext): AgentIndexJson {
  const records = ctx.requests !== null;
  return {
    format: RECORDS_FORMAT,
    agent: agentId(),
    runtime: `node ${process.version}`,
    pid: process.pid,
    now: wallClockNs().toString(),
    endpoints: [
      '/debug/pprof/',
      ...(records ? ['/debug/tailprobe/requests'] : []),
      '/debug/tailprobe/gc',
      '/debug/tailprobe/eventloop',
      '/debug/tailprobe/cpu',
    ],
    features: [
      ...(records ? ['requests'] : []),
      ...(records && ctx.requests!.lockWaits ? ['lock-waits'] : []),
      'gc',
      'stalls',
      'cpu-samples',
    ],
  };
}

async function sendProfile(res: ServerResponse, p: Profile, name: string, debug: boolean): Promise<void> {
  if (debug) {
    const { topTable } = await import('../profile/top.js');
    const { headline } = await import('../profile/summary.js');
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end(`${topTable(p, { n: 50 })}\n${headline(p)}\n`);
    return;
  }
  const body = await gzipAsync(await p.encodeAsync());
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/octet-stream');
  res.setHeader('Content-Disposition', `attachment; filename="${name}"`);
  res.end(body);
}

class BadRequest extends Error {}

/**
 * `seconds`: absent -> `dflt` (undefined = no window); present -> a positive number no larger than
 * the agent's bound (a 1-hour CPU profile asked by mistake would cost the service for an hour).
 */
function seconds(url: URL, dflt: number | undefined, max: number): number | undefined {
  const raw = url.searchParams.get('seconds');
  if (raw === null || raw === '') return dflt;
  const s = Number(raw);
  if (!Number.isFinite(s) || s <= 0) throw new BadRequest('invalid value for "seconds" - must be a positive number');
  if (s > max) throw new BadRequest(`"seconds" must be at most ${max} (the agent's limit)`);
  return s;
}

function boolParam(url: URL, name: string): boolean {
  const v = url.searchParams.get(name);
  return v !== null && v !== '' && v !== '0' && v !== 'false';
}

const PROFILES: Array<[string, string]> = [
  ['profile', 'CPU profile of the JavaScript thread (V8 sampling profiler). ?seconds=N (default 30).'],
  ['heap', 'Sampled V8 heap: objects allocated during ?seconds=N (default 10) still live at its end; ?gc=1 collects first.'],
  ['allocs', 'Sampled V8 allocations during ?seconds=N (default 10), including objects already collected.'],
  ['block', 'Time waiting for tailprobe/sync locks, by call site. ?seconds=N for a window.'],
  ['mutex', 'Time contended tailprobe/sync locks were held, by call site. ?seconds=N for a window.'],
];

function indexPage(): string {
  const rows = PROFILES.map(([n, d]) => `<tr><td><a href="${n}?debug=1">${n}</a></td><td>${d}</td></tr>`).join('\n');
  return `<html>
<head><title>/debug/pprof/</title></head>
<body>
/debug/pprof/ (tailprobe agent ${agentVersion()}, Node.js ${process.version}, pid ${process.pid})<br>
<p>Set debug=1 as a query parameter to see a top table as text; without it, profiles are gzipped pprof protobuf,
for go tool pprof, tailprobe pprof or speedscope. Example: <a href="profile?seconds=30">profile?seconds=30</a></p>
Types of profiles available:
<table>
<thead><td>Profile</td><td>What</td></thead>
${rows}
</table>
<p>tailprobe records (JSON, <a href="../tailprobe/">../tailprobe/</a>): <a href="../tailprobe/requests">requests</a> (one per
HTTP request: trace ids, times, lock waits), <a href="../tailprobe/gc">gc</a> (each GC pause),
<a href="../tailprobe/eventloop">eventloop</a> (delay histogram, stalls); ?since=NS&amp;until=NS (epoch ns);
cpu?seconds=N (CPU samples with their times).</p>
</body>
</html>
`;
}

/**
 * Returns a handler that serves /debug/pprof/* and /debug/tailprobe/* and answers `false` for any
 * other path (left to the service when mounted on its server).
 */
export function createAgentHandler(ctx: AgentContext): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const raw = req.url ?? '/';
    if (!raw.startsWith('/debug/pprof') && !raw.startsWith('/debug/tailprobe')) return false;
    let url: URL;
    try {
      url = new URL(raw, 'http://agent');
    } catch {
      return false;
    }
    const path = url.pathname;
    if (!/^\/debug\/(pprof|tailprobe)(\/|$)/.test(path)) return false;
    res.setHeader(AGENT_HEADER, agentId());
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    const verdict = authorize(req, url, ctx.options.token);
    if (!verdict.ok) {
      serveError(res, verdict.status, verdict.message);
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      serveError(res, 405, 'method not allowed: use GET');
      return true;
    }
    // The client going away ends the window early (and frees the profiler for the next one).
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    route(ctx, url, res, abort.signal).catch((err: unknown) => {
      if (abort.signal.aborted) return;
      if (err instanceof BadRequest) serveError(res, 400, err.message);
      else if (err instanceof BusyError) {
        serveError(res, 409, err.message.startsWith('cpu')
          ? `Could not enable CPU profiling: ${err.message}`
          : `Could not start heap sampling: ${err.message} (heap and allocs share V8's sampler: one at a time)`);
      } else serveError(res, 500, `tailprobe agent: ${(err as Error)?.message ?? String(err)}`);
    });
    return true;
  };
}

async function route(ctx: AgentContext, url: URL, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const o = ctx.options;
  const name = url.pathname.replace(/^\/debug\/(pprof|tailprobe)\/?/, '');
  const debug = boolParam(url, 'debug');
  if (url.pathname.startsWith('/debug/tailprobe')) {
    switch (name) {
      case '':
        return sendJson(res, indexJson(ctx));
      case 'requests': {
        if (!ctx.requests) {
          return serveError(res, 404, 'tailprobe agent: per-request records are off (requests: false or TAILPROBE_AGENT_REQUESTS=off)');
        }
        const { since, until } = range(url);
        return sendRequests(ctx.requests, res, since, until, signal);
      }
      case 'cpu': {
        const s = seconds(url, 30, o.maxSeconds)!;
        const { captureCpuSamples } = await import('./cpu-samples.js');
        const body = await captureCpuSamples({ seconds: s, intervalUs: o.cpuIntervalUs, signal });
        if (!signal.aborted) sendJson(res, body, true);
        return;
      }
      case 'gc':
        return sendJson(res, gcReport(ctx, url));
      case 'eventloop':
        return sendJson(res, eventLoopReport(ctx, url));
      default:
        return serveError(res, 404, `Unknown endpoint (have: requests, gc, eventloop, cpu)`);
    }
  }
  switch (name) {
    case '':
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.end(indexPage());
      return;
    case 'profile': {
      const s = seconds(url, 30, o.maxSeconds)!;
      const p = await captureCpuProfile({ seconds: s, intervalUs: o.cpuIntervalUs, signal });
      if (!signal.aborted) await sendProfile(res, p, 'profile', debug);
      return;
    }
    case 'heap':
    case 'allocs': {
      const s = seconds(url, o.defaultHeapSeconds, o.maxSeconds)!;
      const p = await captureHeapProfile({
        kind: name === 'heap' ? 'inuse' : 'alloc',
        seconds: s,
        intervalBytes: o.heapIntervalBytes,
        gc: boolParam(url, 'gc'),
        signal,
      });
      if (!signal.aborted) await sendProfile(res, p, name, debug);
      return;
    }
    case 'block':
    case 'mutex': {
      const s = seconds(url, undefined, o.maxSeconds);
      const p = await captureContentionProfile(name, s, signal);
      if (!signal.aborted) await sendProfile(res, p, s === undefined ? name : `${name}-delta`, debug);
      return;
    }
    case 'cmdline':
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end(process.argv.join('\x00'));
      return;
    case 'goroutine':
    case 'threadcreate':
      return serveError(res, 404, `Unknown profile: Node.js has no ${name}s (the event loop is at /debug/tailprobe/eventloop)`);
    default:
      return serveError(res, 404, 'Unknown profile');
  }
}

function range(url: URL): { since?: bigint; until?: bigint } {
  try {
    return { since: parseNsParam(url.searchParams.get('since')), until: parseNsParam(url.searchParams.get('until')) };
  } catch (err) {
    throw new BadRequest(`since/until: ${(err as Error).message}`);
  }
}

function gcReport(ctx: AgentContext, url: URL) {
  const { since, until } = range(url);
  const pauses = ctx.gc.ring.query(since, until).map((e) => ({ start: e.start, duration: e.duration, kind: gcKindName(e.kind) }));
  return {
    format: RECORDS_FORMAT,
    recordingSince: perfToWallNs(ctx.gc.startedAt),
    now: wallClockNs(),
    dropped: ctx.gc.ring.dropped,
    count: pauses.length,
    totalNs: pauses.reduce((s, p) => s + p.duration, 0),
    maxNs: pauses.reduce((m, p) => Math.max(m, p.duration), 0),
    pauses,
  };
}

function eventLoopReport(ctx: AgentContext, url: URL) {
  const { since, until } = range(url);
  const histogramSince = perfToWallNs(ctx.loop.histogramSince);
  const histogram = ctx.loop.summary(boolParam(url, 'reset'));
  const stalls = ctx.loop.stalls.query(since, until).map((e) => ({ start: e.start, duration: e.duration }));
  return {
    format: RECORDS_FORMAT,
    now: wallClockNs(),
    histogram: { since: histogramSince, resolutionNs: ctx.loop.resolutionMs * 1e6, ...histogram },
    stallThresholdNs: ctx.loop.thresholdMs * 1e6,
    stallTickNs: ctx.loop.tickMs * 1e6,
    dropped: ctx.loop.stalls.dropped,
    count: stalls.length,
    stalls,
  };
}
