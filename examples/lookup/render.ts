import { BufferPool } from 'tailprobe/sync';
import type { LookupView } from './table.js';

/**
 * Assembling a lookup response (JSON) in a byte buffer, two ways that produce the same bytes:
 *
 * - `fresh` (the story's fault): the way a first version gets written. Build a response object
 *   (copying what it needs out of the table), JSON.stringify it, and encode it into a freshly
 *   allocated response buffer. Dozens of short-lived objects and strings plus a 64 KiB buffer per
 *   request: garbage by the time the response is on the wire.
 * - `pool` (the fix): take a buffer from tailprobe/sync's BufferPool, write the JSON straight into
 *   it, hand it back once the response has been flushed. No intermediate objects or strings.
 *
 * Both return the bytes to send; `release` must be called once the socket no longer needs them.
 */
export type AllocKind = 'fresh' | 'pool';

/**
 * Capacity of a response buffer: 1 MiB, room for the largest response the service could ever
 * send, as a first version sizes it. Allocated fresh per request, that is 1 MiB of zeroed memory
 * outside the JS heap that V8 must account for and get back: it forces a young-generation
 * collection every few dozen requests.
 */
export const RESPONSE_BUFFER_SIZE = 1 << 20;

export interface Rendered {
  body: Buffer;
  /** Gives the buffer back (pool) or does nothing (fresh). Call after the response is flushed. */
  release: () => void;
}

const noop = () => {};

/**
 * The naive path, the way a first version gets written: take a private copy of the entries, copy
 * what the response needs into a fresh object graph (formatting timestamps and values as it goes),
 * JSON.stringify it, and encode the JSON into a freshly allocated response buffer. All of it
 * garbage a moment later.
 */
export function renderFresh(view: LookupView, bufferSize = RESPONSE_BUFFER_SIZE): Rendered {
  // A private copy of everything the response shows, so nothing can change under the rendering.
  const e = structuredClone(view.entry);
  const linked = structuredClone(view.related);
  const tags: string[] = [];
  for (const t of e.tags) tags.push(t);
  const history: Array<{ at: string; value: string }> = [];
  for (const h of e.history) history.push({ at: new Date(h.t).toISOString(), value: (h.v / 1000).toFixed(3) });
  const related: Array<{ key: string; name: string; tier: number; at: string; value: string }> = [];
  for (const r of linked) {
    const last = r.history[r.history.length - 1]!;
    related.push({ key: r.key, name: r.name, tier: r.attrs.tier, at: new Date(last.t).toISOString(), value: (last.v / 1000).toFixed(3) });
  }
  const doc = {
    key: e.key,
    name: e.name,
    version: e.version,
    tags,
    attrs: { region: e.attrs.region, tier: e.attrs.tier, owner: e.attrs.owner },
    history,
    related,
  };
  const json = JSON.stringify(doc);
  const buf = Buffer.alloc(bufferSize);
  const n = buf.write(json, 0, 'latin1');
  if (n < json.length) throw new RangeError(`response of ${json.length} bytes does not fit the buffer`);
  return { body: buf.subarray(0, n), release: noop };
}

/**
 * The pooled path. The same bytes, written straight into a buffer from tailprobe/sync's BufferPool
 * (which hands buffers out zero-filled); only [0, end) is sent. The buffer goes back to the pool in
 * `release`, never before: until the socket has flushed it, the bytes are still in flight.
 */
export class PooledRenderer {
  readonly pool: BufferPool;

  constructor(
    readonly bufferSize = RESPONSE_BUFFER_SIZE,
    /** At most this many idle buffers are kept (the pool grows to the peak of requests in flight). */
    max = 256,
  ) {
    this.pool = new BufferPool({ size: bufferSize, max });
  }

