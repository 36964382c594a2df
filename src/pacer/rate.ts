import { UsageError } from '../errors.js';
import { parseDuration, formatDuration } from '../units/duration.js';

/** The fastest schedule a pacer can express: one request per nanosecond. */
export const MAX_RATE = 1e9;

/**
 * Parses a rate as vegeta writes one: "500" (per second), "500/1s", "30000/1m", "1/500ms",
 * "10/s" (a bare unit means 1 of it). "0" and "infinity" (or "max") mean max mode: no schedule,
 * as fast as the connections allow. Returns requests per second; 0 for max mode.
 */
export function parseRate(text: string, what = 'rate'): number {
  const s = text.trim().toLowerCase();
  if (s === '0' || s === 'infinity' || s === 'inf' || s === 'max') return 0;
  const m = /^(\d+(?:\.\d+)?)(?:\/(.+))?$/.exec(s);
  if (!m) throw new UsageError(`invalid ${what} "${text}" (want e.g. 500, 500/1s, 30000/1m, or 0 for max)`);
  const n = parseFloat(m[1]!);
  let perNs = 1e9;
  if (m[2] !== undefined) {
    const unit = /^\d/.test(m[2]) ? m[2] : `1${m[2]}`;
    try {
      perNs = parseDuration(unit);
    } catch {
      throw new UsageError(`invalid ${what} "${text}" (bad period "${m[2]}")`);
    }
    if (!(perNs > 0)) throw new UsageError(`invalid ${what} "${text}" (period must be positive)`);
  }
  const perSec = (n * 1e9) / perNs;
  if (perSec === 0) return 0;
  if (!Number.isFinite(perSec)) throw new UsageError(`invalid ${what} "${text}"`);
  if (perSec > MAX_RATE) {
    throw new UsageError(`${what} "${text}" is more than one request per nanosecond, the schedule's grain (at most ${MAX_RATE}/1s)`);
  }
  return perSec;
}

/** "500/1s" for whole rates per second, otherwise the shortest exact form ("1/500ms", "0.5/1s"). */
export function formatRate(perSec: number): string {
  if (perSec === 0) return 'max';
  if (Number.isInteger(perSec)) return `${perSec}/1s`;
  const period = 1e9 / perSec;
  if (perSec < 1 && Number.isInteger(period)) return `1/${formatDuration(period)}`;
  return `${Number(perSec.toPrecision(6))}/1s`;
}
