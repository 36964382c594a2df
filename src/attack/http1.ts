import type { Socket } from 'node:net';
import type { Dispatcher } from 'undici';
import { TRACEPARENT_HEADER, traceparentOf, writeTraceSeq } from '../results/trace-id.js';
import { readSinkOf } from './tcp-dial.js';
import { CONNECTION_ABORTED, CONNECTION_RESET, ResultError, SERVER_CLOSED, SHORT_BODY, invalidResponse } from './error-text.js';

/**
 * A lean HTTP/1.1 client connection for plain-http targets: the attack's hot path.
 *
 * A load generator sends the same few requests millions of times and only needs, of each response,
 * its status, its length and (sometimes) its headers and body. undici is a complete client and pays
 * for being one on every request (a request object, header validation, the llhttp parser in
 * WebAssembly, per-request state machines): profiled in max mode it was half of our JavaScript
 * time. Here a request's bytes are encoded once per request shape and written as one buffer, and
 * responses are framed by a small parser that reads only what framing needs (status line,
 * Content-Length, Transfer-Encoding, Connection) with native Buffer searches.
 *
 * It speaks to the attack's request handlers through the same callbacks undici's legacy handler API
 * uses (onConnect, onHeaders, onData, onComplete, onError), so HostPool can use it in place of an
 * undici Client for plain http:// origins; TLS, HTTP/2 and h2c stay with undici. Like an undici
 * Client it is one connection that dials lazily, reconnects for the next request after the server
 * closed it, and carries as many requests at once (pipelined, in order) as HostPool hands it.
 */

/** undici's legacy dispatch handler: what the attack's Exchange implements. */
export interface LegacyHandler {
  onConnect?(abort: (err?: Error) => void): void;
  onHeaders?(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean;
  onData?(chunk: Buffer): boolean;
  onComplete?(trailers: unknown): void;
  onError?(err: Error): void;
  /**
   * Optional: whether this response's raw headers and status text are wanted (building them costs;
   * default yes). When not, onHeaders gets an empty list and an empty status text.
   */
  wantsHeaders?(statusCode: number): boolean;
  /** The request's seq in its attack, for its traceparent header (see AttackDispatchOptions). */
  readonly seq?: number;
}

/** A request shape's bytes, encoded once; `traceAt` >= 0 is where each request's seq digits go. */
interface Encoded {
  bytes: Buffer;
  traceAt: number;
}

/** undici's connector signature (HostPool's, which also hands out pre-opened sockets). */
export type Connect = (opts: { hostname: string; host: string; protocol: string; port: string; servername?: string }, cb: (err: Error | null, socket: Socket | null) => void) => void;

/** A request's failure here carries the text its result records (see error-text.ts). */
const closedError = () => new ResultError(SERVER_CLOSED);
const resetError = (cause: Error) => new ResultError(CONNECTION_RESET, { cause });
const parseError = (what: string) => new ResultError(invalidResponse(what));
const destroyedError = () => new ResultError('the connection is closed');

/** Longest response head we accept (undici's default maxHeaderSize is 16 KiB). */
const MAX_HEAD = 16 * 1024;
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const noop = () => {};
/** Handed to onHeaders when the handler does not want headers (never written to). */
const NO_HEADERS: Buffer[] = [];
const CONTENT_LENGTH = Buffer.from('content-length', 'latin1');
const TRANSFER_ENCODING = Buffer.from('transfer-encoding', 'latin1');
const CONNECTION = Buffer.from('connection', 'latin1');
const KEEP_ALIVE = Buffer.from('keep-alive', 'latin1');

/** Whether buf[pos...] is `name` (lower-case ASCII letters and '-'), ignoring case, without making a string. */
function isName(buf: Buffer, pos: number, name: Buffer): boolean {
  for (let i = 0; i < name.length; i++) if ((buf[pos + i]! | 0x20) !== name[i]) return false;
  return true;
}

// Parser states.
const HEAD = 0;
const BODY_LENGTH = 1;
const CHUNK_SIZE = 2;
const CHUNK_DATA = 3;
const CHUNK_END = 4;
const TRAILERS = 5;
const BODY_UNTIL_CLOSE = 6;

// A written request's flags (Http1Connection.flags, beside its handler).
const REQ_HEAD = 1;
/** The request asked the server to close after it (no keep-alive). */
const REQ_CLOSE = 2;

/**
 * The abort() a handler is given in onConnect, made once per handler (the attack recycles its
 * handlers, so a request costs no closure): it aborts the request the handler has in flight on the
 * connection that last wrote one for it (a handler carries one request at a time). Called after
 * its request was answered it does nothing, unless the handler has since sent another: the
 * Runner drops a request's abort() when the request ends (Exchange.abortFn).
 */
interface Aborter {
  conn: Http1Connection | null;
  readonly abort: (err?: Error) => void;
}
const aborters = new WeakMap<LegacyHandler, Aborter>();

export class Http1Connection {
  private socket: Socket | null = null;
  private connecting = false;
  private destroyed = false;
  /** Requests waiting for the socket to connect. */
  private pending: { opts: Dispatcher.DispatchOptions; handler: LegacyHandler }[] = [];
  /**
   * Requests written and waiting for their responses, oldest first: their handlers in
   * queue[qHead, qTail), and beside them their REQ_ flags. No record per request, and the arrays
   * keep their slots when they empty (qHead = qTail = 0), so a request allocates nothing here.
   */
  private queue: (LegacyHandler | undefined)[] = [];
  private flags: number[] = [];
  private qHead = 0;
  private qTail = 0;
  /** The response being read (queue[qHead]). */
  private state = HEAD;
  private remaining = 0;
  private keepAlive = true;
  /** Bytes of a head or chunk-size line that arrived split across reads. */
  private carry: Buffer | null = null;
  private readonly encoded = new WeakMap<Dispatcher.DispatchOptions, Encoded>();

