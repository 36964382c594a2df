/**
 * A service with one cause of slowness injected at known instants, for explain's ground-truth
 * tests. Started as a child process (the generator must not share its event loop):
 *
 *   node [--expose-gc] dist/test/explain/service-main.js stall|lock|gc|none
 *
 * Prints `ready url=... agent=...` once listening. GET /truth answers what was injected: the
 * windows (wall-clock epoch ns, as the agent's clock) and, for `lock`, nothing more is needed: the
 * agent's records say which requests waited.
 *
 *   stall  the event loop is blocked for 150 ms every 400 ms (a synchronous hot loop)
 *   lock   a slow writer holds a tailprobe/sync Mutex for 120 ms every 400 ms; every request takes
 *          the lock for an instant, so those that arrive meanwhile wait for the writer
 *   gc     five full GCs in a row (gc(), on a heap of ~1.5 million live objects) every 400 ms
 *   none   nothing injected
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startAgent } from '../../src/agent/index.js';
import { Mutex } from '../../src/sync/index.js';
import { wallClockNs } from '../../src/time/wall.js';

const mode = process.argv[2] ?? 'none';
const PERIOD_MS = 400;
const windows: Array<[string, string]> = [];
const lock = new Mutex('truth-lock');
const retained: unknown[] = [];

function inject(): void {
  const start = wallClockNs();
  if (mode === 'stall') {
    const end = performance.now() + 150;
    while (performance.now() < end) {
      /* blocked */
    }
    windows.push([String(start), String(wallClockNs())]);
  } else if (mode === 'gc') {
    // Back to back: one pause of tens of milliseconds, made of five full collections.
    for (let k = 0; k < 5; k++) (globalThis as { gc?: () => void }).gc?.();
    windows.push([String(start), String(wallClockNs())]);
  } else if (mode === 'lock') {
    void lock.lock().then((release) => {
      const held = wallClockNs();
      setTimeout(() => {
        release();
        windows.push([String(held), String(wallClockNs())]);
      }, 120);
    });
  }
}

if (mode === 'gc') {
  if (typeof (globalThis as { gc?: unknown }).gc !== 'function') {
    process.stderr.write('service-main: gc mode needs --expose-gc\n');
    process.exit(2);
  }
  // A heap whose full collection takes tens of milliseconds to mark.
  for (let i = 0; i < 1_500_000; i++) retained.push({ i, s: `v${i}`, next: null as unknown });
}

const server = createServer(async (req, res) => {
  if (req.url === '/truth') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ mode, windows }));
    return;
  }
  if (mode === 'lock') {
    (await lock.lock())();
  }
  res.end('ok');
});

const agent = await startAgent({ port: 0 });
server.listen(0, '127.0.0.1', () => {
  const port = (server.address() as AddressInfo).port;
  setInterval(inject, PERIOD_MS).unref();
  process.stdout.write(`ready url=http://127.0.0.1:${port} agent=${agent.url}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
