import type { Socket } from 'node:net';
import { Client, buildConnector, type Dispatcher } from 'undici';
import { Http1Connection, type Connect, type LegacyHandler } from './http1.js';
import { tcpConnector } from './tcp-dial.js';
import type { AttackDispatchOptions } from './plan.js';
import { TRACEPARENT_HEADER, traceparentOf } from '../results/trace-id.js';

/**
 * The connections to one origin: undici Clients (one connection each), with the policy an open
 * model needs, which undici's own Pool does not have.
 *
 * - A request goes to a connection with room when there is one (the most recently freed: its
 *   socket and caches are warm); otherwise it waits here, and the wait shows up in its send lag
 *   (the schedule is not slowed).
 * - Dialling is for a slow server, not for a slow generator. A waiting request dials a new
 *   connection only if, one event-loop turn later (after the loop has read every response that
 *   arrived), every connection is still busy: the server is holding them, and the open model needs
 *   more. A request that was already late when sent (the generator stalled: GC, a busy machine)
 *   never dials while something is in flight; it takes the next connection that frees up. Without
 *   these rules a busy generator takes its own unread responses for a slow server, dials a
 *   connection per request, spends the CPU it lacked on dialling, falls further behind, and
 *   thousands of connections later measures only itself.
 * - At most `maxConnecting` dials are in progress at once.
 * - Connections can be opened before the clock starts (prewarm), through the Clients' own
 *   connector, so they are configured exactly as undici configures any other.
 * - Finding an idle connection is O(1) (a stack), not a scan of every connection per request.
 */
export interface HostPoolOptions {
  /** Cap on connections (0 = unlimited). */
  maxConnections: number;
  /** Requests in flight per HTTP/1.1 connection. */
  pipelining: number;
  /** Streams per HTTP/2 connection. */
  h2Streams: number;
  maxConnecting: number;
  http2: boolean;
  h2c: boolean;
  insecure: boolean;
  connectTimeoutMs: number;
  /** Replaces the network connector (the warm-up runs the real engine against in-memory sockets). */
  connector?: ReturnType<typeof buildConnector>;
}

/** A request this late (ns) waits for a busy connection instead of dialling a new one. */
const LATE_NS = 1e6;

/** A handler the pool can tell which connection carries it (so completion frees the right one). */
export interface PoolHandler extends Dispatcher.DispatchHandler {
  conn: Conn | null;
}

export interface Conn {
  pool: HostPool;
  /** undici for TLS, HTTP/2 and h2c; our own lean HTTP/1.1 connection for plain http (see http1.ts). */
  client: Client | Http1Connection;
  /** Requests handed to this connection that undici has not finished with. */
  inflight: number;
  /** Requests it may carry at once: pipelining for HTTP/1.1, streams for HTTP/2. */
  cap: number;
  /** In the pool's idle stack (has room for another request). */
  idle: boolean;
}

export class HostPool {
  private readonly conns: Conn[] = [];
  private readonly idle: Conn[] = [];
  /** Requests waiting for a connection, oldest first (arrays with a head index: no per-request nodes). */
  private waitOpts: Dispatcher.DispatchOptions[] = [];
  private waitHandlers: PoolHandler[] = [];
  /** Whether each waiting request may dial (it was on time when it arrived). */
  private waitMayDial: boolean[] = [];
  private waitHead = 0;
  private connecting = 0;
  /** Requests on connections, all connections together. */
  private inflight = 0;
  private readonly stash: Socket[] = [];
  /** Plain http: our own HTTP/1.1 connections (http1.ts) on sockets dialled by tcp-dial.ts. */
  private readonly fastPath: boolean;
  private readonly base: ReturnType<typeof buildConnector>;
  private readonly connect: ReturnType<typeof buildConnector>;
  private lastAlpn: string | undefined;
  private closed = false;

  constructor(
    readonly origin: string,
    private readonly o: HostPoolOptions,
  ) {
    this.fastPath = !o.h2c && !o.http2 && origin.startsWith('http:') && useHttp1FastPath();
    this.base = o.connector ?? (this.fastPath ? (tcpConnector({ timeoutMs: o.connectTimeoutMs }) as unknown as ReturnType<typeof buildConnector>) : buildConnector({
      rejectUnauthorized: !o.insecure,
      allowH2: o.http2,
      // undici 7's connector supports h2c (prior knowledge) but its types do not list the option yet.
      ...({ useH2c: o.h2c } as object),
      timeout: o.connectTimeoutMs,
    }));
    this.connect = (opts, cb) => {
      while (this.stash.length > 0) {
        const s = this.stash.pop()!;
        if (!s.destroyed && !s.readableEnded && s.writable) {
          // Asynchronously, as a real connect calls back: undici is inside its resume loop here.
          queueMicrotask(() => {
            this.lastAlpn = (s as Socket & { alpnProtocol?: string }).alpnProtocol;
            cb(null, s as never);
          });
          return;
        }
      }
      this.connecting++;
      this.base(opts, (err, socket) => {
        this.connecting--;
        this.lastAlpn = (socket as { alpnProtocol?: string } | null)?.alpnProtocol;
        cb(err as never, socket as never);
        // A dial finished (or failed): requests waiting for one may now dial another.
        if (this.waitHead < this.waitOpts.length) queueMicrotask(this.onDialed);
      });
    };
  }