  constructor(
    private readonly origin: URL,
    private readonly connect: Connect,
  ) {}

  /** Queues a request; it is written at once when the connection is up. */
  dispatch(opts: Dispatcher.DispatchOptions, handler: LegacyHandler): boolean {
    if (this.destroyed) {
      handler.onError?.(destroyedError());
      return false;
    }
    if (this.socket !== null && !this.connecting) this.write(opts, handler, this.socket);
    else {
      this.pending.push({ opts, handler });
      if (!this.connecting) this.dial();
    }
    return true;
  }

  /** Takes an open socket (dialled before the attack) as this connection's, if it has none yet. */
  adopt(socket: Socket): void {
    if (this.socket === null && !this.connecting && !this.destroyed && !socket.destroyed) this.attach(socket);
    else if (this.socket !== socket) socket.destroy();
  }

  /** Closes the connection now; requests on it fail. */
  async destroy(): Promise<void> {
    this.destroyed = true;
    this.failAll(destroyedError());
  }

  private dial(): void {
    this.connecting = true;
    const u = this.origin;
    const hostname = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
    this.connect({ hostname, host: u.host, protocol: u.protocol, port: u.port || '80' }, (err, socket) => {
      this.connecting = false;
      if (this.destroyed) {
        socket?.destroy();
        return;
      }
      if (err !== null || socket === null) {
        const pending = this.pending;
        this.pending = [];
        for (const p of pending) p.handler.onError?.(err ?? new Error('connect failed'));
        return;
      }
      this.attach(socket);
      const pending = this.pending;
      this.pending = [];
      for (const p of pending) {
        if (this.socket !== socket) this.dispatch(p.opts, p.handler);
        else this.write(p.opts, p.handler, socket);
      }
    });
  }

