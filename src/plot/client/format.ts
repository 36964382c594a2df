/** How the page writes numbers (durations, percentiles, counts) and makes elements. */

declare const document: any;

export function fmtMs(ms: number | null): string {
  if (ms == null || !Number.isFinite(ms)) return '—';
  if (ms === 0) return '0';
  const a = Math.abs(ms);
  if (a < 1) return `${+(ms * 1000).toPrecision(3)}µs`;
  if (a < 1000) return `${+ms.toPrecision(3)}ms`;
  if (a < 60000) return `${+(ms / 1000).toPrecision(3)}s`;
  return `${+(ms / 60000).toPrecision(3)}m`;
}

export function fmtSec(s: number | null): string {
  if (s == null || !Number.isFinite(s)) return '—';
  const a = Math.abs(s);
  if (a >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (a >= 60) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${+s.toPrecision(4)}s`;
}

/** 1/(1-p) -> "99.9%" */
export function fmtPct(x: number | null): string {
  if (x == null || !Number.isFinite(x) || x <= 0) return '';
  const p = (1 - 1 / x) * 100;
  if (p <= 1e-9) return '0%';
  const decimals = Math.max(0, Math.ceil(-Math.log10(100 - p) - 1e-6));
  return `${p.toFixed(Math.min(6, decimals))}%`;
}

export function fmtNum(v: number | null): string {
  if (v == null || !Number.isFinite(v)) return '—';
  return Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : String(+v.toPrecision(3));
}

export function el(tag: string, attrs: Record<string, string> = {}, text?: string): any {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
