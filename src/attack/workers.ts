import { Worker } from 'node:worker_threads';
import type { Clock } from '../time/clock.js';
import type { LoopStats } from './health.js';
import type { FromWorker, ToWorker, WorkerSetup } from './worker-protocol.js';

export interface GroupSummary {
  sent: number;
  stopped: boolean;
  overdue: number;
  peakInFlight: number;
  loops: LoopStats[];
  /** One line per worker that died. */
  failures: string[];
  /** How late worker 0's first request left (the share's first request), ns; -1: unknown. */
  firstLagNs: number;
}

type Batch = Extract<FromWorker, { type: 'batch' }>;

/**
 * The main thread's side of a multi-worker attack: starts the workers, gives them one shared start
 * instant once all have their connections open, relays their batches, and survives the death of
 * any of them (what a dead worker shipped is kept; its failure is reported).
 */
export class WorkerGroup {
  private readonly workers: Worker[];
  private readonly state: Array<{ ready: boolean; done: boolean; inFlight: number; sent: number }>;
  private readonly failures: string[] = [];
  private readonly loops: LoopStats[] = [];
  private stopped = false;
  private overdue = 0;
  private peakInFlight = 0;
  private firstLagNs = -1;
  private readyResolve!: () => void;
  private doneResolve!: (s: GroupSummary) => void;
  readonly ready: Promise<void>;
  readonly finished: Promise<GroupSummary>;

  constructor(setups: WorkerSetup[], onBatch: (b: Batch, index: number) => void) {
    this.ready = new Promise((r) => (this.readyResolve = r));
    this.finished = new Promise((r) => (this.doneResolve = r));
    this.state = setups.map(() => ({ ready: false, done: false, inFlight: 0, sent: 0 }));
    this.workers = setups.map((setup, i) => {
      const w = new Worker(new URL('./worker-main.js', import.meta.url), { workerData: setup });
      w.on('message', (m: FromWorker) => {
        const st = this.state[i]!;
        switch (m.type) {
          case 'ready':
            st.ready = true;
            this.checkReady();
            break;
          case 'batch':
            st.inFlight = m.inFlight;
            st.sent = m.sent;
            onBatch(m, i);
            break;
          case 'done':
            st.sent = m.sent;
            st.inFlight = 0;
            this.stopped ||= m.stopped;
            this.overdue += m.overdue;
            this.peakInFlight += m.peakInFlight;
            this.loops.push(m.loop);
            if (i === 0) this.firstLagNs = m.firstLagNs;
            this.settle(i);
            break;
          case 'fatal':
            this.fail(i, m.message);
            break;
        }
      });
      w.on('error', (err) => this.fail(i, err?.message ?? String(err)));
      w.on('exit', (code) => {
        if (!this.state[i]!.done) this.fail(i, `exited with code ${code}`);
      });
      return w;
    });
  }

  private fail(i: number, why: string): void {
    const st = this.state[i]!;
    if (st.done) return;
    this.failures.push(`worker ${i} died: ${why}`);
    st.inFlight = 0;
    void this.workers[i]!.terminate();
    this.settle(i);
  }

  private settle(i: number): void {
    const st = this.state[i]!;
    st.done = true;
    st.ready = true;
    this.checkReady();
    if (this.state.every((s) => s.done)) {
      this.doneResolve({ sent: this.sent(), stopped: this.stopped, overdue: this.overdue, peakInFlight: this.peakInFlight, loops: this.loops, failures: this.failures, firstLagNs: this.firstLagNs });
    }
  }

  private checkReady(): void {
    if (this.state.every((s) => s.ready)) this.readyResolve();
  }

  start(clock: Clock): void {
    this.broadcast({ type: 'start', hrStart: clock.hrStart, epochStart: clock.epochStart });
  }

  stop(): void {
    this.broadcast({ type: 'stop' });
  }

  private broadcast(m: ToWorker): void {
    this.workers.forEach((w, i) => {
      if (!this.state[i]!.done) w.postMessage(m);
    });
  }

  inFlight(): number {
    return this.state.reduce((a, s) => a + s.inFlight, 0);
  }

  sent(): number {
    return this.state.reduce((a, s) => a + s.sent, 0);
  }
}
