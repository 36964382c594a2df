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
import { LoopMonitor } from './health.js';
import { metricsToWire } from '../metrics/wire.js';
import { Plan } from './plan.js';
import { Runner } from './runner.js';
import type { FromWorker, ToWorker, WorkerSetup } from './worker-protocol.js';
import { createShipper } from './shipper.js';
import { createMetronome } from './metronome.js';
import { warmUp } from './warmup.js';

const setup = workerData as WorkerSetup;
const port = parentPort!;
const post = (m: FromWorker, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer ?? []);

async function main(): Promise<void> {
  const plan = new Plan(setup.targets, setup.plan);
  const metronome = setup.pacer ? createMetronome(setup.pacer, setup.stride, setup.durationNs) : null;
  await Promise.all([plan.prewarm(), metronome?.ready, warmUp({ maxRequests: setup.warmUpRequests })]);
  const shipper = createShipper(setup.ship);
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
      const clock = new Clock(m.hrStart, m.epochStart);
      const pending = shipper.limit;
      let count = 0;
      runner = new Runner({
        plan,
        clock,
        pacer: setup.pacer ? pacerFromSpec(setup.pacer) : null,
        durationNs: setup.durationNs,
        timeoutNs: setup.timeoutNs,
        first: setup.first,
        stride: setup.stride,
        maxInFlight: setup.maxInFlight,
        inFlightCap: setup.inFlightCap,
        drainNs: setup.drainNs,
        name: setup.name,
        redirects: setup.redirects,
        maxBody: setup.maxBody,
        keepHeaders: setup.keepHeaders,
        metronome,
        emit: (r: Result) => {
          delta.add(r);
          shipper.add(r);
          if (++count >= pending) {
            count = 0;
            flush();
          }
        },
      });
      const loop = new LoopMonitor();
      const ticker = setInterval(flush, setup.flushMs);
      if (setup.crashAfterMs !== undefined) {
        setTimeout(() => {
          throw new Error('injected worker crash (test)');
        }, setup.crashAfterMs);
      }
      runner.start();
      void runner.finished.then(async (s) => {
        clearInterval(ticker);
        flush();
        const l = loop.stop();
        metronome?.stop();
        await plan.close();
        post({ type: 'done', sent: s.sent, stopped: s.stopped, overdue: s.overdue, peakInFlight: s.peakInFlight, loop: l, firstLagNs: s.firstLagNs });
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
