import { UsageError } from '../errors.js';

const UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: 1e3, kb: 1e3, kib: 1024,
  m: 1e6, mb: 1e6, mib: 1024 ** 2,
  g: 1e9, gb: 1e9, gib: 1024 ** 3,
};

/** Parse a byte size: "512", "64KiB", "10MB", "-1" (meaning unlimited, as in vegeta's -max-body). */
export function parseBytes(text: string, what = 'size'): number {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) throw new UsageError(`invalid ${what} "${text}"`);
  const unit = UNITS[m[2]!.toLowerCase()];
  if (unit === undefined) throw new UsageError(`invalid ${what} "${text}" (unknown unit "${m[2]}")`);
  const n = parseFloat(m[1]!);
  if (n < 0) return -1;
  return Math.round(n * unit);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}
