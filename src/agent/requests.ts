import { AsyncLocalStorage } from 'node:async_hooks';
import dc from 'node:diagnostics_channel';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
// The module's binding, not the global: in Node `globalThis.performance` is a getter on every access.
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { StackFrame } from '../sync/stack.js';
import type { LockWaitJson, RequestRecordJson } from '../profile/records.js';
import { perfToWallNs } from '../time/wall.js';
import { parentIdFromWords as parentIdOf, parseTraceparentInto, traceIdFromWords as traceIdOf } from '../results/trace-id.js';

/**
 * Per-request records, with no change to the service: Node's http server publishes every request
 * on `node:diagnostics_channel` (`http.server.request.start` once the headers are parsed, just
 * before the 'request' event; `http.server.response.finish` when the response is handed to the
 * socket; both since Node 15.1, so on every Node this package supports). The agent subscribes and
 * writes one record per request into a preallocated ring of typed arrays.
 *
 * Hot-path cost per request: two clock reads, a scan of the raw header list for `traceparent`, six
 * words of hex parsed into a typed array, a few array stores, one number property on the response
 * and one on its connection, and AsyncLocalStorage.enterWith (no object, no JSON, no string built: method and url are the
 * parser's own strings). The ring's slot number is the ALS store, so tailprobe/sync's wait
 * observer (below) can tell which request a contended lock wait belongs to.
 *
 * A client that gives up (its timeout, a closed connection) before the response finishes never
 * gets `response.finish`, and those are the slowest requests of all, the ones `explain` is asked
 * about. So each connection gets one 'close' listener (per connection, not per request) and
 * carries the tag of the request in flight on it; a connection that closes with one still in
 * flight ends that record there, marked aborted.
 *
 * AsyncLocalStorage (only once the process has a tailprobe/sync lock; before that nothing can wait
 * and the store would cost every promise something): enterWith in the request-start subscriber runs synchronously before the
 * service's 'request' listener, so the store is what the handler and everything it awaits see. On
 * Node 20 the store sticks to the socket's parser resource, i.e. to the *next* request on a
 * keep-alive connection as well; so every request enters a store, excluded ones `undefined`.
 */

const REQUEST_START = 'http.server.request.start';
const RESPONSE_FINISH = 'http.server.response.finish';

/** Most waits kept per record; further ones are folded into one `(more waits)` entry. */
export const MAX_WAITS_PER_RECORD = 1024;
/** Paths longer than this are cut. */
export const MAX_PATH = 256;

/** Bytes of typed-array state per record (the ring's fixed cost; strings are extra). */
export const FIXED_BYTES_PER_RECORD = 8 /* seq */ + 8 /* start */ + 8 /* end */ + 8 /* bytes */ + 2 /* status */ + 1 /* traced */ + 1 /* aborted */ + 24 /* ids */ + 3 * 8 /* method, path, waits refs */;

const kSlot = Symbol('tailprobe.requestSlot');
const kAgentServer = Symbol('tailprobe.agentServer');
/** On a connection: the tag of the request in flight on it (0: none); present once it is watched. */
const kInFlight = Symbol('tailprobe.inFlight');

/** Marks the agent's own listener: its requests are never recorded. */
export function markAgentServer(server: Server): void {
  (server as unknown as Record<symbol, boolean>)[kAgentServer] = true;
}

interface Wait {
  lock: string;
  mode: 'read' | 'write';
  site: StackFrame | null;
  startMs: number;
  durationNs: number;
  /** The waiter gave up (timeout or abort) instead of getting the lock. */
  gaveUp: boolean;
}

interface ChannelMessage {
  request: IncomingMessage;
  response: ServerResponse;
  socket: Socket;
  server: Server;
}

type Subscriber = (message: unknown, name: string | symbol) => void;

