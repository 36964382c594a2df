import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { HostPool } from '../../src/attack/host-pool.js';

/**
 * Connections opened before the clock starts are ready connections, not sockets in a drawer: the
 * first requests of a schedule (which are due together when the start is late or the rate is high)
 * each go out on one of them at once, inside dispatch(), with no dial and no loop turn between.
 */
test('host pool: prewarmed plain-http connections carry the first requests at once, one each', async () => {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((s) => {
    accepted++;
    sockets.add(s);
    s.on('data', () => s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const pool = new HostPool(origin, { maxConnections: 0, pipelining: 1, h2Streams: 100, maxConnecting: 64, http2: false, h2c: false, insecure: false, connectTimeoutMs: 5000 });
  const n = 6;
  try {
    await pool.prewarm(n);
    assert.equal(pool.size, n, 'the connections exist before the first request');
    const sentInDispatch: boolean[] = [];
    const done: Promise<number>[] = [];
    for (let i = 0; i < n; i++) {
      let inDispatch = true;
      let connected = false;
      done.push(
        new Promise<number>((resolve, reject) => {
          const handler = {
            conn: null,
            onConnect: () => void (connected = inDispatch),
            onHeaders: (status: number) => {
              resolve(status);
              return true;
            },
            onData: () => true,
            onComplete: () => pool.finished(handler as never),
            onError: reject,
          };
          pool.dispatch({ method: 'GET', path: '/', headers: [], body: null } as never, handler as never);
        }),
      );
      inDispatch = false;
      sentInDispatch.push(connected);
    }
    assert.deepEqual(sentInDispatch, Array(n).fill(true), 'each request was written inside its dispatch()');
    assert.deepEqual(await Promise.all(done), Array(n).fill(200));
    assert.equal(accepted, n, 'no connection beyond the prewarmed ones');
  } finally {
    await pool.close();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
