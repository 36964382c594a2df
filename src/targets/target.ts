/**
 * A request to send, as vegeta's targets describe one. Targets are used round-robin by the
 * attack, request number i going to target i % n, so the mix is the same however many workers
 * share the schedule.
 */
export interface Target {
  method: string;
  /** Absolute http:// or https:// URL. */
  url: string;
  /** Header name -> values, in the order given. */
  headers: Record<string, string[]>;
  body: Uint8Array | null;
}

export type TargetFormat = 'http' | 'json';

/** "METHOD URL", as RunInfo and error messages show a target. */
export function describeTarget(t: Target): string {
  return `${t.method} ${t.url}`;
}

/** Adds `extra` headers to a target's own (the -header flag), keeping both: values are appended, as vegeta does. */
export function withHeaders(t: Target, extra: Record<string, string[]>): Target {
  const keys = Object.keys(extra);
  if (keys.length === 0) return t;
  const headers: Record<string, string[]> = {};
  for (const k of keys) headers[k] = [...extra[k]!];
  for (const [k, v] of Object.entries(t.headers)) {
    const existing = Object.keys(headers).find((h) => h.toLowerCase() === k.toLowerCase());
    if (existing) headers[existing]!.push(...v);
    else headers[k] = [...v];
  }
  return { ...t, headers };
}
