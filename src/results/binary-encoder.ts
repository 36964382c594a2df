import type { Result, RunMeta } from './result.js';
import {
  F_HAS_BODY, F_HAS_ERROR, F_HAS_HEADERS, F_SAME_BYTES, F_SAME_CODE, F_SAME_REQ, F_TS_ABS,
  FORMAT_VERSION, MAGIC, MAX_TS_DELTA, META_EVENTS, META_HEALTH, META_INFO,
  REC_META, REC_RESET, REC_RESULT, STR_TABLE_MAX_ENTRIES, STR_TABLE_MAX_LENGTH,
} from './binary-format.js';

/**
 * Encodes results into tailprobe binary records (docs/results-format.md), without a file header.
 *
 * Worker threads each own one: they `encode()` results as they complete and ship `take()` chunks to
 * the main thread, which appends them to the file with ResultWriter.writeEncoded(). Every chunk
 * starts a new segment (a RESET record), so chunks from several encoders can be concatenated in any
 * order. The hot path writes straight into one reused buffer: no allocation per result beyond what
 * a string never seen before in the segment costs.
 */
export class BinaryEncoder {
  private buf: Uint8Array;
  private pos = 0;
  /** True when the next result must open a segment (RESET record, absolute timestamp). */
  private fresh = true;
  private readonly table = new Map<string, number>();
  private prevHi = 0;
  private prevLo = 0;
  private prevSeq = -1;
  private prevCode = -1;
  private prevAttack: string | null = null;
  private prevMethod: string | null = null;
  private prevUrl: string | null = null;
  private prevOut = -1;
  private prevIn = -1;
  /** Splits a bigint timestamp into two uint32 halves without allocating. */
  private readonly scratch = new DataView(new ArrayBuffer(8));

  constructor(initialCapacity = 64 * 1024) {
    this.buf = new Uint8Array(Math.max(256, initialCapacity));
  }

  /** Bytes encoded and not yet taken. */
  get length(): number {
    return this.pos;
  }

  /** Records so far (a self-contained segment), then starts afresh. The returned array owns its buffer (transferable). */
  take(): Uint8Array {
    const out = this.buf.slice(0, this.pos);
    this.pos = 0;
    this.fresh = true;
    return out;
  }

  /**
   * Records so far, keeping the segment open: what a writer uses to flush its own stream, where the
   * next bytes follow these directly. Not for chunks that may be reordered.
   */
  takeContinuing(): Uint8Array {
    const out = this.buf.slice(0, this.pos);
    this.pos = 0;
    return out;
  }

  /** Forget the segment state: the next result opens a new segment (after foreign bytes were appended). */
  newSegment(): void {
    this.fresh = true;
  }