  private attach(socket: Socket): void {
    this.socket = socket;
    this.state = HEAD;
    this.carry = null;
    this.keepAlive = true;
    // Sockets deliver reads on their own turns of the event loop (the warm-up's in-memory ones
    // too), so a request sent from inside a response's callback never re-enters read().
    const sink = readSinkOf(socket);
    if (sink !== undefined) {
      // Dialled by tcp-dial.ts: the bytes are in the thread's shared read buffer, valid until we return.
      sink.onBytes = (buf, n) => {
        if (this.socket === socket) this.read(buf, n);
      };
    } else {
      socket.on('data', (chunk: Buffer) => {
        if (this.socket === socket) this.read(chunk, chunk.length);
      });
    }
    socket.on('error', (err: Error) => {
      if (this.socket === socket) this.lost(err);
    });
    socket.on('end', () => {
      if (this.socket === socket) this.lost(null);
    });
    socket.on('close', () => {
      if (this.socket === socket) this.lost(null);
    });
  }

  private write(opts: Dispatcher.DispatchOptions, handler: LegacyHandler, socket: Socket): void {
    let enc = this.encoded.get(opts);
    if (enc === undefined) {
      try {
        enc = encodeRequestShape(opts, this.origin.host);
      } catch (err) {
        handler.onError?.(err as Error);
        return;
      }
      this.encoded.set(opts, enc);
    }
    let bytes = enc.bytes;
    if (enc.traceAt >= 0) {
      // The shape's bytes with this request's seq in its traceparent: one copy, no strings.
      bytes = Buffer.allocUnsafe(enc.bytes.length);
      enc.bytes.copy(bytes);
      writeTraceSeq(bytes, enc.traceAt, handler.seq ?? 0);
    }
    let aborter = aborters.get(handler);
    if (aborter === undefined) aborter = Http1Connection.aborterOf(handler);
    aborter.conn = this;
    try {
      handler.onConnect?.(aborter.abort);
    } catch (err) {
      // The handler gave up on the request before it went out (it timed out while queued).
      handler.onError?.(err as Error);
      return;
    }
    // A pipelined connection may never empty: reuse the answered slots before growing.
    if (this.qTail === this.queue.length && this.qHead > 0 && this.qHead >= this.qTail >> 1) this.compact();
    this.queue[this.qTail] = handler;
    this.flags[this.qTail++] = (opts.method === 'HEAD' ? REQ_HEAD : 0) | (opts.reset === true ? REQ_CLOSE : 0);
    socket.write(bytes);
  }

  /** Moves the unanswered requests to the front of the queue. */
  private compact(): void {
    const q = this.queue;
    const n = this.qTail - this.qHead;
    for (let i = 0; i < n; i++) {
      q[i] = q[this.qHead + i];
      this.flags[i] = this.flags[this.qHead + i]!;
    }
    for (let i = n; i < this.qTail; i++) q[i] = undefined;
    this.qHead = 0;
    this.qTail = n;
  }

  private static aborterOf(handler: LegacyHandler): Aborter {
    const a: Aborter = { conn: null, abort: (err?: Error) => a.conn?.abort(handler, err) };
    aborters.set(handler, a);
    return a;
  }

  /** undici's abort(): the request fails with `err`, and the connection goes with it (HTTP/1.1 cannot skip one response). */
  private abort(handler: LegacyHandler, err?: Error): void {
    const q = this.queue;
    let i = this.qHead;
    while (i < this.qTail && q[i] !== handler) i++;
    if (i === this.qTail) return; // already answered (or carried by another connection now)
    for (; i + 1 < this.qTail; i++) {
      q[i] = q[i + 1];
      this.flags[i] = this.flags[i + 1]!;
    }
    q[--this.qTail] = undefined;
    handler.onError?.(err ?? new ResultError('aborted'));
    // The others on this connection fail with it (undici's "aborted").
    this.reset(new ResultError(CONNECTION_ABORTED));
  }

  /** Drops the socket, failing the requests written on it; pending requests dial again. */
  private reset(err: Error): void {
    const s = this.socket;
    this.socket = null;
    s?.destroy();
    const q = this.queue;
    const from = this.qHead;
    const to = this.qTail;
    this.queue = [];
    this.flags = [];
    this.qHead = this.qTail = 0;
    this.state = HEAD;
    this.carry = null;
    for (let i = from; i < to; i++) q[i]!.onError?.(err);
    if (this.pending.length > 0 && !this.connecting && !this.destroyed) this.dial();
  }

