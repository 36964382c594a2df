/**
 * The small Node service bench/agent-overhead.ts measures, with and without tailprobe/agent
 * (loaded by `node --import tailprobe/agent`, so this file does not change between variants).
 *
 * Each request does a little honest work (build an object, serialize it): ~tens of µs, so the
 * figures show what the agent costs a service that is doing something, not an empty loop.
 * Prints "listening on http://ADDR"; exits by itself after EXIT_AFTER_MS (a crashed bench leaves
 * nothing running).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

function render(n: number): string {
  const item: Record<string, number | string> = {};
  for (let i = 0; i < 24; i++) item[`field${i}`] = i % 3 === 0 ? `value-${n}-${i}` : n * i;
  return JSON.stringify({ id: n, item, tags: ['a', 'b', 'c'] });
}

let n = 0;
const server = createServer((_req, res) => {
  const body = render(n++);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
setTimeout(() => process.exit(0), Number(process.env.EXIT_AFTER_MS ?? 600_000)).unref();
