import { randomBytes } from 'node:crypto';

/**
 * Request identity: the W3C Trace Context `traceparent` header that `attack` sends with every
 * request, and how a result's trace id is recovered from the results file.
 *
 *   traceparent: 00-<trace-id: 32 hex>-<parent-id: 16 hex>-01
 *
 * trace-id  = the attack's id (16 hex, random per attack, in the file's run info) followed by the
 *             request's seq as 16 hex digits. So the trace id of every result is known from its
 *             seq alone, nothing is stored per result, and a service's records (its agent's, or
 *             its tracing backend's) name exactly one request of exactly one attack.
 * parent-id = seq + 1 as 16 hex digits (never all zeros, as the spec requires).
 * flags     = 01, sampled: a service that samples by the caller's decision keeps these traces, so the
 *             slow requests `explain` names can be looked up in Jaeger or Tempo.
 */

export const TRACEPARENT_HEADER = 'traceparent';
/** Length of a version-00 traceparent value. */
export const TRACEPARENT_LENGTH = 55;

/** A new attack id: 16 lower-case hex digits, never all zeros. */
export function newAttackId(): string {
  for (;;) {
    const id = randomBytes(8).toString('hex');
    if (id !== '0000000000000000') return id;
  }
}

/** Whether `id` is a valid attack id (16 lower-case hex, not all zeros). */
export function isAttackId(id: string): boolean {
  return /^[0-9a-f]{16}$/.test(id) && id !== '0000000000000000';
}

function hex16(n: number): string {
  return n.toString(16).padStart(16, '0');
}

/** The trace id of request `seq` of attack `attackId`. */
export function traceIdOf(attackId: string, seq: number): string {
  return attackId + hex16(seq);
}

/** The traceparent header value of request `seq` of attack `attackId`. */
export function traceparentOf(attackId: string, seq: number): string {
  return `00-${attackId}${hex16(seq)}-${hex16(seq + 1)}-01`;
}

/** The request's seq when `traceId` belongs to attack `attackId`; null otherwise. */
export function seqOfTraceId(traceId: string, attackId: string): number | null {
  if (traceId.length !== 32 || !traceId.startsWith(attackId)) return null;
  const low = traceId.slice(16);
  if (!/^[0-9a-f]{16}$/.test(low)) return null;
  const seq = Number.parseInt(low, 16);
  return Number.isSafeInteger(seq) ? seq : null;
}

const HEX = Buffer.from('0123456789abcdef', 'latin1');

/**
 * Writes the seq-dependent part of a traceparent in place: `at` is the offset of the trace id's low
 * 16 digits in `buf` (the parent id follows after the '-'). The hot path of the HTTP/1.1 client
 * copies a request's pre-encoded bytes and calls this: no string per request.
 */
export function writeTraceSeq(buf: Uint8Array, at: number, seq: number): void {
  writeHex16(buf, at, seq);
  writeHex16(buf, at + 17, seq + 1);
}

function writeHex16(buf: Uint8Array, at: number, n: number): void {
  // n < 2^53: the high 32 bits and the low 32 bits separately, as integers.
  let lo = n >>> 0;
  let hi = Math.floor(n / 4294967296) >>> 0;
  for (let i = 15; i >= 8; i--) {
    buf[at + i] = HEX[lo & 15]!;
    lo >>>= 4;
  }
  for (let i = 7; i >= 0; i--) {
    buf[at + i] = HEX[hi & 15]!;
    hi >>>= 4;
  }
}

export interface Traceparent {
  traceId: string;
  parentId: string;
  flags: number;
}

/**
 * Parses a traceparent header value as the W3C spec says a receiver must: version 00 is exactly
 * 55 characters; a higher version may carry more after a '-'; ff is invalid; ids are lower-case hex
 * and not all zeros. null for anything invalid.
 */
export function parseTraceparent(value: string | undefined | null): Traceparent | null {
  if (typeof value !== 'string') return null;
  const v = value.trim();
  const m = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/.exec(v);
  if (!m) return null;
  const [, version, traceId, parentId, flags, rest] = m as unknown as [string, string, string, string, string, string | undefined];
  if (version === 'ff') return null;
  if (version === '00' && rest !== undefined) return null;
  if (/^0+$/.test(traceId) || /^0+$/.test(parentId)) return null;
  return { traceId, parentId, flags: Number.parseInt(flags, 16) };
}
