import type { Socket } from 'node:net';
import { Client, buildConnector, type Dispatcher } from 'undici';

/**
 * The connections to one origin: undici Clients (one connection each), with the policy an open
 * model needs, which undici's own Pool does not have.
 *
 * - A request goes to an idle connection when there is one (the most recently freed: its socket
 *   and caches are warm), else to a new connection, else it waits here for the first connection
 *   that frees up. Waiting shows up in the request's send lag; the schedule is not slowed.
 * - New connections are opened at most `maxConnecting` at a time. Without this bound, a generator
 *   that falls behind (a stalled loop, a frozen server) sends its late requests in a burst, each
 *   finds every connection busy and dials a new one; dialling costs CPU, so it falls further behind,
 *   and thousands of connections later it measures nothing but itself.
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
}

type Handler = Dispatcher.DispatchHandler;

interface Conn {
  client: Client;
  /** In `idle` (can take another request now). */
  idle: boolean;
  connected: boolean;
}

export class HostPool {
  private readonly conns: Conn[] = [];
  private readonly idle: Conn[] = [];
  /** Requests waiting for a connection: [opts, handler] pairs in a ring-less array with a head index. */
  private waitOpts: Dispatcher.DispatchOptions[] = [];
  private waitHandlers: Handler[] = [];
  private waitHead = 0;
  private connecting = 0;
  private readonly stash: Socket[] = [];
  private readonly base: ReturnType<typeof buildConnector>;
  private readonly connect: ReturnType<typeof buildConnector>;
  private lastAlpn: string | undefined;
  private closed = false;

  constructor(
    readonly origin: string,
    private readonly o: HostPoolOptions,
  ) {
    this.base = buildConnector({
      rejectUnauthorized: !o.insecure,
      allowH2: o.http2,
      // undici 7's connector supports h2c (prior knowledge) but its types do not list the option yet.
      ...({ useH2c: o.h2c } as object),
      timeout: o.connectTimeoutMs,
    });
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
        // A connect finished (or failed): requests waiting for one may now dial another.
        if (this.waitHead < this.waitOpts.length) queueMicrotask(this.serveWaiting);
      });
    };
  }

  get size(): number {
    return this.conns.length;
  }

  get waiting(): number {
    return this.waitOpts.length - this.waitHead;
  }

  dispatch(opts: Dispatcher.DispatchOptions, handler: Handler): void {
    if (this.closed) {
      handler.onError?.(new Error('attack ended'));
      return;
    }
    if (this.waitHead < this.waitOpts.length) {
      // Keep order: earlier requests that are waiting go first.
      this.waitOpts.push(opts);
      this.waitHandlers.push(handler);
      this.serveWaiting();
      return;
    }
    const c = this.pick();
    if (c !== null) this.send(c, opts, handler);
    else {
      this.waitOpts.push(opts);
      this.waitHandlers.push(handler);
    }
  }

  /** An idle connection, or a new one if allowed now; null = wait. */
  private pick(): Conn | null {
    const idle = this.idle.pop();
    if (idle !== undefined) {
      idle.idle = false;
      return idle;
    }
    const max = this.o.maxConnections;
    if ((max === 0 || this.conns.length < max) && this.connecting < this.o.maxConnecting) return this.grow();
    return null;
  }

  private send(c: Conn, opts: Dispatcher.DispatchOptions, handler: Handler): void {
    // dispatch() returns false once the connection is full; it emits 'drain' when it frees up.
    // A connection still being dialled always says full (its requests are pending); an h2c one
    // will multiplex them all once it is up, so it stays available instead of a second one being dialled.
    if ((c.client.dispatch(opts, handler) || (this.o.h2c && !c.connected)) && !c.idle) {
      c.idle = true;
      this.idle.push(c);
    }
  }

  private grow(): Conn {
    const client = new Client(this.origin, {
      pipelining: this.o.h2c ? this.o.h2Streams : this.o.pipelining,
      allowH2: this.o.http2 || this.o.h2c,
      connect: this.connect,
      // Our whole-request deadline replaces undici's per-phase timers.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    const c: Conn = { client, idle: false, connected: false };
    client.on('drain', () => {
      if (!c.idle) {
        c.idle = true;
        this.idle.push(c);
      }
      this.serveWaiting();
    });
    client.on('disconnect', () => {
      c.connected = false;
    });
    client.on('connect', () => {
      c.connected = true;
      // HTTP/2 was negotiated by ALPN (-http2 on https): let this connection multiplex.
      if (this.o.http2 && this.lastAlpn === 'h2') client.pipelining = this.o.h2Streams;
    });
    client.on('connectionError', () => {
      // undici has failed the requests queued on it; the Client stays usable (it dials again).
    });
    this.conns.push(c);
    return c;
  }

  private readonly serveWaiting = (): void => {
    while (this.waitHead < this.waitOpts.length) {
      const c = this.pick();
      if (c === null) return;
      const i = this.waitHead++;
      const opts = this.waitOpts[i]!;
      const h = this.waitHandlers[i]!;
      this.send(c, opts, h);
    }
    // Empty: reset the arrays (they only grow while requests wait).
    if (this.waitHead > 0) {
      this.waitOpts = [];
      this.waitHandlers = [];
      this.waitHead = 0;
    }
  };

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
