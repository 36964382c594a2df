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

/** Lower-case hex digit values by char code (-1: not one); a table is twice as fast as comparisons. */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let c = 48; c <= 57; c++) HEX_VALUE[c] = c - 48;
for (let c = 97; c <= 102; c++) HEX_VALUE[c] = c - 87;

function hex(c: number): number {
  return c < 128 ? HEX_VALUE[c]! : -1;
}

/** Eight hex digits at `base` as an unsigned 32-bit word, or -1. */
function word(v: string, base: number): number {
  let w = 0;
  for (let k = 0; k < 8; k++) {
    const d = hex(v.charCodeAt(base + k));
    if (d < 0) return -1;
    w = (w << 4) | d;
  }
  return w >>> 0;
}

/**
 * Parses a traceparent header value as the W3C spec says a receiver must, without allocating:
 * version 00 is exactly 55 characters; a higher version may carry more after a '-'; ff is invalid;
 * ids are lower-case hex and not all zeros. The ids land in six 32-bit words of `out` from `off`
 * (four for the trace id, two for the parent id), so a ring of records (the agent's) keeps no
 * strings for them. False, and nothing usable written, when absent or invalid.
 */
export function parseTraceparentInto(v: string | undefined | null, out: Uint32Array, off: number): boolean {
  if (typeof v !== 'string' || v.length < 55) return false;
  const v0 = hex(v.charCodeAt(0));
  const v1 = hex(v.charCodeAt(1));
  if (v0 < 0 || v1 < 0 || (v0 === 15 && v1 === 15)) return false;
  if (v0 === 0 && v1 === 0 ? v.length !== 55 : v.length > 55 && v.charCodeAt(55) !== 45) return false;
  if (v.charCodeAt(2) !== 45 || v.charCodeAt(35) !== 45 || v.charCodeAt(52) !== 45) return false;
  if (hex(v.charCodeAt(53)) < 0 || hex(v.charCodeAt(54)) < 0) return false;
  let nonzeroTrace = 0;
  let nonzeroParent = 0;
  // trace-id: characters 3..34 (four words); parent-id: 36..51 (two words).
  for (let i = 0; i < 6; i++) {
    const w = word(v, i < 4 ? 3 + i * 8 : 36 + (i - 4) * 8);
    if (w < 0) return false;
    out[off + i] = w;
    if (i < 4) nonzeroTrace |= w;
    else nonzeroParent |= w;
  }
  return nonzeroTrace !== 0 && nonzeroParent !== 0;
}

function hex8(w: number): string {
  return w.toString(16).padStart(8, '0');
}

/** The trace id (32 hex) of six words written by parseTraceparentInto. */
export function traceIdFromWords(words: Uint32Array, off: number): string {
  return hex8(words[off]!) + hex8(words[off + 1]!) + hex8(words[off + 2]!) + hex8(words[off + 3]!);
}

/** The parent span id (16 hex) of six words written by parseTraceparentInto. */
export function parentIdFromWords(words: Uint32Array, off: number): string {
  return hex8(words[off + 4]!) + hex8(words[off + 5]!);
}

/** A traceparent header value's ids and flags; null for anything invalid (see parseTraceparentInto). */
export function parseTraceparent(value: string | undefined | null): Traceparent | null {
  const words = new Uint32Array(6);
  if (!parseTraceparentInto(value, words, 0)) return null;
  return { traceId: traceIdFromWords(words, 0), parentId: parentIdFromWords(words, 0), flags: Number.parseInt(value!.slice(53, 55), 16) };
}
