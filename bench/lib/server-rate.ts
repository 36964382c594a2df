import type { Nginx } from './nginx.js';

/**
 * The achieved request rate as the server saw it: nginx's request counter (stub_status), polled while
 * a tool runs. It measures every tool the same way, whatever the tool says about itself, and it is the
 * only honest "achieved rate" for an open-model generator, whose own timestamps are the *intended*
 * send times (from which a rate is the asked rate by construction).
 */
export interface CountSample {
  /** ms, performance.now() of the poll's response. */
  at: number;
  /** Requests served so far. */
  requests: number;
}

/**
 * Steady-state rate (req/s) from cumulative counts: skips the first `skipMs` after traffic starts
 * (connection set-up, JIT warm-up) and the last active interval (the tool stopping mid-interval),
 * then divides requests by time over what is left. NaN when the window is too short to tell.
 */
export function steadyRate(samples: readonly CountSample[], opts: { skipMs?: number } = {}): number {
  const w = steadyWindow(samples, opts);
  return w ? ((w.end.requests - w.start.requests) * 1000) / (w.end.at - w.start.at) : NaN;
}

/** The two samples that bound the steady-state window (see steadyRate), or null. */
export function steadyWindow(samples: readonly CountSample[], opts: { skipMs?: number } = {}): { start: CountSample; end: CountSample } | null {
  const skipMs = opts.skipMs ?? 1000;
  // Traffic starts in the interval ending at the first sample whose count grew.
  let first = -1;
  let last = -1;
  for (let i = 1; i < samples.length; i++) {
    if (samples[i]!.requests > samples[i - 1]!.requests) {
      if (first < 0) first = i - 1;
      last = i;
    }
  }
  if (first < 0) return null;
  // The last interval with traffic is partial (the tool stopped within it): end the window before it.
  const end = last - 1;
  const startAt = samples[first]!.at + skipMs;
  let start = first;
  while (start < end && samples[start]!.at < startAt) start++;
  if (end <= start) return null;
  return { start: samples[start]!, end: samples[end]! };
}

/** Polls the server's counter every intervalMs until stopped; returns the samples. */
export function watchServer(nginx: Nginx, intervalMs = 200): { stop(): Promise<CountSample[]> } {
  const samples: CountSample[] = [];
  let stopped = false;
  let pending: Promise<void> = Promise.resolve();
  const poll = () => {
    pending = nginx.requests().then(
      (s) => void samples.push(s),
      () => {
        /* a missed poll only widens an interval */
      },
    );
  };
  poll();
  const timer = setInterval(() => {
    if (!stopped) poll();
  }, intervalMs);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await pending;
      poll(); // a final count once the tool has exited
      await pending;
      return samples;
    },
  };
}