  get size(): number {
    return this.conns.length;
  }

  get waiting(): number {
    return this.waitOpts.length - this.waitHead;
  }

  /** Sends a request; `lateNs` is how late it already is (see the class comment on dialling). */
  dispatch(opts: Dispatcher.DispatchOptions, handler: PoolHandler, lateNs = 0): void {
    if (this.closed) {
      handler.onError?.(new Error('attack ended'));
      return;
    }
    if (this.waitHead === this.waitOpts.length) {
      const idle = this.takeIdle();
      if (idle !== null) return this.send(idle, opts, handler);
      // Nothing in flight to wait for (the first request, or every connection failed): dial now.
      if (this.inflight === 0 && this.mayGrow()) return this.send(this.grow(), opts, handler);
    }
    // Keep order: requests already waiting go first.
    this.waitOpts.push(opts);
    this.waitHandlers.push(handler);
    this.waitMayDial.push(lateNs < LATE_NS);
    this.scheduleDialCheck();
  }

  /**
   * Whether to dial for requests that found every connection busy is decided a full event-loop
   * turn later, after the loop has read every response that has arrived meanwhile: only then does
   * "every connection is busy" mean the server is holding them, not that we have not yet read its
   * answers (a generator busy compiling, collecting garbage or descheduled would otherwise dial a
   * connection per request). undici waits the same turn before reusing a socket.
   */
  private scheduleDialCheck(): void {
    if (this.dialCheck === 0) {
      this.dialCheck = 1;
      setImmediate(this.onDialCheck);
    }
  }

  private dialCheck = 0;
  private readonly onDialCheck = (): void => {
    if (this.dialCheck === 1) {
      // Stage 1 ran in this turn's check phase; the next poll phase reads what has arrived.
      this.dialCheck = 2;
      setImmediate(this.onDialCheck);
      return;
    }
    this.dialCheck = 0;
    // Requests still waiting after this wait for a connection to free up (finished) or, if dials
    // were at their cap, for a dial to complete (onDialed looks again).
    if (!this.closed) this.serveWaiting(true);
  };

  private takeIdle(): Conn | null {
    const idle = this.idle.pop();
    if (idle === undefined) return null;
    idle.idle = false;
    return idle;
  }

  private mayGrow(): boolean {
    const max = this.o.maxConnections;
    return (max === 0 || this.conns.length < max) && this.connecting < this.o.maxConnecting;
  }

  private serveQueued = false;
  private readonly onFreed = (): void => {
    this.serveQueued = false;
    this.serveWaiting(false);
  };

  private readonly onDialed = (): void => {
    this.serveWaiting(false);
    if (this.waitHead < this.waitOpts.length) this.scheduleDialCheck();
  };

  /**
   * undici is done with a request (completed or failed): its connection has room again.
   *
   * We count in-flight requests per connection ourselves rather than wait for undici's 'drain':
   * with pipelining 1, undici reuses a socket only a full event-loop turn after a response (a
   * setImmediate), and a request due in that turn would find no idle connection and dial a new
   * one: a paced attack would open connections without end. A request handed over in that turn
   * simply queues in the Client and is written when undici resumes; its send lag shows the wait.
   */
  finished(handler: PoolHandler): void {
    const c = handler.conn;
    if (c === null) return;
    handler.conn = null;
    c.inflight--;
    this.inflight--;
    if (!c.idle && c.inflight < c.cap) {
      c.idle = true;
      this.idle.push(c);
    }
    // Never dispatch from inside undici's callback: it may be failing a whole queue of requests
    // (a refused connection) and asserts that nothing joins that queue meanwhile.
    if (this.waitHead < this.waitOpts.length && !this.serveQueued) {
      this.serveQueued = true;
      queueMicrotask(this.onFreed);
    }
  }

  private send(c: Conn, opts: Dispatcher.DispatchOptions, handler: PoolHandler): void {
    handler.conn = c;
    c.inflight++;
    this.inflight++;
    if (c.inflight < c.cap && !c.idle) {
      c.idle = true;
      this.idle.push(c);
    }
    if (c.client instanceof Http1Connection) c.client.dispatch(opts, handler as unknown as LegacyHandler);
    else c.client.dispatch(withTraceparent(opts, handler), handler);
  }

