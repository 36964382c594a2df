import { formatDuration } from '../units/duration.js';
import type { AttackProgress } from './options.js';

/**
 * The live line on stderr: elapsed, achieved rate, in flight, p50/p99 so far, errors, late sends.
 * Numbers come from the run's Metrics (the same ones the report prints).
 */
export function formatProgress(p: AttackProgress): string {
  const m = p.metrics;
  const secs = p.elapsedNs / 1e9;
  const rate = secs > 0 ? p.sent / secs : 0;
  const errors = m.requests - m.successes;
  const fmt = (ns: number) => (m.requests ? formatDuration(roundNs(ns)) : '-');
  return (
    `[${secs.toFixed(1)}s] ${m.requests} done, ${rate.toFixed(1)} req/s sent, ${p.inFlight} in flight, ` +
    `p50 ${fmt(m.latency.percentile(50))}, p99 ${fmt(m.latency.percentile(99))}, ` +
    `${errors} errors, ${m.lateSends} late`
  );
}

/** 3 significant digits: a progress line that flickers through 1.234567ms is unreadable. */
function roundNs(ns: number): number {
  if (ns < 1000) return Math.round(ns);
  const p = Math.pow(10, Math.floor(Math.log10(ns)) - 2);
  return Math.round(ns / p) * p;
}
