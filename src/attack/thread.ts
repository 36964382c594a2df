import type { Result } from '../results/result.js';
import type { Target } from '../targets/target.js';
import type { Clock } from '../time/clock.js';
import { LoopMonitor, type LoopStats } from './health.js';
import { createMetronome } from './metronome.js';
import { Plan, type PlanOptions } from './plan.js';
import { Runner, type RunnerConfig, type RunnerSummary } from './runner.js';
import { warmUp } from './warmup.js';

/**
 * One thread's engine, composed the same way wherever it runs: on the calling thread (attack()
 * with one worker) and in each worker thread (worker-main.ts). Before the clock starts it builds
 * the thread's Plan (connections opened), its metronome and warms the engine up; at the start it
 * builds the Runner on the agreed clock and watches the thread's event loop.
 */

/** A thread's share of the attack: what its Runner walks, and how to prepare for it. */
export interface ThreadConfig extends Omit<RunnerConfig, 'plan' | 'clock' | 'metronome' | 'emit'> {
  targets: Target[];
  plan: PlanOptions;
  /** In-memory requests to warm the engine up with before the clock starts (see warmup.ts). */
  warmUpRequests: number;
}

/** A thread's schedule under way. */
export interface ThreadRun {
  runner: Runner;
  /** The Runner's summary and this thread's event-loop delay, once the schedule has ended and drained. */
  finished: Promise<RunnerSummary & { loop: LoopStats }>;
}

export interface PreparedThread {
  /** Builds the Runner on `clock` and starts it; every result goes to `emit`. Once only. */
  start(clock: Clock, emit: (r: Result) => void): ThreadRun;
  /** Stops the metronome and closes the connections (after `finished`, or instead of a start). */
  close(): Promise<void>;
}

/** Prepares a thread: its Plan with connections open, its metronome ready, the engine warmed up. */
export async function prepareThread(c: ThreadConfig): Promise<PreparedThread> {
  const { targets, plan: planOptions, warmUpRequests, ...runner } = c;
  const plan = new Plan(targets, planOptions);
  const metronome = c.pacer ? createMetronome(c.pacer.spec, c.stride, c.durationNs) : null;
  await Promise.all([plan.prewarm(), metronome?.ready, warmUp({ maxRequests: warmUpRequests })]);
  return {
    start(clock, emit) {
      const r = new Runner({ ...runner, plan, clock, metronome, emit });
      const loop = new LoopMonitor();
      r.start();
      return { runner: r, finished: r.finished.then((s) => ({ ...s, loop: loop.stop() })) };
    },
    close() {
      metronome?.stop();
      return plan.close();
    },
  };
}
