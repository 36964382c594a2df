/**
 * A test server with a fixed, known latency distribution, in its own process (so the generators'
 * load does not share its event loop): GET /d/MS answers after MS milliseconds. It counts the
 * requests it receives and when (process.hrtime), so the achieved rate is measured at the server:
 *   GET /__stats  -> {"count": n, "firstNs": "...", "lastNs": "...", "arrivalsMs": [...]} (not counted;
 *                    arrivals in ms since the first, in order)
 *   GET /__reset  -> clears the counts
 * Prints its port on stdout; exits when stdin closes.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

let count = 0;
let first = 0n;
let last = 0n;
let arrivals: number[] = [];
const server = createServer((req, res) => {
  req.resume();
  const url = req.url ?? '/';
  if (url === '/__stats') return res.end(JSON.stringify({ count, firstNs: String(first), lastNs: String(last), arrivalsMs: arrivals }));
  if (url === '/__reset') {
    count = 0;
    first = last = 0n;
    arrivals = [];
    return res.end('ok');
  }
  const now = process.hrtime.bigint();
  if (count === 0) first = now;
  last = now;
  count++;
  arrivals.push(Number(now - first) / 1e6);
  const m = /^\/d\/(\d+)$/.exec(url);
  setTimeout(() => res.end('ok\n'), m ? Number(m[1]) : 0);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
