/**
 * RFC 3339 timestamps with nanoseconds, as Go's time.RFC3339Nano writes them in vegeta's JSON
 * results ("2026-11-27T08:00:00.123456789Z"; trailing zeros of the fraction trimmed, no fraction
 * when it is zero). Times are bigint epoch nanoseconds, so they round-trip exactly.
 */

const NS_PER_S = 1_000_000_000n;

/** Formats epoch ns as RFC 3339 in UTC ("Z"), the fraction trimmed as Go's RFC3339Nano does. */
export function formatRfc3339Nano(ts: bigint): string {
  let secs = ts / NS_PER_S;
  let frac = Number(ts - secs * NS_PER_S);
  if (frac < 0) {
    // bigint division truncates toward zero; times before 1970 need floor division.
    secs -= 1n;
    frac += 1e9;
  }
  const iso = new Date(Number(secs) * 1000).toISOString(); // "YYYY-MM-DDTHH:MM:SS.000Z"
  const base = iso.slice(0, iso.length - 5);
  if (frac === 0) return `${base}Z`;
  return `${base}.${String(frac).padStart(9, '0').replace(/0+$/, '')}Z`;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** Parses an RFC 3339 timestamp (any offset) to epoch ns; null when it is not one. */
export function parseRfc3339(text: string): bigint | null {
  const m = RFC3339.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, , sign, oh, om] = m;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 60) {
    return null;
  }
  let secs = Date.UTC(Number(y), month - 1, day, Number(h), Number(mi), Number(s)) / 1000;
  if (sign) {
    const off = Number(oh) * 3600 + Number(om) * 60;
    secs += sign === '+' ? -off : off;
  }
  const ns = frac ? Number(frac.padEnd(9, '0')) : 0;
  // secs * 1e9 is exact in a double for any plausible date (secs * 1953125 < 2^53, times 2^9).
  return BigInt(secs * 1e9) + BigInt(ns);
}
