/**
 * Entry point of an attack worker thread: runs one share of the schedule with its own connections,
 * and ships its results to the main thread in batches, each with the exact Metrics of the batch.
 * Nothing here is per request except what the Runner does; shipping is one message per flush.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Metrics } from '../metrics/metrics.js';
import { pacerFromSpec } from '../pacer/index.js';
import type { Result } from '../results/result.js';
import { Clock } from '../time/clock.js';
import { metricsToWire } from '../metrics/wire.js';
import type { Runner } from './runner.js';
import { prepareThread } from './thread.js';
import type { FromWorker, ToWorker, WorkerSetup } from './worker-protocol.js';
import { createShipper } from './shipper.js';

const setup = workerData as WorkerSetup;
const port = parentPort!;
const post = (m: FromWorker, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer ?? []);

async function main(): Promise<void> {
  const { index: _index, ship, flushMs, crashAfterMs, ...share } = setup;
  const thread = await prepareThread({ ...share, pacer: setup.pacer ? pacerFromSpec(setup.pacer) : null });
  const shipper = createShipper(ship);
  let delta = new Metrics();
  let runner: Runner | null = null;

  const flush = () => {
    if (delta.requests === 0) {
      post({ type: 'batch', chunk: null, results: null, metrics: null, inFlight: runner?.inFlight ?? 0, sent: runner?.sent ?? 0 });
      return;
    }
    const { chunk, results, transfer } = shipper.take();
    post({ type: 'batch', chunk, results, metrics: metricsToWire(delta), inFlight: runner?.inFlight ?? 0, sent: runner?.sent ?? 0 }, transfer);
    delta = new Metrics();
  };

  port.on('message', (m: ToWorker) => {
    if (m.type === 'start') {
      const pending = shipper.limit;
      let count = 0;
      const ticker = setInterval(flush, flushMs);
      if (crashAfterMs !== undefined) {
        setTimeout(() => {
          throw new Error('injected worker crash (test)');
        }, crashAfterMs);
      }
      const run = thread.start(new Clock(m.hrStart, m.epochStart), (r: Result) => {
        delta.add(r);
        shipper.add(r);
        if (++count >= pending) {
          count = 0;
          flush();
        }
      });
      runner = run.runner;
      void run.finished.then(async (s) => {
        clearInterval(ticker);
        flush();
        await thread.close();
        post({ type: 'done', sent: s.sent, stopped: s.stopped, overdue: s.overdue, peakInFlight: s.peakInFlight, loop: s.loop, firstLagNs: s.firstLagNs });
        port.close();
      });
    } else if (m.type === 'stop') {
      runner?.stop();
    }
  });
  post({ type: 'ready' });
}

main().catch((err: Error) => {
  post({ type: 'fatal', message: err?.message ?? String(err) });
  port.close();
});
