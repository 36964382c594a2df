import { RuntimeError } from '../errors.js';
import type { RunEvent } from '../results/result.js';
import { AGENT_HEADER, httpGet, statusError, tailprobeBase, type HttpOptions } from './fetch.js';

/**
 * The agent's GC pauses and event-loop stalls, as RunEvents on the attack's clock (wall-clock ns),
 * so a plot can draw them under the latencies of the requests they delayed.
 */

interface GcJson {
  pauses: Array<{ start: string; duration: number; kind: string }>;
}
interface LoopJson {
  stalls: Array<{ start: string; duration: number }>;
  stallThresholdNs?: number;
}

async function getJson<T>(url: string, opts: HttpOptions, absentOk = false): Promise<T | null> {
  const res = await httpGet(url, opts);
  // A Go agent has no event loop: its /debug/tailprobe/eventloop is a 404 (docs/records-format.md).
  if (absentOk && res.status === 404 && res.headers[AGENT_HEADER.toLowerCase()]) return null;
  if (res.status !== 200) throw statusError(res, 'tailprobe agent endpoint');
  if (!res.headers[AGENT_HEADER.toLowerCase()]) {
    throw new RuntimeError(`${url}: not a tailprobe agent (GC and event-loop events come from Node services running tailprobe/agent)`);
  }
  try {
    return JSON.parse(res.body.toString('utf8')) as T;
  } catch {
    throw new RuntimeError(`${url}: invalid JSON from the agent`);
  }
}

/** GC pauses and event-loop stalls overlapping [since, until], oldest first. */
export async function fetchAgentEvents(url: string, since: bigint, until: bigint, token?: string, opts: HttpOptions = {}): Promise<RunEvent[]> {
  const base = tailprobeBase(url);
  const q = `?since=${since}&until=${until}`;
  const http = { timeoutMs: 10_000, ...opts, token: token ?? opts.token };
  const [gc, loop] = await Promise.all([getJson<GcJson>(`${base}gc${q}`, http), getJson<LoopJson>(`${base}eventloop${q}`, http, true)]);
  const events: RunEvent[] = [
    ...gc!.pauses.map((p) => ({ kind: 'gc' as const, start: BigInt(p.start), duration: p.duration, detail: p.kind })),
    ...(loop?.stalls ?? []).map((s) => ({
      kind: 'stall' as const,
      start: BigInt(s.start),
      duration: s.duration,
      detail: `event loop blocked${loop?.stallThresholdNs ? ` (> ${Math.round(loop.stallThresholdNs / 1e6)}ms)` : ''}`,
    })),
  ];
  events.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  return events;
}
