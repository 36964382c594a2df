/**
 * The metronome thread (see metronome.ts). It sleeps until the attack thread's next due time with
 * Atomics.wait, which has ~0.1 ms precision where timers have 1 ms, and wakes the attack thread
 * with a message (which interrupts its event loop at once). It wakes it only if the attack thread
 * has not already moved past that due time on its own (completions check the schedule too).
 */
import { workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { Clock } from './clock.js';
import { SLOT_DUE, SLOT_GEN, SLOT_STOP } from './metronome-slots.js';

const { port, sab, anchor } = workerData as { port: MessagePort; sab: SharedArrayBuffer; anchor: bigint };
const i32 = new Int32Array(sab, 0, 4);
const f64 = new Float64Array(sab, 16, 1);
// Times in shared memory are ns since `anchor` (a process.hrtime instant, the same clock in every thread).
const clock = new Clock(anchor, 0n);

let posted = NaN;
/** Nap while waiting for the attack thread to move on after a wake-up; doubles up to 1 ms, so a
 * busy attack thread does not make this thread spin. */
let nap = 0.05;
while (Atomics.load(i32, SLOT_STOP) === 0) {
  const gen = Atomics.load(i32, SLOT_GEN);
  const due = f64[SLOT_DUE]!;
  if (!(due < Infinity)) {
    Atomics.wait(i32, SLOT_GEN, gen, 50);
    continue;
  }
  // Never early: a tick before the due time would find nothing to send, and the request would wait
  // for the next wake-up. A wake-up reaches the attack thread some tens of µs after this.
  const waitNs = due - clock.nowNs();
  if (waitNs > 0) {
    Atomics.wait(i32, SLOT_GEN, gen, waitNs / 1e6);
    continue;
  }
  if (due !== posted) {
    posted = due;
    nap = 0.05;
    port.postMessage(0);
  } else {
    nap = Math.min(1, nap * 2);
  }
  // Until the attack thread publishes its next due time: naps here rather than a notify from the
  // attack thread, whose every cycle counts.
  Atomics.wait(i32, SLOT_GEN, gen, nap);
}
port.close();
