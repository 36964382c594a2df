import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { PacerSpec } from '../pacer/pacer.js';
import type { Clock } from '../time/clock.js';
import { F_NEXT, F_OFFSET, F_SHIFT, I_GEN, I_SEEN, I_STARTED, I_STOP } from './metronome-slots.js';

/**
 * Sub-millisecond wake-ups for the pacer.
 *
 * Node's timers have a 1 ms grain: a request due 0.3 ms from now is sent 1 to 2 ms late, so a
 * paced attack against a fast server has a p99 send lag over 1 ms however idle the machine is.
 * Completions check the schedule too, but a fast server answers before the next request is due,
 * so nothing else wakes the loop in between. The metronome is a small thread that walks the same
 * schedule (this thread's share of it), sleeps on Atomics.wait until each due time and wakes the
 * attack thread with a message. The attack thread tells it, through shared memory (plain stores,
 * no syscalls), which request it will send next; the metronome skips requests already sent and
 * never queues a second wake-up behind one not yet handled.
 */
export class Metronome {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly anchor = process.hrtime.bigint();
  private seen = 0;
  private published = -1;
  private onTick: () => void = () => {};
  /** Resolves when the thread runs (wait for it before the clock starts). */
  readonly ready: Promise<void>;

  constructor(spec: PacerSpec, stride: number, endNs: number) {
    const sab = new SharedArrayBuffer(F_OFFSET + 16);
    this.i32 = new Int32Array(sab, 0, 8);
    this.f64 = new Float64Array(sab, F_OFFSET, 2);
    this.f64[F_NEXT] = Infinity;
    const { port1, port2 } = new MessageChannel();
    port1.on('message', this.tick);
    this.port = port1;
    this.worker = new Worker(new URL('./metronome-main.js', import.meta.url), {
      workerData: { port: port2, sab, anchor: this.anchor, spec, stride, endNs },
      transferList: [port2],
    });
    this.ready = new Promise<void>((resolve) => {
      this.worker.once('online', resolve);
      // Without a metronome the pacer's own timer still keeps the schedule (at 1 ms grain).
      this.worker.once('error', () => resolve());
    });
    this.worker.unref();
  }

  private readonly tick = (): void => {
    Atomics.store(this.i32, I_SEEN, ++this.seen);
    this.onTick();
  };

  /** Starts ticking for an attack clock; `onTick` walks the schedule. */
  attach(clock: Clock, onTick: () => void): void {
    this.onTick = onTick;
    this.f64[F_SHIFT] = Number(clock.hrStart - this.anchor);
    Atomics.store(this.i32, I_STARTED, 1);
    this.wake();
  }

  /** The index of the next request this thread will send (Infinity: none). A plain store. */
  publish(nextIndex: number): void {
    if (nextIndex === this.published) return;
    const first = this.published < 0;
    this.published = nextIndex;
    this.f64[F_NEXT] = nextIndex;
    if (first) this.wake();
  }

  private wake(): void {
    Atomics.add(this.i32, I_GEN, 1);
    Atomics.notify(this.i32, I_GEN);
  }

  stop(): void {
    Atomics.store(this.i32, I_STOP, 1);
    this.wake();
    this.port.close();
    void this.worker.terminate();
  }
}

/** A metronome for a schedule, unless TAILPROBE_METRONOME=0 (to measure what it buys: timers alone). */
export function createMetronome(spec: PacerSpec | undefined, stride: number, durationNs: number): Metronome | null {
  if (!spec || process.env.TAILPROBE_METRONOME === '0') return null;
  return new Metronome(spec, stride, durationNs > 0 ? durationNs : Infinity);
}
