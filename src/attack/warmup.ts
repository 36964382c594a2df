import { Duplex } from 'node:stream';
import { Client } from 'undici';

/**
 * Runs a few requests through undici's HTTP/1.1 path against an in-memory socket before the clock
 * starts, so one-time costs land before the first real request instead of on it: undici compiles
 * its llhttp WebAssembly parser on the first connection (tens of ms on a busy machine) and V8
 * compiles the request path on first use. Without this, the first requests of every attack are
 * late, and each late request finds every connection busy and dials another.
 * Nothing goes on the network.
 */
export async function warmUpHttp(requests = 64): Promise<void> {
  const response = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nkeep-alive: timeout=5\r\n\r\nok');
  const socket = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      // One response per request head written (requests here have no body).
      const heads = chunk.toString('latin1').split('\r\n\r\n').length - 1;
      for (let i = 0; i < heads; i++) this.push(response);
      cb();
    },
  });
  const fake = socket as Duplex & { setNoDelay?: () => void; setKeepAlive?: () => void; ref?: () => void; unref?: () => void };
  fake.setNoDelay = fake.setKeepAlive = fake.ref = fake.unref = () => {};
  const client = new Client('http://warmup.invalid', {
    connect: (_opts, cb) => queueMicrotask(() => cb(null, socket as never)),
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  try {
    for (let i = 0; i < requests; i++) {
      await new Promise<void>((resolve) => {
        client.dispatch(
          { path: '/', method: 'GET', headers: ['user-agent', 'warmup'], blocking: false },
          {
            onConnect() {},
            onHeaders: () => true,
            onData: () => true,
            onComplete: () => resolve(),
            onError: () => resolve(),
          } as never,
        );
      });
    }
  } finally {
    await client.destroy().catch(() => {});
    socket.destroy();
  }
}
