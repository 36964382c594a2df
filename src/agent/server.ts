import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { enableContentionProfiling, installWaitObserver } from './contention.js';
import { EventLoopMonitor } from './eventloop.js';
import { GcRecorder } from './gc.js';
import { createAgentHandler, type AgentContext, type ResolvedAgentOptions } from './handler.js';
import { markAgentServer, RequestRecorder } from './requests.js';
import { AgentConfigError, checkBind } from './security.js';

/**
 * Starting the agent: on its own loopback listener (startAgent), or on a server the service already
 * runs (mountAgent), where it answers /debug/pprof/* and /debug/tailprobe/* and nothing else.
 */

export interface AgentOptions {
  /** Listener address for startAgent (default 127.0.0.1). Anything but loopback needs a token. */
  host?: string;
  /** Listener port for startAgent (default 6060, Go's habit; 0 = any free port). */
  port?: number;
  /** Required token (Bearer header or ?token=). Default: TAILPROBE_AGENT_TOKEN from the environment. */
  token?: string;
  /** Longest profile window a request may ask for, seconds (default 300). */
  maxSeconds?: number;
  /** CPU sampling interval, µs (default 1000). */
  cpuIntervalUs?: number;
  /** Heap sampling interval, bytes (default 32768). */
  heapIntervalBytes?: number;
  /** heap/allocs window when the request gives no ?seconds=, seconds (default 10). */
  defaultHeapSeconds?: number;
  /** Event-loop stalls shorter than this are not recorded, ms (default 20). */
  stallThresholdMs?: number;
  /**
   * Event-loop sampling period, ms (default 10, Node's): the delay histogram's resolution and the
   * stall detector's tick, i.e. how precise a stall's start is. It is also the agent's idle cost:
   * one wake-up of the process per period (50 ms costs a fifth of 10 ms, for coarser stalls).
   */
  eventLoopResolutionMs?: number;
  /** GC pauses and stalls kept in memory (default 10 000 each). */
  history?: number;
  /**
   * Per-request records (/debug/tailprobe/requests: trace ids, times, lock waits), what `tailprobe
   * explain` joins with the load generator's results. Default on; `false`, or
   * TAILPROBE_AGENT_REQUESTS=off in the environment, turns them off.
   */
  requests?: boolean;
  /** Request records kept in memory, the oldest overwritten first (default 100 000). */
  requestHistory?: number;
  /**
   * Attribute tailprobe/sync lock waits to the request that waited (default on; `false`, or
   * TAILPROBE_AGENT_LOCK_WAITS=off). It takes an AsyncLocalStorage store per request, whose cost on
   * Node 20 (async hooks) is paid on every await: see docs/agent.md for what it costs where.
   */
  lockWaits?: boolean;
}

