/**
 * The metronome thread (see metronome.ts). It walks the same schedule as its attack thread (the
 * pacer is a pure function of the request index), sleeps with Atomics.wait until each due time
 * (~0.1 ms precision where timers have 1 ms), and wakes the attack thread with a message, unless
 * that request has already gone (completions check the schedule too) or the attack thread has not
 * yet handled the previous wake-up (it will send everything due when it does).
 */
import { workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { pacerFromSpec } from '../pacer/index.js';
import type { PacerSpec } from '../pacer/pacer.js';
import { Clock } from '../time/clock.js';
import { F_NEXT, F_OFFSET, F_SHIFT, I_GEN, I_POSTED, I_SEEN, I_STARTED, I_STOP } from './metronome-slots.js';

const { port, sab, anchor, spec, stride, endNs } = workerData as {
  port: MessagePort;
  sab: SharedArrayBuffer;
  anchor: bigint;
  spec: PacerSpec;
  stride: number;
  endNs: number;
};
const i32 = new Int32Array(sab, 0, 8);
const f64 = new Float64Array(sab, F_OFFSET, 2);
const pacer = pacerFromSpec(spec);
// Times here are ns since `anchor`, a process.hrtime instant (one clock for every thread).
const clock = new Clock(anchor, 0n);

while (Atomics.load(i32, I_STARTED) === 0 && Atomics.load(i32, I_STOP) === 0) Atomics.wait(i32, I_GEN, Atomics.load(i32, I_GEN), 50);
const shift = f64[F_SHIFT]!;
let posted = 0;
let lastPostedFor = -1;
/**
 * At most one wake-up per MIN_GAP_NS. A wake-up sends every request due by then, and each costs
 * CPU in both threads: a timed Atomics.wait plus a message measured ~50 µs on a 2-core VM
 * (sleeping and waking are what a VM does worst). Above 2,500 req/s a wake-up carries several
 * requests; what this adds to send lag stays under 0.4 ms, and the p99 lag under 1 ms.
 */
const MIN_GAP_NS = 400_000;
let lastPost = -Infinity;
while (Atomics.load(i32, I_STOP) === 0) {
  const gen = Atomics.load(i32, I_GEN);
  const next = f64[F_NEXT]!;
  const offset = Number.isFinite(next) ? pacer.offsetOf(next) : Infinity;
  if (!(offset < endNs)) {
    Atomics.wait(i32, I_GEN, gen, 50);
    continue;
  }
  // Never early: a wake-up before the due time would find nothing to send.
  const now = clock.nowNs();
  const waitNs = Math.max(offset + shift - now, lastPost + MIN_GAP_NS - now);
  if (waitNs > 0) {
    Atomics.wait(i32, I_GEN, gen, waitNs / 1e6);
    continue;
  }
  if (next !== lastPostedFor && Atomics.load(i32, I_SEEN) === posted) {
    lastPostedFor = next;
    lastPost = clock.nowNs();
    posted++;
    Atomics.store(i32, I_POSTED, posted);
    port.postMessage(0);
  }
  // Wait for the attack thread to send it (it publishes its next index), napping: a notify from
  // the attack thread per request would cost it more than these naps cost this thread.
  const after = pacer.offsetOf(next + stride) + shift - clock.nowNs();
  Atomics.wait(i32, I_GEN, gen, Math.min(1, Math.max(MIN_GAP_NS / 1e6, after / 1e6)));
}
port.close();
