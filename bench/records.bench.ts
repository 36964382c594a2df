/**
 * What the agent's per-request records cost each request, in isolation (the end-to-end figure,
 * noisier, is `node dist/bench/agent-overhead.js -service=lookup`):
 *
 *   npx tsc -p . && tailprobe bench -benchmem bench/records.bench.ts
 *
 * Records/request: one request through the recorder as Node's http server drives it, i.e. a
 * publish on `http.server.request.start` and one on `http.server.response.finish` with the
 * channels' message objects (which Node allocates anyway once anyone subscribes): should be well
 * under a microsecond and allocate nothing of its own. Traceparent/parse: the header read on its own.
 * Await/*: what AsyncLocalStorage adds to every `await` on Node 20 (its promise hook), the part of
 * the cost that scales with how many promises a request makes rather than per request; Await/plain
 * runs before the recorder is told a lock exists, Await/attributing after.
 */
import dc from 'node:diagnostics_channel';
import { bench, blackhole, type B } from '../src/bench/index.js';
import { RequestRecorder } from '../src/agent/requests.js';
import { parseTraceparentInto } from '../src/results/trace-id.js';

const HEADER = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const request = {
  url: '/api/lookup?key=k0000042',
  method: 'GET',
  rawHeaders: ['Host', '127.0.0.1:8080', 'User-Agent', 'tailprobe', 'traceparent', HEADER],
};
const start = dc.channel('http.server.request.start');
const finish = dc.channel('http.server.response.finish');
const recorder = new RequestRecorder({ capacity: 100_000 });

async function awaits(b: B): Promise<void> {
  for (let i = 0; i < b.n; i++) await null;
}

bench('Await/plain', awaits);

bench('Records/request', (b: B) => {
  recorder.start();
  recorder.attributeWaits();
  // One message object reused: what is timed is the recorder's work, not the test's allocations
  // (Node allocates a message per request for any subscriber, with or without tailprobe).
  const response = { statusCode: 200, _contentLength: 1430 };
  // The connection: kept alive, so its 'close' listener is added once, on the first request.
  const socket = { on: () => socket };
  const message = { request, response, socket, server: {} };
  b.resetTimer();
  for (let i = 0; i < b.n; i++) {
    start.publish(message);
    finish.publish(message);
  }
  blackhole(recorder.recorded);
});

bench('Await/attributing', awaits);

const ids = new Uint32Array(6);
bench('Traceparent/parse', (b: B) => {
  for (let i = 0; i < b.n; i++) blackhole(parseTraceparentInto(HEADER, ids, 0));
});