export interface AgentHandle {
  /** Base URL, e.g. http://127.0.0.1:6060 (profiles under /debug/pprof/). */
  url: string;
  host: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

function resolveOptions(opts: AgentOptions): ResolvedAgentOptions {
  const token = opts.token ?? (process.env.TAILPROBE_AGENT_TOKEN || undefined);
  return {
    token,
    maxSeconds: opts.maxSeconds ?? 300,
    cpuIntervalUs: opts.cpuIntervalUs ?? 1000,
    heapIntervalBytes: opts.heapIntervalBytes ?? 32768,
    defaultHeapSeconds: opts.defaultHeapSeconds ?? 10,
  };
}

/** Whether per-request records are on: the option, else TAILPROBE_AGENT_REQUESTS (default on). */
export function requestsEnabled(opts: AgentOptions, env = process.env): boolean {
  if (opts.requests !== undefined) return opts.requests;
  const v = env.TAILPROBE_AGENT_REQUESTS?.trim();
  return !(v && /^(0|off|false|no|none)$/i.test(v));
}

/** Whether lock waits are attributed per request: the option, else TAILPROBE_AGENT_LOCK_WAITS (default on). */
export function lockWaitsEnabled(opts: AgentOptions, env = process.env): boolean {
  if (opts.lockWaits !== undefined) return opts.lockWaits;
  const v = env.TAILPROBE_AGENT_LOCK_WAITS?.trim();
  return !(v && /^(0|off|false|no|none)$/i.test(v));
}

function startRequests(opts: AgentOptions): RequestRecorder | null {
  if (!requestsEnabled(opts)) return null;
  const rec = new RequestRecorder({ capacity: opts.requestHistory });
  const started = rec.start();
  if (!started.ok) {
    process.stderr.write(`tailprobe agent: ${started.reason}\n`);
    return null;
  }
  if (!lockWaitsEnabled(opts)) return rec;
  // Contended tailprobe/sync waits, attributed to the request whose async context waited.
  void installWaitObserver({
    begin: () => rec.currentTag(),
    end: (token, lock, mode, site, startMs, durationNs, granted) => rec.addWait(token, lock, mode, site, startMs, durationNs, granted),
    firstLock: () => rec.attributeWaits(),
  }).then((ok) => {
    if (ok && rec.running) rec.lockWaits = true;
  });
  return rec;
}

type Monitors = { gc: GcRecorder; loop: EventLoopMonitor; requests: RequestRecorder | null };

// The watchers are per process, shared by every listener or mount, and stopped with the last one.
let monitors: (Monitors & { users: number }) | null = null;

function acquireMonitors(opts: AgentOptions): Monitors {
  if (!monitors) {
    const gc = new GcRecorder(opts.history ?? 10_000);
    const loop = new EventLoopMonitor({
      stallThresholdMs: opts.stallThresholdMs,
      resolutionMs: opts.eventLoopResolutionMs,
      capacity: opts.history,
    });
    // First: a bad requestHistory throws here, before a watcher runs that nothing would stop.
    const requests = startRequests(opts);
    gc.start();
    loop.start();
    monitors = { gc, loop, requests, users: 0 };
    // The agent is the opt-in for lock contention records too.
    void enableContentionProfiling();
  }
  monitors.users++;
  return monitors;
}

function releaseMonitors(): void {
  if (!monitors) return;
  if (--monitors.users > 0) return;
  monitors.gc.stop();
  monitors.loop.stop();
  if (monitors.requests) {
    monitors.requests.stop();
    void installWaitObserver(null);
  }
  monitors = null;
}

function context(opts: AgentOptions): AgentContext {
  const m = acquireMonitors(opts);
  return { options: resolveOptions(opts), gc: m.gc, loop: m.loop, requests: m.requests };
}

/** Starts the agent on its own listener (127.0.0.1:6060 by default). */
export async function startAgent(opts: AgentOptions = {}): Promise<AgentHandle> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 6060;
  const resolved = resolveOptions(opts);
  checkBind(host, port, resolved.token);
  const ctx = context(opts);
  const handle = createAgentHandler(ctx);
  const server = createServer((req, res) => {
    if (handle(req, res)) return;
    res.statusCode = 404;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end('tailprobe agent: profiles are under /debug/pprof/\n');
  });
  markAgentServer(server);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    releaseMonitors();
    const e = err as NodeJS.ErrnoException;
    const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    if (e.code === 'EADDRINUSE') throw new AgentConfigError(`tailprobe agent: ${where} is already in use (choose another with TAILPROBE_AGENT=127.0.0.1:PORT or the port option)`);
    if (e.code === 'EADDRNOTAVAIL') throw new AgentConfigError(`tailprobe agent: cannot listen on ${where}: no such local address`);
    if (e.code === 'EACCES') throw new AgentConfigError(`tailprobe agent: not allowed to listen on ${where}`);
    throw err;
  }
  // The agent must never be what keeps a finished service alive.
  server.unref();
  const addr = server.address() as AddressInfo;
  const h = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  let closed = false;
  return {
    url: `http://${h}:${addr.port}`,
    host: addr.address,
    port: addr.port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        if (closed) return resolve();
        closed = true;
        releaseMonitors();
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/**
 * Serves the agent's paths on a server the service already runs: requests under /debug/pprof/ and
 * /debug/tailprobe/ are answered by the agent; all others reach the service untouched (whatever
 * order its 'request' listeners were added in). Without a token only loopback clients are
 * answered. Returns a function that unmounts it.
 */
export function mountAgent(server: Server, opts: AgentOptions = {}): () => void {
  const ctx = context(opts);
  const handle = createAgentHandler(ctx);
  const emit = server.emit;
  const patched = function (this: Server, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'request' && handle(args[0] as IncomingMessage, args[1] as ServerResponse)) return true;
    return (emit as (...a: unknown[]) => boolean).apply(this, [event, ...args]);
  };
  server.emit = patched as Server['emit'];
  let mounted = true;
  return () => {
    if (!mounted) return;
    mounted = false;
    if (server.emit === patched) server.emit = emit;
    releaseMonitors();
  };
}
