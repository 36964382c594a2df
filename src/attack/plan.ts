import type { Dispatcher } from 'undici';
import { HostPool, type HostPoolOptions } from './host-pool.js';
import type { Target } from '../targets/target.js';
import { VERSION } from './version.js';
import { TRACEPARENT_HEADER } from '../results/trace-id.js';

/**
 * A target made ready to send: its pool, and the dispatch options undici needs, built once so the
 * hot path hands the same objects to undici for every request (no per-request header objects,
 * URL parsing or body copies).
 */
/**
 * undici's dispatch options, and the attack id whose traceparent each request of this shape carries
 * (null: none, the target has its own or -traceparent=false). The header is made per request, from
 * the request's seq, by the connection that writes it (http1.ts, or host-pool.ts for undici).
 */
export interface AttackDispatchOptions extends Dispatcher.DispatchOptions {
  traceAttackId: string | null;
}

export interface PreparedTarget {
  pool: HostPool;
  opts: AttackDispatchOptions;
  method: string;
  url: string;
  body: Buffer | null;
  bytesOut: number;
  /** Header list as undici takes it (flat [name, value, ...]), reused by redirects. */
  headers: string[];
  /** See AttackDispatchOptions. */
  traceAttackId: string | null;
}

export interface PlanOptions {
  /** Connections per host to open before the clock starts (this worker's share). */
  prewarm: number;
  /** Pool size cap per host (0 = unlimited). */
  maxConnections: number;
  pipelining: number;
  http2: boolean;
  h2c: boolean;
  insecure: boolean;
  keepalive: boolean;
  /** Connect timeout, ms (our whole-request timeout bounds it anyway). */
  connectTimeoutMs: number;
  headers: Record<string, string[]>;
  /** The attack id for traceparent headers; null = send none. */
  traceAttackId: string | null;
  /** See HostPoolOptions.connector. */
  connector?: HostPoolOptions['connector'];
}

const USER_AGENT = `tailprobe/${VERSION}`;

/** New connections dialled at once per origin (see HostPool). */
const MAX_CONNECTING = 16;

/**
 * The HTTP side of one thread: one HostPool per origin (shared by all targets of that origin), and
 * the targets prepared for dispatch.
 */
export class Plan {
  readonly targets: PreparedTarget[];
  private readonly pools = new Map<string, HostPool>();

  constructor(
    targets: Target[],
    private readonly o: PlanOptions,
  ) {
    this.targets = targets.map((t) => this.prepare(t));
  }

  private prepare(t: Target): PreparedTarget {
    const u = new URL(t.url);
    const headers: string[] = [];
    let hasUA = false;
    let hasTrace = false;
    const add = (rec: Record<string, string[]>) => {
      for (const [k, vs] of Object.entries(rec)) {
        const lower = k.toLowerCase();
        if (lower === 'user-agent') hasUA = true;
        if (lower === TRACEPARENT_HEADER) hasTrace = true;
        for (const v of vs) headers.push(k, v);
      }
    };
    add(this.o.headers);
    add(t.headers);
    if (!hasUA) headers.push('user-agent', USER_AGENT);
    const body = t.body && t.body.byteLength > 0 ? Buffer.from(t.body.buffer, t.body.byteOffset, t.body.byteLength) : null;
    // A target's own traceparent is the user's: it is sent as given, never replaced.
    const traceAttackId = hasTrace ? null : this.o.traceAttackId;
    return {
      pool: this.poolFor(u.origin),
      opts: this.dispatchOptions(u.pathname + u.search, t.method, headers, body, traceAttackId),
      method: t.method,
      url: t.url,
      body,
      bytesOut: body ? body.byteLength : 0,
      headers,
      traceAttackId,
    };
  }

  /** Dispatch options for one request shape; also used for redirects. */
  dispatchOptions(path: string, method: string, headers: string[], body: Buffer | null, traceAttackId: string | null): AttackDispatchOptions {
    return {
      traceAttackId,
      path,
      method,
      headers,
      body,
      // Our own whole-request deadline replaces undici's per-phase timers (one timer for all requests).
      headersTimeout: 0,
      bodyTimeout: 0,
      // undici does not pipeline behind a "blocking" request; every request here is fire-and-measure.
      blocking: false,
      // The user asked for pipelining: let undici pipeline non-idempotent methods too.
      ...(this.o.pipelining > 1 ? { idempotent: true } : {}),
      ...(this.o.keepalive ? {} : { reset: true }),
    };
  }

  /** The pool for an origin, created on first use (targets, then redirects to new origins). */
  poolFor(origin: string): HostPool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new HostPool(origin, {
        maxConnections: this.o.maxConnections,
        pipelining: this.o.pipelining,
        h2Streams: Math.max(this.o.pipelining, 100),
        maxConnecting: MAX_CONNECTING,
        http2: this.o.http2,
        h2c: this.o.h2c,
        insecure: this.o.insecure,
        connectTimeoutMs: this.o.connectTimeoutMs,
        ...(this.o.connector ? { connector: this.o.connector } : {}),
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  /**
   * Opens this thread's share of connections to every origin before the clock starts. A target
   * that refuses connections is not an error here: the attack will record what happens.
   */
  async prewarm(): Promise<void> {
    const n = this.o.maxConnections > 0 ? Math.min(this.o.prewarm, this.o.maxConnections) : this.o.prewarm;
    if (n <= 0) return;
    // HTTP/2 multiplexes: one connection carries everything until it is full.
    const count = this.o.h2c || this.o.http2 ? 1 : n;
    await Promise.all([...this.pools.values()].map((p) => p.prewarm(count)));
  }

  /** Closes every connection now (the attack is over; nothing in flight is waited for). */
  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
  }
}