  private failAll(err: Error): void {
    const pending = this.pending;
    this.pending = [];
    this.reset(err);
    for (const p of pending) p.handler.onError?.(err);
  }

  /** The server closed the connection (or it failed). */
  private lost(err: Error | null): void {
    if (this.state === BODY_UNTIL_CLOSE && err === null && this.qHead < this.qTail) {
      // A response without a length ends when the connection does.
      this.complete();
    }
    if (this.qHead < this.qTail) {
      if (err === null && this.state === BODY_LENGTH) this.reset(new ResultError(SHORT_BODY));
      else this.reset(err !== null && (err as NodeJS.ErrnoException).code === 'ECONNRESET' ? resetError(err) : err ?? closedError());
    } else this.reset(closedError());
  }

  /**
   * Reads chunk[0, length). The chunk may be a buffer the socket reuses for its next read (see
   * tcp-dial.ts): whatever outlives this call is copied (a split head) or copied by the handler
   * (body bytes it keeps, headers it parses).
   */
  private read(chunk: Buffer, length: number): void {
    // A view of just this read: every search below stops at its end, never in a previous read's bytes.
    let buf = length === chunk.length ? chunk : chunk.subarray(0, length);
    if (this.carry !== null) {
      buf = Buffer.concat([this.carry, buf]);
      this.carry = null;
    }
    let pos = 0;
    const len = buf.length;
    while (pos < len && this.socket !== null) {
      if (this.qHead >= this.qTail) {
        this.reset(parseError('response without a request'));
        return;
      }
      switch (this.state) {
        case HEAD: {
          const end = buf.indexOf(CRLFCRLF, pos);
          if (end < 0) {
            if (len - pos > MAX_HEAD) return this.reset(parseError('response head too large'));
            this.carry = Buffer.from(buf.subarray(pos));
            return;
          }
          if (!this.head(buf, pos, end)) return;
          pos = end + 4;
          break;
        }
        case BODY_LENGTH: {
          if (this.remaining <= 0) {
            this.complete();
            break;
          }
          const take = Math.min(this.remaining, len - pos);
          this.data(buf.subarray(pos, pos + take));
          pos += take;
          this.remaining -= take;
          if (this.remaining === 0) this.complete();
          break;
        }
        case BODY_UNTIL_CLOSE:
          this.data(buf.subarray(pos));
          pos = len;
          break;
        case CHUNK_SIZE: {
          const eol = buf.indexOf(10, pos);
          if (eol < 0) {
            if (len - pos > 1024) return this.reset(parseError('chunk size line too long'));
            this.carry = Buffer.from(buf.subarray(pos));
            return;
          }
          let size = 0;
          let digits = 0;
          for (let i = pos; i < eol; i++) {
            const c = buf[i]!;
            const v = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
            if (v < 0) break; // extensions (;...) or the CR
            size = size * 16 + v;
            digits++;
          }
          if (digits === 0 || size > Number.MAX_SAFE_INTEGER / 16) return this.reset(parseError('invalid chunk size'));
          pos = eol + 1;
          if (size === 0) this.state = TRAILERS;
          else {
            this.remaining = size;
            this.state = CHUNK_DATA;
          }
          break;
        }
        case CHUNK_DATA: {
          const take = Math.min(this.remaining, len - pos);
          this.data(buf.subarray(pos, pos + take));
          pos += take;
          this.remaining -= take;
          if (this.remaining === 0) {
            this.state = CHUNK_END;
            this.remaining = 2;
          }
          break;
        }
        case CHUNK_END: {
          // The CRLF after a chunk's data (possibly split across reads).
          const take = Math.min(this.remaining, len - pos);
          pos += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = CHUNK_SIZE;
          break;
        }
        case TRAILERS: {
          // Trailer lines until an empty one; their content is not kept.
          const eol = buf.indexOf(10, pos);
          if (eol < 0) {
            if (len - pos > MAX_HEAD) return this.reset(parseError('trailers too large'));
            this.carry = Buffer.from(buf.subarray(pos));
            return;
          }
          const empty = eol === pos || (eol === pos + 1 && buf[pos] === 13);
          pos = eol + 1;
          if (empty) this.complete();
          break;
        }
      }
    }
  }

