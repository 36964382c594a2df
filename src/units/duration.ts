import { UsageError } from '../errors.js';

/**
 * Go's time.ParseDuration, in nanoseconds: "300ms", "-1.5h", "2h45m", "1µs".
 * A bare "0" is allowed (as in Go). Bare numbers other than 0 are rejected, because "-duration=60"
 * is ambiguous and Go users expect the error.
 */
const UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3,
  'μs': 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

const PART = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;

export function parseDuration(text: string, what = 'duration'): number {
  let s = text.trim();
  if (s === '0' || s === '+0' || s === '-0') return 0;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '') throw new UsageError(`invalid ${what} "${text}"`);
  let total = 0;
  while (s.length > 0) {
    const m = PART.exec(s);
    if (!m) {
      const hint = /^\d+(\.\d+)?$/.test(s) ? ' (missing unit, e.g. "30s" or "500ms")' : '';
      throw new UsageError(`invalid ${what} "${text}"${hint}`);
    }
    total += parseFloat(m[1]!) * UNIT_NS[m[2]!]!;
    s = s.slice(m[0].length);
  }
  return sign * Math.round(total);
}

/** Format nanoseconds the way Go's time.Duration.String does ("1.5s", "250ms", "12.345µs", "1m30s"). */
export function formatDuration(ns: number): string {
  if (!Number.isFinite(ns)) return String(ns);
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let v = Math.abs(ns);
  let out: string;
  if (v < 1e3) out = `${trim(v)}ns`;
  else if (v < 1e6) out = `${trim(v / 1e3)}µs`;
  else if (v < 1e9) out = `${trim(v / 1e6)}ms`;
  else {
    const h = Math.floor(v / 3600e9);
    v -= h * 3600e9;
    const m = Math.floor(v / 60e9);
    v -= m * 60e9;
    out = (h ? `${h}h` : '') + (h || m ? `${m}m` : '') + `${trim(v / 1e9)}s`;
  }
  return neg ? `-${out}` : out;
}

function trim(x: number): string {
  // Go prints up to 9 significant fractional digits; 6 significant digits is plenty for reports.
  return String(Number(x.toPrecision(9)));
}
