/**
 * W3C Trace Context `traceparent` (https://www.w3.org/TR/trace-context/#traceparent-header), read
 * without allocating: `00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>`, lower-case hex only,
 * trace-id and parent-id not all zeros, version `ff` invalid, version `00` exactly 55 characters; a
 * higher version may carry more after a `-` (the spec's forward compatibility). The ids land in six
 * 32-bit words of a typed array (four for the trace, two for the parent), so a ring of records
 * keeps no strings for them.
 */

/** Lower-case hex digit values by char code (-1: not one); a table is twice as fast as comparisons. */
const HEX = new Int8Array(128).fill(-1);
for (let c = 48; c <= 57; c++) HEX[c] = c - 48;
for (let c = 97; c <= 102; c++) HEX[c] = c - 87;

function hex(c: number): number {
  return c < 128 ? HEX[c]! : -1;
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

/** Parses `v` into out[off .. off+6). False (and nothing usable written) when absent or invalid. */
export function parseTraceparentInto(v: string | undefined, out: Uint32Array, off: number): boolean {
  if (v === undefined || v.length < 55) return false;
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
export function traceIdOf(words: Uint32Array, off: number): string {
  return hex8(words[off]!) + hex8(words[off + 1]!) + hex8(words[off + 2]!) + hex8(words[off + 3]!);
}

/** The parent span id (16 hex) of six words written by parseTraceparentInto. */
export function parentIdOf(words: Uint32Array, off: number): string {
  return hex8(words[off + 4]!) + hex8(words[off + 5]!);
}

/** `{ trace, parent }` of a header value, both "" when it is absent or invalid. */
export function parseTraceparent(v: string | undefined): { trace: string; parent: string } {
  const words = new Uint32Array(6);
  if (!parseTraceparentInto(v, words, 0)) return { trace: '', parent: '' };
  return { trace: traceIdOf(words, 0), parent: parentIdOf(words, 0) };
}
