import { wallClockNs } from './wall.js';

/**
 * A schedule's time base: one wall-clock anchor taken once, then monotonic offsets.
 *
 * Per request we read `performance.now()` (monotonic, sub-µs, no allocation) and never Date.now()
 * (ms resolution, and it jumps when NTP steps the clock). The anchor maps offset 0 to a wall-clock
 * instant so results carry epoch timestamps.
 *
 * Worker threads each have their own performance.timeOrigin, but process.hrtime.bigint() is one
 * CLOCK_MONOTONIC for the whole process: the main thread fixes the start as an hrtime instant and
 * each thread maps that instant onto its own performance.now() timeline. Every thread then agrees
 * on when offset 0 is, to well under a microsecond.
 */
export class Clock {
  /** performance.now() (ms) of this thread at offset 0. */
  private readonly perfStart: number;

  constructor(
    /** process.hrtime.bigint() at offset 0 (shared by all threads). */
    readonly hrStart: bigint,
    /** Wall clock at offset 0, ns since the epoch. */
    readonly epochStart: bigint,
  ) {
    const perfNow = performance.now();
    const hrNow = process.hrtime.bigint();
    this.perfStart = perfNow + Number(hrStart - hrNow) / 1e6;
  }

  /** A clock whose offset 0 is `delayMs` from now (time for workers to receive the start message). */
  static startingIn(delayMs: number): Clock {
    const hrNow = process.hrtime.bigint();
    const epochNow = wallClockNs();
    const delayNs = BigInt(Math.round(delayMs * 1e6));
    return new Clock(hrNow + delayNs, epochNow + delayNs);
  }

  /**
   * A clock whose offset 0 is the wall-clock instant `epochNs` (ns since the epoch), e.g. a
   * `-start-at` that several generators agreed on. The instant is mapped onto this process's
   * monotonic clock once, through the wall clock now; from then on the schedule never follows a
   * wall-clock step. How well N processes agree on offset 0 is how well their wall clocks agree.
   */
  static startingAt(epochNs: bigint): Clock {
    const hrNow = process.hrtime.bigint();
    const epochNow = wallClockNs();
    return new Clock(hrNow + (epochNs - epochNow), epochNs);
  }

  /** Nanoseconds since offset 0 (negative before the start). */
  nowNs(): number {
    return (performance.now() - this.perfStart) * 1e6;
  }

  /** Wall-clock instant of an offset, ns since the epoch. */
  epochOf(offsetNs: number): bigint {
    return this.epochStart + BigInt(Math.round(offsetNs));
  }
}
