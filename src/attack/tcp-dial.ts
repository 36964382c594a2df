import { connect as netConnect, type Socket } from 'node:net';
import { errors } from 'undici';
import type { Connect } from './http1.js';

/**
 * The plain-TCP dialer of http1.ts's connections: undici's connector for http://, except that a
 * socket's reads land in one buffer that every connection of the thread shares (net's `onread`).
 *
 * Why: in max mode against nginx, a socket in the usual mode costs a fresh 64 KiB ArrayBuffer per
 * read (allocated, wrapped, swept by the GC) and a trip through the Readable stream machinery
 * before our parser sees a byte. With `onread`, libuv reads into the shared buffer and our callback
 * is the first JavaScript to run: measured on the bench's nginx, 121k -> 140k req/s on one worker
 * with the same CPU. The parser (http1.ts) reads each chunk before the callback returns and copies
 * what it keeps (a split head, body bytes a handler keeps), so one buffer serves every connection.
 *
 * Everything else is what undici's buildConnector does for http: TCP_NODELAY, keep-alive probes
 * after 60 s, a connect timeout that fails with undici's ConnectTimeoutError (so results record
 * the same text whichever client dialled).
 */

/** Where a socket dialled here delivers its reads; http1.ts sets `onBytes` when it takes the socket. */
export interface ReadSink {
  onBytes: ((buf: Buffer, length: number) => void) | null;
}

const sinks = new WeakMap<Socket, ReadSink>();

/** The read sink of a socket dialled by tcpConnector(), undefined for any other (it emits 'data'). */
export function readSinkOf(socket: Socket): ReadSink | undefined {
  return sinks.get(socket);
}

/** Reads of every socket dialled here, on this thread: each is consumed before the next read. */
let shared: Buffer | null = null;
const READ_BUFFER_BYTES = 64 * 1024;

export function tcpConnector(o: { timeoutMs: number }): Connect {
  return ({ hostname, port }, cb) => {
    const buffer = (shared ??= Buffer.allocUnsafe(READ_BUFFER_BYTES));
    const sink: ReadSink = { onBytes: null };
    const p = Number(port) || 80;
    const socket = netConnect({
      host: hostname,
      port: p,
      onread: {
        buffer,
        callback: (n: number) => {
          // Nothing takes the socket's bytes before a connection attaches (none arrive unasked).
          sink.onBytes?.(buffer, n);
          return true;
        },
      },
    });
    sinks.set(socket, sink);
    socket.setKeepAlive(true, 60e3);
    socket.setNoDelay(true);
    let done = false;
    const timer =
      o.timeoutMs > 0
        ? setTimeout(() => {
            if (done) return;
            done = true;
            socket.destroy();
            cb(new errors.ConnectTimeoutError(`Connect Timeout Error (attempted address: ${hostname}:${p}, timeout: ${o.timeoutMs}ms)`), null);
          }, o.timeoutMs)
        : null;
    socket.once('connect', () => {
      if (timer !== null) clearTimeout(timer);
      if (done) return;
      done = true;
      cb(null, socket);
    });
    socket.on('error', (err) => {
      if (timer !== null) clearTimeout(timer);
      if (done) return;
      done = true;
      cb(err, null);
    });
  };
}
