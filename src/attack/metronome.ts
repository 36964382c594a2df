import { MessageChannel, Worker } from 'node:worker_threads';
import type { Clock } from './clock.js';
import { SLOT_DUE, SLOT_GEN, SLOT_STOP } from './metronome-slots.js';

/**
 * Sub-millisecond wake-ups for the pacer.
 *
 * Node's timers have a 1 ms grain: a request due 0.3 ms from now is sent 1 to 2 ms late, so a
 * paced attack against a fast server has a p99 send lag over 1 ms however idle the machine is.
 * Completions check the schedule too, but a fast server answers before the next request is due,
 * so nothing else wakes the loop in between. The metronome is a small thread that sleeps on
 * Atomics.wait until the next due time and wakes the attack thread with a message. The attack
 * thread publishes its next due time in shared memory after every pass over the schedule (a
 * store, no syscall); the metronome only sends a message when the attack thread has not already
 * got there by itself, so at high rates, where completions keep the loop busy, it is mostly silent.
 */
export class Metronome {
  private readonly worker: Worker;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private published = Infinity;
  /** process.hrtime instant that due times in shared memory count from. */
  private readonly anchor = process.hrtime.bigint();
  /** ns from the anchor to the attack clock's offset 0. */
  private shift = 0;
  private onTick: () => void = () => {};
  /** Resolves when the thread runs (wait for it before the clock starts). */
  readonly ready: Promise<void>;

  constructor() {
    const sab = new SharedArrayBuffer(24);
    this.i32 = new Int32Array(sab, 0, 4);
    this.f64 = new Float64Array(sab, 16, 1);
    this.f64[SLOT_DUE] = Infinity;
    const { port1, port2 } = new MessageChannel();
    port1.on('message', () => this.onTick());
    this.worker = new Worker(new URL('./metronome-main.js', import.meta.url), {
      workerData: { port: port2, sab, anchor: this.anchor },
      transferList: [port2],
    });
    this.ready = new Promise<void>((resolve) => {
      this.worker.once('online', resolve);
      // Without a metronome the pacer's own timer still keeps the schedule (at 1 ms grain).
      this.worker.once('error', () => resolve());
    });
    this.worker.unref();
    this.port = port1;
  }

  /** Ties the metronome to an attack clock and the function that walks the schedule. */
  attach(clock: Clock, onTick: () => void): void {
    this.shift = Number(clock.hrStart - this.anchor);
    this.onTick = onTick;
  }

  private readonly port: import('node:worker_threads').MessagePort;

  /** The next due offset (ns); Infinity = nothing scheduled. */
  publish(dueNs: number): void {
    const prev = this.published;
    if (dueNs === prev) return;
    this.published = dueNs;
    this.f64[SLOT_DUE] = dueNs + this.shift;
    // A due time earlier than the one the metronome sleeps towards: wake it (rare: the start, or
    // after the schedule was idle). Later ones it finds by itself when it wakes.
    if (dueNs < prev) {
      Atomics.add(this.i32, SLOT_GEN, 1);
      Atomics.notify(this.i32, SLOT_GEN);
    }
  }

  stop(): void {
    Atomics.store(this.i32, SLOT_STOP, 1);
    Atomics.add(this.i32, SLOT_GEN, 1);
    Atomics.notify(this.i32, SLOT_GEN);
    this.port.close();
    void this.worker.terminate();
  }
}

/** A metronome, unless TAILPROBE_METRONOME=0 (to measure what it buys: timers alone). */
export function createMetronome(): Metronome | null {
  return process.env.TAILPROBE_METRONOME === '0' ? null : new Metronome();
}
