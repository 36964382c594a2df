import { Duplex } from 'node:stream';
import { Metrics } from '../metrics/metrics.js';
import { BinaryEncoder } from '../results/binary-encoder.js';
import { Clock } from '../time/clock.js';
import { Plan } from './plan.js';
import { Runner } from './runner.js';

/**
 * Runs the real engine (Runner, HostPool, undici, llhttp, Metrics, the binary encoder) against
 * in-memory sockets before the clock starts, until it runs at full speed. Nothing goes on the
 * network.
 *
 * Why: a cold process is slow for longer than one would think. Measured on a 2-core
 * machine, in memory, per request: 180 µs for the first 5,000 requests, 110 µs for the next 5,000, 25 µs
 * for the next, 14 µs after that. undici compiles its WebAssembly parser on the first connection,
 * and V8 optimises the request path only after thousands of runs (its compiler threads compete for
 * the same cores). A paced attack that starts cold sends late for its first seconds (at 5,000 req/s
 * the backlog reached 150 ms), and those late sends are the generator's, not the service's.
 *
 * It runs in rounds of 1,000 requests and stops when a round is no faster than the best one so
 * far (converged), after `maxRequests` (the attack passes about one second of its schedule: a slow
 * schedule has the headroom to run cold, and warming up costs CPU), or after `maxMs`.
 */
const WARMUP_ATTACK_ID = '7761726d75702121';

export async function warmUp(opts: { maxRequests?: number; maxMs?: number } = {}): Promise<void> {
  const maxRequests = Math.min(opts.maxRequests ?? 20_000, 20_000);
  const maxMs = opts.maxMs ?? 2000;
  if (maxRequests <= 0) return;
  const plan = new Plan([{ method: 'GET', url: 'http://warmup.invalid/', headers: {}, body: null }], {
    prewarm: 0,
    maxConnections: 8,
    pipelining: 1,
    http2: false,
    h2c: false,
    insecure: false,
    keepalive: true,
    connectTimeoutMs: 1000,
    headers: {},
    // The measured requests carry a traceparent; the warm-up runs the same code.
    traceAttackId: WARMUP_ATTACK_ID,
    connector: (_opts, cb) => {
      const s = memorySocket();
      queueMicrotask(() => cb(null, s as never));
      return s as never;
    },
  });
  const metrics = new Metrics();
  const encoder = new BinaryEncoder();
  const t0 = performance.now();
  let done = 0;
  let best = Infinity;
  try {
    while (done < maxRequests && performance.now() - t0 < maxMs) {
      const n = Math.min(ROUND, maxRequests - done);
      const start = performance.now();
      await round(plan, n, metrics, encoder);
      const ms = performance.now() - start;
      done += n;
      if (done >= 4 * ROUND && ms >= best * 0.9) break;
      best = Math.min(best, ms);
    }
  } finally {
    encoder.take();
    await plan.close();
  }
}

const ROUND = 1000;

function round(plan: Plan, requests: number, metrics: Metrics, encoder: BinaryEncoder): Promise<unknown> {
  let n = 0;
  const runner: Runner = new Runner({
    plan,
    clock: Clock.startingIn(0),
    pacer: null,
    durationNs: 60e9,
    timeoutNs: 10e9,
    first: 0,
    stride: 1,
    maxInFlight: 8,
    name: 'warmup',
    redirects: 10,
    maxBody: 0,
    keepHeaders: false,
    emit: (r) => {
      metrics.add(r);
      encoder.encode(r);
      if (++n === requests) runner.stop();
    },
  });
  runner.start();
  return runner.finished;
}

const RESPONSE = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nkeep-alive: timeout=5\r\n\r\nok');

/** A socket that answers every request head written to it with a small 200 response. */
function memorySocket(): Duplex {
  const s = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      const heads = chunk.toString('latin1').split('\r\n\r\n').length - 1;
      // The answer arrives on a later turn of the event loop, as from a network socket: an answer
      // inside write() would complete a request inside its own send, and a closed loop would never
      // give the event loop a turn.
      setImmediate(() => {
        for (let i = 0; i < heads; i++) this.push(RESPONSE);
      });
      cb();
    },
  });
  const fake = s as Duplex & { setNoDelay?: () => unknown; setKeepAlive?: () => unknown; ref?: () => unknown; unref?: () => unknown };
  fake.setNoDelay = fake.setKeepAlive = fake.ref = fake.unref = () => s;
  return s;
}