  /** Parses a response head in buf[start, end) (end: the blank line). False when the connection was reset. */
  private head(buf: Buffer, start: number, end: number): boolean {
    // "HTTP/1.x NNN reason"
    if (end - start < 12 || buf[start] !== 72 || buf[start + 4] !== 47 || buf[start + 5] !== 49 || buf[start + 6] !== 46 || buf[start + 8] !== 32) {
      this.reset(parseError(`expected HTTP/1.x, got "${buf.toString('latin1', start, Math.min(end, start + 32))}"`));
      return false;
    }
    const minor = buf[start + 7]! - 48;
    const d0 = buf[start + 9]! - 48;
    const d1 = buf[start + 10]! - 48;
    const d2 = buf[start + 11]! - 48;
    if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) {
      this.reset(parseError('invalid status code'));
      return false;
    }
    const status = d0 * 100 + d1 * 10 + d2;
    let lineEnd = buf.indexOf(10, start);
    const h = this.queue[this.qHead]!;
    const flags = this.flags[this.qHead]!;
    const wantRaw = h.wantsHeaders === undefined || h.wantsHeaders(status);
    const statusText = wantRaw ? buf.toString('latin1', Math.min(start + 13, lineEnd), lineEnd > 0 && buf[lineEnd - 1] === 13 ? lineEnd - 1 : lineEnd) : '';
    const raw: Buffer[] = wantRaw ? [] : NO_HEADERS;
    let length = -1;
    let chunked = false;
    let close = minor === 0; // HTTP/1.0 closes unless it says keep-alive
    let pos = lineEnd + 1;
    while (pos < end + 2) {
      lineEnd = buf.indexOf(10, pos);
      const stop = buf[lineEnd - 1] === 13 ? lineEnd - 1 : lineEnd;
      const colon = buf.indexOf(58, pos);
      if (colon < 0 || colon > stop) {
        this.reset(parseError('invalid header line'));
        return false;
      }
      let vs = colon + 1;
      while (vs < stop && (buf[vs] === 32 || buf[vs] === 9)) vs++;
      let ve = stop;
      while (ve > vs && (buf[ve - 1] === 32 || buf[ve - 1] === 9)) ve--;
      const nameLen = colon - pos;
      // Only the framing headers are read here (by length, then by name).
      if (nameLen === 14 && (buf[pos]! | 0x20) === 99 && isName(buf, pos, CONTENT_LENGTH)) {
        let n = 0;
        for (let i = vs; i < ve; i++) {
          const c = buf[i]! - 48;
          if (c < 0 || c > 9) {
            this.reset(parseError('invalid Content-Length'));
            return false;
          }
          n = n * 10 + c;
        }
        length = n;
      } else if (nameLen === 17 && (buf[pos]! | 0x20) === 116 && isName(buf, pos, TRANSFER_ENCODING)) {
        chunked = /(^|,)\s*chunked\s*$/i.test(buf.toString('latin1', vs, ve));
      } else if (nameLen === 10 && (buf[pos]! | 0x20) === 99 && isName(buf, pos, CONNECTION)) {
        // "keep-alive", nearly every keep-alive server's answer, without making a string.
        if (ve - vs === 10 && isName(buf, vs, KEEP_ALIVE)) close = false;
        else {
          const v = buf.toString('latin1', vs, ve).toLowerCase();
          if (v.includes('close')) close = true;
          else if (v.includes('keep-alive')) close = false;
        }
      }
      if (wantRaw) raw.push(buf.subarray(pos, colon), buf.subarray(vs, ve));
      pos = lineEnd + 1;
    }