  private grow(): Conn {
    const h2 = this.o.h2c;
    if (this.fastPath) {
      const c: Conn = { pool: this, client: new Http1Connection(new URL(this.origin), this.connect as unknown as Connect), inflight: 0, cap: this.o.pipelining, idle: false };
      this.conns.push(c);
      return c;
    }
    const client = new Client(this.origin, {
      // undici reuses a pipelining-1 socket only a loop turn after each response (a setImmediate);
      // with 2 it writes the next request at once. We keep `cap` requests per connection ourselves
      // (1 unless -pipelining), so this removes the wait, not the one-at-a-time.
      pipelining: h2 ? this.o.h2Streams : Math.max(2, this.o.pipelining),
      allowH2: this.o.http2 || this.o.h2c,
      connect: this.connect,
      // Our whole-request deadline replaces undici's per-phase timers.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    const c: Conn = { pool: this, client, inflight: 0, cap: h2 ? this.o.h2Streams : this.o.pipelining, idle: false };
    client.on('connect', () => {
      // HTTP/2 negotiated by ALPN (-http2 on https): let this connection multiplex.
      if (this.o.http2 && this.lastAlpn === 'h2' && c.cap < this.o.h2Streams) {
        client.pipelining = this.o.h2Streams;
        c.cap = this.o.h2Streams;
        if (!c.idle && c.inflight < c.cap) {
          c.idle = true;
          this.idle.push(c);
        }
        this.serveWaiting(false);
      }
    });
    client.on('connectionError', () => {
      // undici fails the requests queued on it (each comes back through finished()); the Client
      // stays usable and dials again for its next request.
    });
    this.conns.push(c);
    return c;
  }

  /** Hands waiting requests to free connections, and (when `dial`) dials for those that came on time. */
  private serveWaiting(dial: boolean): void {
    while (this.waitHead < this.waitOpts.length) {
      let c = this.takeIdle();
      if (c === null) {
        // Dial only on the credit of a request that was on time when it arrived (or with nothing
        // in flight to wait for). The credit may belong to any waiting request, not only the
        // oldest: a late request at the head must not hold the on-time ones behind it until a
        // hung connection times out. The new connection still goes to the oldest request.
        if (!dial || !this.mayGrow()) break;
        if (this.inflight !== 0 && !this.takeDialCredit()) break;
        c = this.grow();
      }
      const i = this.waitHead++;
      this.send(c, this.waitOpts[i]!, this.waitHandlers[i]!);
    }
    // Empty: start the arrays afresh (they only grow while requests wait).
    if (this.waitHead > 0 && this.waitHead === this.waitOpts.length) {
      this.waitOpts = [];
      this.waitHandlers = [];
      this.waitMayDial = [];
      this.waitHead = 0;
    }
  }

  /** Uses up the dial credit of the oldest waiting request that has one; false when none has. */
  private takeDialCredit(): boolean {
    const may = this.waitMayDial;
    for (let i = this.waitHead; i < may.length; i++) {
      if (may[i]) {
        may[i] = false;
        return true;
      }
    }
    return false;
  }

  /** Opens `n` connections before the clock starts (kept until a Client needs one). */
  async prewarm(n: number): Promise<void> {
    const u = new URL(this.origin);
    const hostname = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      jobs.push(
        new Promise<void>((resolve) => {
          this.base({ hostname, host: u.host, protocol: u.protocol, port: u.port } as never, (err, socket) => {
            if (!err && socket) this.stash.push(socket as unknown as Socket);
            resolve();
          });
        }),
      );
    }
    await Promise.all(jobs);
    // Plain http: the connections themselves are made now, idle with their sockets attached, so the
    // first requests take them at once. Left in the stash, each would wait for a dial check (a loop
    // turn) to "dial" a socket that is already open: measured at 20,000 req/s, the first 60
    // requests went out 1 to 4 ms late.
    if (this.fastPath) {
      for (const s of this.stash.splice(0)) {
        const c = this.grow();
        (c.client as Http1Connection).adopt(s);
        c.idle = true;
        this.idle.push(c);
      }
    }
  }

  /** Closes every connection now; requests still waiting here fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.stash.splice(0)) s.destroy();
    const err = new Error('attack ended');
    while (this.waitHead < this.waitOpts.length) this.waitHandlers[this.waitHead++]!.onError?.(err);
    await Promise.all(this.conns.map((c) => c.client.destroy().catch(() => {})));
  }
}

/**
 * Plain-http requests go through http1.ts unless TAILPROBE_HTTP1=undici (undici for everything:
 * to compare the two, or to step around a server our parser does not read).
 */
export function useHttp1FastPath(): boolean {
  return process.env.TAILPROBE_HTTP1 !== 'undici';
}

/**
 * undici's path (TLS, HTTP/2, h2c): the shape's options with this request's traceparent added.
 * One object and one header list per request; the plain-http path writes the header in place.
 */
function withTraceparent(opts: Dispatcher.DispatchOptions, handler: PoolHandler): Dispatcher.DispatchOptions {
  const id = (opts as Partial<AttackDispatchOptions>).traceAttackId;
  if (!id) return opts;
  const seq = (handler as { seq?: number }).seq ?? 0;
  return { ...opts, headers: [...(opts.headers as string[]), TRACEPARENT_HEADER, traceparentOf(id, seq)] };
}
