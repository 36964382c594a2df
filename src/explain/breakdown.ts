import { clipMerge, EventIndex, lengthWithin, subtract, totalLength, union, type Span } from './intervals.js';

/**
 * One request's latency, split into where its time went. All times are ns on the generator's clock
 * relative to one base (the agent's records already moved onto it by the estimated offset).
 *
 *   intended ─ generator lag ─ sent ─ before the handler ─ start ─ in the handler ─ end ─ after ─ received
 *
 * Within [sent, end] (the time the service had the request), GC pauses and event-loop stalls that
 * overlap it are named: while the loop is paused or blocked nothing moves, whether the request is
 * still in the accept queue or inside the handler. GC comes first (a GC pause is also a stall, and
 * the more specific cause); a stall counts only where no GC pause explains it. Lock waits count
 * where neither does. What is left before the handler is `queue` (the accept queue, or the loop
 * busy with other requests); what is left in the handler is `unexplained` (its own work: CPU, I/O,
 * waits the agent cannot see), said as such. The parts always add up to the latency.
 */

/** Component keys. `gc:<kind>` and `lock:<name>` carry their kind and lock name. */
export const GENERATOR = 'generator';
export const QUEUE = 'queue';
export const STALL = 'stall';
export const UNEXPLAINED = 'unexplained';
export const AFTER = 'after';
export const UNRECORDED = 'unrecorded';
export const gcKey = (kind: string) => `gc:${kind || 'gc'}`;
export const lockKey = (lock: string) => `lock:${lock}`;

export interface TimedSpan {
  start: number;
  end: number;
  /** GC kind, or the lock's name for waits. */
  label: string;
}

export interface ServerSide {
  gc: EventIndex<TimedSpan>;
  stalls: EventIndex<TimedSpan> | null;
}

export interface RequestTimes {
  intended: number;
  sent: number;
  received: number;
  /** Server-side records, null when the service has none for this request. */
  server: { start: number; end: number; waits: TimedSpan[] | null } | null;
}

/** Component key → ns; the values add up to received − intended. */
export type Breakdown = Map<string, number>;

function add(b: Breakdown, key: string, ns: number): void {
  if (ns > 0) b.set(key, (b.get(key) ?? 0) + ns);
}

export function breakdown(t: RequestTimes, side: ServerSide): Breakdown {
  const b: Breakdown = new Map();
  const sent = Math.min(Math.max(t.sent, t.intended), t.received);
  add(b, GENERATOR, sent - t.intended);
  if (t.server === null) {
    add(b, UNRECORDED, t.received - sent);
    return b;
  }
  // Clamp the server's times into what the generator saw (the offset is known to ± its uncertainty).
  const start = Math.min(Math.max(t.server.start, sent), t.received);
  const end = Math.min(Math.max(t.server.end, start), t.received);

  const gcSpans: Array<Span & { kind?: string }> = [];
  const byKind = new Map<string, Span[]>();
  for (const e of side.gc.overlapping(sent, end)) {
    (byKind.get(e.label) ?? byKind.set(e.label, []).get(e.label)!).push([e.start, e.end]);
    gcSpans.push([e.start, e.end]);
  }
  const gc = clipMerge(gcSpans, sent, end);
  // Per kind, in order of how much each covers, an instant counted once.
  let covered: Span[] = [];
  const kinds = [...byKind.entries()].map(([k, s]) => [k, clipMerge(s, sent, end)] as const).sort((x, y) => totalLength(y[1]) - totalLength(x[1]));
  for (const [kind, spans] of kinds) {
    const own = subtract(spans, covered);
    add(b, gcKey(kind), totalLength(own));
    covered = union(covered, own);
  }
  let paused = gc;
  if (side.stalls) {
    const stalls = clipMerge(
      (function* () {
        for (const e of side.stalls!.overlapping(sent, end)) yield [e.start, e.end] as Span;
      })(),
      sent,
      end,
    );
    const stallOnly = subtract(stalls, gc);
    add(b, STALL, totalLength(stallOnly));
    paused = union(gc, stallOnly);
  }
  let lockTotal: Span[] = [];
  if (t.server.waits) {
    const byLock = new Map<string, Span[]>();
    for (const w of t.server.waits) (byLock.get(w.label) ?? byLock.set(w.label, []).get(w.label)!).push([w.start, w.end]);
    for (const [lock, spans] of byLock) {
      const own = subtract(subtract(clipMerge(spans, start, end), paused), lockTotal);
      add(b, lockKey(lock), totalLength(own));
      lockTotal = union(lockTotal, own);
    }
  }
  add(b, QUEUE, start - sent - lengthWithin(paused, sent, start));
  add(b, UNEXPLAINED, end - start - lengthWithin(paused, start, end) - totalLength(lockTotal));
  add(b, AFTER, t.received - end);
  return b;
}

/** What a component key is, for people. */
export function describeKey(key: string): string {
  if (key === GENERATOR) return 'generator lag (sent late)';
  if (key === QUEUE) return 'queued before the handler';
  if (key === STALL) return 'event-loop stall';
  if (key === UNEXPLAINED) return 'in the handler, unexplained';
  if (key === AFTER) return 'after the handler (response in transit)';
  if (key === UNRECORDED) return 'no server record';
  if (key.startsWith('gc:')) return `GC pause (${key.slice(3)})`;
  if (key.startsWith('lock:')) return `lock "${key.slice(5)}" wait`;
  return key;
}

/**
 * Causes that name a mechanism (what the post-mortem's author was looking for), as opposed to where
 * the time went without saying why (queue, unexplained handler time, transit, no record).
 */
export function isNamedCause(key: string): boolean {
  return key === GENERATOR || key === STALL || key.startsWith('gc:') || key.startsWith('lock:');
}