    if (status < 200) {
      // 1xx: an interim response; the final one follows (101 would switch protocols: not asked for).
      if (status === 101) {
        this.reset(parseError('unexpected 101 Switching Protocols'));
        return false;
      }
      return true;
    }
    this.keepAlive = !close && (flags & REQ_CLOSE) === 0;
    h.onHeaders?.(status, raw, noop, statusText);
    if (this.socket === null) return false; // the handler aborted
    if ((flags & REQ_HEAD) !== 0 || status === 204 || status === 304) this.complete();
    else if (chunked) this.state = CHUNK_SIZE;
    else if (length >= 0) {
      if (length === 0) this.complete();
      else {
        this.remaining = length;
        this.state = BODY_LENGTH;
      }
    } else {
      this.state = BODY_UNTIL_CLOSE;
      this.keepAlive = false;
    }
    return this.socket !== null;
  }

  private data(chunk: Buffer): void {
    if (chunk.length > 0) this.queue[this.qHead]!.onData?.(chunk);
  }

  private complete(): void {
    const h = this.queue[this.qHead]!;
    this.queue[this.qHead++] = undefined;
    if (this.qHead === this.qTail) this.qHead = this.qTail = 0;
    this.state = HEAD;
    const keep = this.keepAlive;
    h.onComplete?.(null);
    if (!keep && this.socket !== null) {
      // The server will close (or we asked it to): requests written after this one cannot be answered.
      this.reset(closedError());
    }
  }
}

/** A request's bytes: request line, Host, the target's headers, Content-Length, body. */
export function encodeRequest(opts: Dispatcher.DispatchOptions, host: string): Buffer {
  return encodeRequestShape(opts, host).bytes;
}

/**
 * A request shape's bytes. With a trace attack id, a `traceparent` line with seq 0 is the last
 * header and `traceAt` says where its seq digits are (writeTraceSeq fills them per request).
 */
export function encodeRequestShape(opts: Dispatcher.DispatchOptions & { traceAttackId?: string | null }, host: string): Encoded {
  const method = opts.method;
  let head = `${method} ${opts.path} HTTP/1.1\r\nhost: ${host}\r\n`;
  const h = opts.headers;
  let hasHost = false;
  const add = (k: string, v: string) => {
    if (/[\r\n]/.test(k) || /[\r\n]/.test(v)) throw new TypeError(`invalid header ${JSON.stringify(k)}`);
    if (k.toLowerCase() === 'host') hasHost = true;
    head += `${k}: ${v}\r\n`;
  };
  if (Array.isArray(h)) for (let i = 0; i + 1 < h.length; i += 2) add(String(h[i]), String(h[i + 1]));
  else if (h && typeof h === 'object') {
    for (const [k, v] of Object.entries(h as Record<string, string | string[] | undefined>)) {
      if (v === undefined) continue;
      for (const one of Array.isArray(v) ? v : [v]) add(k, one);
    }
  }
  if (hasHost) head = head.replace(`host: ${host}\r\n`, '');
  const body = opts.body as Uint8Array | null | undefined;
  const n = body ? body.byteLength : 0;
  // undici sends Content-Length for a body, and for an empty body of a method that expects one.
  if (n > 0 || method === 'POST' || method === 'PUT' || method === 'PATCH') head += `content-length: ${n}\r\n`;
  if (opts.reset === true) head += 'connection: close\r\n';
  let traceAt = -1;
  if (opts.traceAttackId) {
    const line = `${TRACEPARENT_HEADER}: ${traceparentOf(opts.traceAttackId, 0)}\r\n`;
    // "traceparent: 00-" + the attack id's 16 digits: the seq's digits follow.
    traceAt = Buffer.byteLength(head, 'latin1') + TRACEPARENT_HEADER.length + 2 + 3 + 16;
    head += line;
  }
  head += '\r\n';
  const h8 = Buffer.from(head, 'latin1');
  return { bytes: n > 0 ? Buffer.concat([h8, body!]) : h8, traceAt };
}