function subscribe(name: string, fn: Subscriber): (() => void) | null {
  if (typeof dc.subscribe === 'function') {
    dc.subscribe(name, fn);
    return () => dc.unsubscribe(name, fn);
  }
  const ch = typeof dc.channel === 'function' ? dc.channel(name) : null;
  if (!ch || typeof ch.subscribe !== 'function') return null;
  ch.subscribe(fn);
  return () => ch.unsubscribe(fn);
}

function isAgentPath(url: string): boolean {
  return url.startsWith('/debug/pprof') || url.startsWith('/debug/tailprobe');
}

/**
 * The first MAX_PATH characters as a string of their own: a plain slice would keep the whole (maybe
 * kilobytes long) URL alive through V8's sliced strings. The parser's strings are latin1, so the
 * round trip is exact. Rare (long URLs only), so its allocation does not matter.
 */
function cut(url: string): string {
  return Buffer.from(url.slice(0, MAX_PATH), 'latin1').toString('latin1');
}

function findTraceparent(raw: string[]): string | undefined {
  for (let k = 0; k < raw.length; k += 2) {
    const n = raw[k]!;
    // toLowerCase allocates: only for an 11-character name that starts with t or T (Traceparent).
    if (n.length === 11 && (n === 'traceparent' || ((n.charCodeAt(0) | 32) === 116 && n.toLowerCase() === 'traceparent'))) return raw[k + 1];
  }
  return undefined;
}

/** Body bytes when Node knows them (Content-Length, set by the service or by `end(body)`), else -1. */
function bodyBytes(res: ServerResponse): number {
  const n = (res as unknown as { _contentLength?: unknown })._contentLength;
  return typeof n === 'number' && n >= 0 && Number.isFinite(n) ? n : -1;
}

function fileOf(file: string): string {
  if (!file.startsWith('file:')) return file;
  try {
    return fileURLToPath(file);
  } catch {
    return file;
  }
}

/** `lookup (/srv/service.js:88:20)`, as a V8 stack trace line names a frame. */
export function siteOf(f: StackFrame | null): string {
  if (f === null) return '';
  return `${f.functionName || '(anonymous)'} (${fileOf(f.file)}:${f.line}:${f.column})`;
}

export interface RequestRecorderOptions {
  /** Records kept (default 100 000); the oldest are overwritten first. */
  capacity?: number;
}

export class RequestRecorder {
  readonly capacity: number;
  /** Per slot: 1 + the sequence number of the request in it (0: never used). */
  private readonly seqs: Float64Array;
  private readonly startMs: Float64Array;
  /** 0 while the request is in flight. */
  private readonly endMs: Float64Array;
  private readonly bytes: Float64Array;
  private readonly status: Uint16Array;
  private readonly traced: Uint8Array;
  /** 1: the connection closed before the response finished (end = the close). */
  private readonly aborted: Uint8Array;
  private readonly ids: Uint32Array;
  private readonly methods: string[];
  private readonly paths: string[];
  private readonly waits: Array<Wait[] | null>;
  /** Requests started (the next sequence number). */
  private started = 0;
  private slot = 0;
  /** Requests finished since recording began. */
  recorded = 0;
  /** Finished records no longer in the ring (overwritten). */
  dropped = 0;
  /** performance.now() when recording began. */
  startedAt = 0;
  /** True once tailprobe/sync tells the recorder of its contended waits. */
  lockWaits = false;
  /**
   * Whether requests enter their AsyncLocalStorage store: from the moment the process has a
   * tailprobe/sync lock (attributeWaits()). Before, nothing can wait, and a service without locks
   * does not pay for AsyncLocalStorage (on Node 20, a hook on every promise and async resource).
   */
  private attributing = false;
  readonly als = new AsyncLocalStorage<number | undefined>();
  private unsubscribe: Array<() => void> = [];
  /** The connections' 'close' listener: one function for all (the emitter passes the socket as `this`). */
  private readonly onSocketClose: (this: Socket) => void;