  render(view: LookupView): Rendered {
    const buf = this.pool.get(this.bufferSize);
    const e = view.entry;
    let o = 0;
    o = str(buf, o, '{"key":"');
    o = str(buf, o, e.key);
    o = str(buf, o, '","name":"');
    o = str(buf, o, e.name);
    o = str(buf, o, '","version":');
    o = int(buf, o, e.version);
    o = str(buf, o, ',"tags":[');
    for (let i = 0; i < e.tags.length; i++) {
      o = str(buf, o, i > 0 ? ',"' : '"');
      o = str(buf, o, e.tags[i]!);
      o = str(buf, o, '"');
    }
    o = str(buf, o, '],"attrs":{"region":"');
    o = str(buf, o, e.attrs.region);
    o = str(buf, o, '","tier":');
    o = int(buf, o, e.attrs.tier);
    o = str(buf, o, ',"owner":"');
    o = str(buf, o, e.attrs.owner);
    o = str(buf, o, '"},"history":[');
    for (let i = 0; i < e.history.length; i++) {
      const h = e.history[i]!;
      o = str(buf, o, i > 0 ? ',{"at":"' : '{"at":"');
      o = isoDate(buf, o, h.t);
      o = str(buf, o, '","value":"');
      o = thousandths(buf, o, h.v);
      o = str(buf, o, '"}');
    }
    o = str(buf, o, '],"related":[');
    for (let i = 0; i < view.related.length; i++) {
      const r = view.related[i]!;
      const last = r.history[r.history.length - 1]!;
      o = str(buf, o, i > 0 ? ',{"key":"' : '{"key":"');
      o = str(buf, o, r.key);
      o = str(buf, o, '","name":"');
      o = str(buf, o, r.name);
      o = str(buf, o, '","tier":');
      o = int(buf, o, r.attrs.tier);
      o = str(buf, o, ',"at":"');
      o = isoDate(buf, o, last.t);
      o = str(buf, o, '","value":"');
      o = thousandths(buf, o, last.v);
      o = str(buf, o, '"}');
    }
    o = str(buf, o, ']}');
    const pool = this.pool;
    return { body: buf.subarray(0, o), release: () => pool.put(buf) };
  }
}

/** Table strings are ASCII without quotes or backslashes, so latin1 bytes are their JSON. */
function str(buf: Buffer, o: number, s: string): number {
  if (o + s.length > buf.length) throw new RangeError('response does not fit the buffer');
  return o + buf.write(s, o, 'latin1');
}

/** Writes a non-negative integer's decimal digits (at least `width`, zero-padded) without making a string. */
function int(buf: Buffer, o: number, n: number, width = 1): number {
  if (n < 0 || !Number.isSafeInteger(n)) throw new RangeError(`cannot render ${n}`);
  let digits = 1;
  for (let p = 10; p <= n; p *= 10) digits++;
  if (digits < width) digits = width;
  if (o + digits > buf.length) throw new RangeError('response does not fit the buffer');
  let v = n;
  for (let i = o + digits - 1; i >= o; i--) {
    buf[i] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
  return o + digits;
}

/** `v / 1000` with three decimals, as (v / 1000).toFixed(3) prints it for a non-negative integer v. */
function thousandths(buf: Buffer, o: number, v: number): number {
  o = int(buf, o, Math.floor(v / 1000));
  o = str(buf, o, '.');
  return int(buf, o, v % 1000, 3);
}

/** Epoch milliseconds as Date.prototype.toISOString prints them (years 0..9999), without a Date. */
function isoDate(buf: Buffer, o: number, ms: number): number {
  const days = Math.floor(ms / 86_400_000);
  let rem = ms - days * 86_400_000;
  // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  o = int(buf, o, year, 4);
  o = str(buf, o, '-');
  o = int(buf, o, month, 2);
  o = str(buf, o, '-');
  o = int(buf, o, day, 2);
  o = str(buf, o, 'T');
  o = int(buf, o, Math.floor(rem / 3_600_000), 2);
  rem %= 3_600_000;
  o = str(buf, o, ':');
  o = int(buf, o, Math.floor(rem / 60_000), 2);
  rem %= 60_000;
  o = str(buf, o, ':');
  o = int(buf, o, Math.floor(rem / 1000), 2);
  o = str(buf, o, '.');
  o = int(buf, o, rem % 1000, 3);
  return str(buf, o, 'Z');
}