  /** The 9-byte file header (magic and version), for writers. */
  static header(): Uint8Array {
    const h = new Uint8Array(MAGIC.length + 1);
    h.set(MAGIC);
    h[MAGIC.length] = FORMAT_VERSION;
    return h;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  private beginSegment(): void {
    this.ensure(2);
    this.buf[this.pos++] = REC_RESET;
    this.buf[this.pos++] = 0;
    this.table.clear();
    this.prevSeq = -1;
    this.prevCode = -1;
    this.prevAttack = this.prevMethod = this.prevUrl = null;
    this.prevOut = this.prevIn = -1;
    this.fresh = false;
  }

  encode(r: Result): void {
    const isFirst = this.fresh;
    if (isFirst) this.beginSegment();
    const sameReq = r.attack === this.prevAttack && r.method === this.prevMethod && r.url === this.prevUrl;
    const body = r.body !== null && r.body.length > 0 ? r.body : null;
    const headers = r.headers !== null && hasKeys(r.headers) ? r.headers : null;
    // Worst case size, so the buffer is grown at most once and can be cached in a local.
    let need = 96 + 3 * r.error.length + (sameReq ? 0 : 3 * (r.attack.length + r.method.length + r.url.length) + 30);
    if (body !== null) need += body.length + 10;
    if (headers !== null) need += headersSize(headers);
    this.ensure(need);
    const buf = this.buf;
    const start = this.pos;
    buf[start] = REC_RESULT;
    // buf[start + 1] is the length, fixed up below.
    let p = start + 3;
    let flags = 0;

    // Timestamp: a delta from the previous result in the segment, or absolute.
    const sc = this.scratch;
    sc.setBigInt64(0, r.timestamp, true);
    const lo = sc.getUint32(0, true);
    const hi = sc.getInt32(4, true);
    const delta = (hi - this.prevHi) * 4294967296 + (lo - this.prevLo);
    if (isFirst || delta >= MAX_TS_DELTA || delta <= -MAX_TS_DELTA) {
      flags |= F_TS_ABS;
      for (let i = 0; i < 8; i++) buf[p + i] = sc.getUint8(i);
      p += 8;
    } else {
      p = putVarint(buf, p, delta >= 0 ? delta * 2 : -delta * 2 - 1);
    }
    this.prevHi = hi;
    this.prevLo = lo;

    const dseq = r.seq - this.prevSeq;
    p = putVarint(buf, p, dseq >= 0 ? dseq * 2 : -dseq * 2 - 1);
    this.prevSeq = r.seq;

    if (r.code === this.prevCode) flags |= F_SAME_CODE;
    else {
      p = putVarint(buf, p, r.code);
      this.prevCode = r.code;
    }
    p = putVarint(buf, p, nonNegInt(r.latency));
    p = putVarint(buf, p, r.sendLag < 0 ? 0 : nonNegInt(r.sendLag) + 1);

    this.pos = p;
    if (sameReq) flags |= F_SAME_REQ;
    else {
      this.putString(r.attack);
      this.putString(r.method);
      this.putString(r.url);
      this.prevAttack = r.attack;
      this.prevMethod = r.method;
      this.prevUrl = r.url;
    }
    p = this.pos;

    if (r.bytesOut === this.prevOut && r.bytesIn === this.prevIn) flags |= F_SAME_BYTES;
    else {
      p = putVarint(buf, p, r.bytesOut);
      p = putVarint(buf, p, r.bytesIn);
      this.prevOut = r.bytesOut;
      this.prevIn = r.bytesIn;
    }
    this.pos = p;
    if (r.error !== '') {
      flags |= F_HAS_ERROR;
      this.putString(r.error);
    }
    if (body !== null) {
      flags |= F_HAS_BODY;
      p = putVarint(buf, this.pos, body.length);
      buf.set(body, p);
      this.pos = p + body.length;
    }
    if (headers !== null) {
      flags |= F_HAS_HEADERS;
      let pairs = 0;
      for (const k in headers) pairs += headers[k]!.length;
      this.pos = putVarint(buf, this.pos, pairs);
      for (const k in headers) {
        for (const v of headers[k]!) {
          this.putString(k);
          this.putString(v);
        }
      }
    }
    buf[start + 2] = flags;
    this.finishRecord(start);
  }

  /** Run metadata records (RunInfo, GeneratorHealth, RunEvents). Rare, so plain JSON inside. */
  encodeMeta(meta: Partial<RunMeta>): void {
    if (meta.info) {
      this.metaRecord(META_INFO, { ...meta.info, startedAt: String(meta.info.startedAt) });
    }
    if (meta.health) this.metaRecord(META_HEALTH, meta.health);
    if (meta.events && meta.events.length > 0) {
      this.metaRecord(META_EVENTS, meta.events.map((e) => ({ ...e, start: String(e.start) })));
    }
  }

  private metaRecord(kind: number, value: unknown): void {
    const json = Buffer.from(JSON.stringify(value), 'utf8');
    this.ensure(json.length + 16);
    const start = this.pos;
    this.buf[start] = REC_META;
    this.buf[start + 2] = kind;
    this.buf.set(json, start + 3);
    this.pos = start + 3 + json.length;
    this.finishRecord(start);
  }

  /** Writes the payload length of the record at `start` (one byte reserved; shifted if longer). */
  private finishRecord(start: number): void {
    const len = this.pos - (start + 2);
    if (len < 0x80) {
      this.buf[start + 1] = len;
      return;
    }
    const extra = varintSize(len) - 1;
    this.ensure(extra);
    this.buf.copyWithin(start + 2 + extra, start + 2, this.pos);
    putVarint(this.buf, start + 1, len);
    this.pos += extra;
  }

  /** A string reference: table index, or a literal (added to the table while it has room). */
  private putString(s: string): void {
    const buf = this.buf;
    let p = this.pos;
    if (s.length === 0) {
      buf[p] = 0;
      this.pos = p + 1;
      return;
    }
    const idx = this.table.get(s);
    if (idx !== undefined) {
      this.pos = putVarint(buf, p, idx * 2 + 1);
      return;
    }
    let ascii = true;
    for (let i = 0; i < s.length; i++) {
      if (s.charCodeAt(i) > 0x7f) {
        ascii = false;
        break;
      }
    }
    const n = ascii ? s.length : Buffer.byteLength(s, 'utf8');
    const add = n <= STR_TABLE_MAX_LENGTH && this.table.size < STR_TABLE_MAX_ENTRIES;
    p = putVarint(buf, p, n * 4 + (add ? 2 : 0));
    if (ascii) {
      for (let i = 0; i < n; i++) buf[p + i] = s.charCodeAt(i);
    } else {
      utf8.encodeInto(s, buf.subarray(p, p + n));
    }
    this.pos = p + n;
    if (add) this.table.set(s, this.table.size);
  }
}

const utf8 = new TextEncoder();

function hasKeys(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

function headersSize(h: Record<string, string[]>): number {
  let n = 10;
  for (const k in h) for (const v of h[k]!) n += 3 * (k.length + v.length) + 20;
  return n;
}

function nonNegInt(x: number): number {
  return x > 0 ? Math.round(x) : 0;
}

/** Unsigned LEB128 for integers up to 2^53, written at p; returns the position after it. */
export function putVarint(buf: Uint8Array, p: number, v: number): number {
  if (v < 0x80) {
    buf[p] = v;
    return p + 1;
  }
  if (v <= 0xffffffff) {
    while (v > 0x7f) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p] = v;
    return p + 1;
  }
  while (v > 0x7f) {
    buf[p++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[p] = v;
  return p + 1;
}

export function varintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}