  constructor(opts: RequestRecorderOptions = {}) {
    const cap = opts.capacity ?? 100_000;
    if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`tailprobe agent: requestHistory must be a positive integer, got ${cap}`);
    this.capacity = cap;
    this.seqs = new Float64Array(cap);
    this.startMs = new Float64Array(cap);
    this.endMs = new Float64Array(cap);
    this.bytes = new Float64Array(cap);
    this.status = new Uint16Array(cap);
    this.traced = new Uint8Array(cap);
    this.aborted = new Uint8Array(cap);
    this.ids = new Uint32Array(cap * 6);
    this.methods = new Array<string>(cap).fill('');
    this.paths = new Array<string>(cap).fill('');
    this.waits = new Array<Wait[] | null>(cap).fill(null);
    const recorder = this;
    this.onSocketClose = function (this: Socket) {
      recorder.socketClosed(this);
    };
  }

  /** Subscribes to the http server channels; false (and one reason) when this Node has none. */
  start(): { ok: true } | { ok: false; reason: string } {
    if (this.unsubscribe.length > 0) return { ok: true };
    this.startedAt = performance.now();
    const a = subscribe(REQUEST_START, this.onStart);
    const b = a && subscribe(RESPONSE_FINISH, this.onFinish);
    if (!a || !b) {
      a?.();
      return { ok: false, reason: `this Node.js (${process.version}) has no http server diagnostics channels: per-request records are off` };
    }
    this.unsubscribe = [a, b];
    return { ok: true };
  }

  stop(): void {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    this.als.disable();
  }

  get running(): boolean {
    return this.unsubscribe.length > 0;
  }

  private readonly onStart = (message: unknown): void => {
    const m = message as ChannelMessage;
    const req = m.request;
    const url = req.url ?? '';
    const server = m.server as unknown as Record<symbol, unknown> | undefined;
    if ((server !== undefined && server[kAgentServer] === true) || (url.startsWith('/debug/') && isAgentPath(url))) {
      if (this.attributing) this.als.enterWith(undefined);
      return;
    }
    const i = this.slot;
    this.slot = i + 1 === this.capacity ? 0 : i + 1;
    if (this.seqs[i] !== 0 && this.endMs[i] !== 0) this.dropped++; // a finished record overwritten
    const tag = ++this.started;
    this.seqs[i] = tag;
    this.startMs[i] = performance.now();
    this.endMs[i] = 0;
    this.traced[i] = parseTraceparentInto(findTraceparent(req.rawHeaders), this.ids, i * 6) ? 1 : 0;
    this.methods[i] = req.method ?? '';
    this.paths[i] = url.length > MAX_PATH ? cut(url) : url;
    this.waits[i] = null;
    this.aborted[i] = 0;
    (m.response as unknown as Record<symbol, number>)[kSlot] = tag;
    const sock = m.socket as unknown as Record<symbol, number> | null | undefined;
    if (sock) {
      if (sock[kInFlight] === undefined) m.socket.on('close', this.onSocketClose);
      sock[kInFlight] = tag;
    }
    if (this.attributing) this.als.enterWith(tag);
  };

  private readonly onFinish = (message: unknown): void => {
    const res = (message as ChannelMessage).response;
    const tag = (res as unknown as Record<symbol, number | undefined>)[kSlot];
    if (tag === undefined) return;
    const end = performance.now();
    const sock = (message as ChannelMessage).socket as unknown as Record<symbol, number> | null | undefined;
    if (sock && sock[kInFlight] === tag) sock[kInFlight] = 0;
    const i = (tag - 1) % this.capacity;
    if (this.seqs[i] === tag && this.endMs[i] !== 0) return; // already ended: its connection closed first
    this.recorded++;
    if (this.seqs[i] !== tag) {
      this.dropped++; // its slot was taken by a newer request while it was in flight
      return;
    }
    this.endMs[i] = end;
    this.status[i] = res.statusCode;
    // Node sends no body for HEAD whatever the handler wrote (the Go companion says 0 as well).
    this.bytes[i] = this.methods[i] === 'HEAD' ? 0 : bodyBytes(res);
  };

  /** A connection closed: a request still in flight on it ends now, aborted (no response finished). */
  private socketClosed(socket: Socket): void {
    const sock = socket as unknown as Record<symbol, number>;
    const tag = sock[kInFlight]!;
    sock[kInFlight] = 0;
    if (!tag) return;
    const i = (tag - 1) % this.capacity;
    if (this.seqs[i] !== tag || this.endMs[i] !== 0) return; // overwritten, or finished after all
    this.recorded++;
    this.endMs[i] = performance.now();
    this.status[i] = 0;
    this.bytes[i] = -1;
    this.aborted[i] = 1;
  }

  /** From now on, requests enter their store, so lock waits can be attributed (WaitObserver.firstLock). */
  attributeWaits(): void {
    this.attributing = true;
  }

  /** For tailprobe/sync's WaitObserver.begin: the waiting request's tag, or undefined. */
  currentTag(): number | undefined {
    return this.als.getStore();
  }

  /** For tailprobe/sync's WaitObserver.end: appends a wait to the request still in flight. */
  addWait(token: unknown, lock: string, mode: 'read' | 'write', site: StackFrame | null, startMs: number, durationNs: number, granted = true): void {
    if (typeof token !== 'number') return;
    const i = (token - 1) % this.capacity;
    // Finished (a leaked store) or overwritten; but a request its client gave up on while it waited
    // keeps the wait that made it slow (the wait ends after the record does).
    if (this.seqs[i] !== token || (this.endMs[i] !== 0 && this.aborted[i] !== 1)) return;
    let list = this.waits[i];
    if (list === null) list = this.waits[i] = [];
    if (list.length < MAX_WAITS_PER_RECORD) {
      list.push({ lock, mode, site, startMs, durationNs, gaveUp: !granted });
      return;
    }
    const last = list[list.length - 1]!;
    if (last.lock !== '(more waits)') {
      list.push({ lock: '(more waits)', mode, site: null, startMs, durationNs, gaveUp: false });
      return;
    }
    last.durationNs += durationNs;
  }

  /** Sequence range now in the ring: tags first..last inclusive (empty when first > last). */
  window(): { first: number; last: number } {
    return { first: Math.max(1, this.started - this.capacity + 1), last: this.started };
  }

  /**
   * The finished record with this tag as JSON, if it is still in the ring and overlaps
   * [since, until] (wall-clock ns, either optional); null otherwise.
   */
  recordJson(tag: number, since: bigint | undefined, until: bigint | undefined): RequestRecordJson | null {
    const i = (tag - 1) % this.capacity;
    if (this.seqs[i] !== tag || this.endMs[i] === 0) return null;
    const start = perfToWallNs(this.startMs[i]!);
    const end = perfToWallNs(this.endMs[i]!);
    if ((since !== undefined && end < since) || (until !== undefined && start > until)) return null;
    const traced = this.traced[i] === 1;
    const rec: RequestRecordJson = {
      trace: traced ? traceIdOf(this.ids, i * 6) : '',
      parent: traced ? parentIdOf(this.ids, i * 6) : '',
      start: start.toString(),
      end: end.toString(),
      method: this.methods[i]!,
      path: this.paths[i]!,
      status: this.status[i]!,
      bytes: this.bytes[i]!,
    };
    if (this.aborted[i] === 1) rec.aborted = true;
    if (this.lockWaits) {
      const list = this.waits[i];
      rec.waits = list === null ? [] : list.map((w): LockWaitJson => {
        const j: LockWaitJson = { lock: w.lock, mode: w.mode, site: siteOf(w.site), start: perfToWallNs(w.startMs).toString(), duration: w.durationNs };
        if (w.gaveUp) j.gaveUp = true;
        return j;
      });
    }
    return rec;
  }
}
