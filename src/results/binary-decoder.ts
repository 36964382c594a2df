import { RuntimeError } from '../errors.js';
import { emptyMeta, type GeneratorHealth, type Result, type RunEvent, type RunInfo, type RunMeta } from './result.js';
import {
  F_HAS_BODY, F_HAS_ERROR, F_HAS_HEADERS, F_RESERVED, F_SAME_BYTES, F_SAME_CODE, F_SAME_REQ, F_TS_ABS,
  FORMAT_VERSION, HEADER_BYTE, HEADER_LENGTH, MAGIC, META_EVENTS, META_HEALTH, META_INFO,
  REC_META, REC_RESET, REC_RESULT,
} from './binary-format.js';

/** Thrown inside a record parse; turned into a one-line RuntimeError naming the file and offset. */
class Corrupt extends Error {}

/**
 * Streaming decoder of tailprobe binary results. Feed it chunks in order with push(); it decodes
 * every whole record and keeps the bytes of an incomplete last record for the next chunk. end()
 * returns how many bytes were left over: a file cut off mid-record still yields everything whole.
 */
export class BinaryDecoder {
  readonly meta: RunMeta = emptyMeta();
  /** Chunks not decoded yet (an incomplete record), and their total length. */
  private pending: Buffer[] = [];
  private pendingLen = 0;
  /** Bytes needed before the pending record can be complete (0 = unknown yet). */
  private need = 0;
  /** File offset of the first pending byte, for error messages. */
  private offset = 0;
  private headerSeen = false;

  // Segment state (see binary-encoder.ts).
  private table: string[] = [];
  private hasBase = false;
  private prevHi = 0;
  private prevLo = 0;
  private prevSeq = -1;
  private prevCode = 0;
  private prevAttack = '';
  private prevMethod = '';
  private prevUrl = '';
  private prevOut = 0;
  private prevIn = 0;

  private buf: Buffer = Buffer.alloc(0);
  private p = 0;
  private recEnd = 0;
  private readonly scratch = new DataView(new ArrayBuffer(8));

  /** `headerless`: the input is records only, as BinaryEncoder.take() returns them (no file header). */
  constructor(
    readonly name: string,
    opts: { headerless?: boolean } = {},
  ) {
    this.headerSeen = opts.headerless === true;
  }

  /** Decodes the whole records now available, appending results to `out`. */
  push(chunk: Buffer, out: Result[]): void {
    if (chunk.length === 0) return;
    this.pending.push(chunk);
    this.pendingLen += chunk.length;
    if (this.pendingLen < this.need) return;
    const buf = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingLen);
    this.pending = [];
    this.pendingLen = 0;
    this.need = 0;
    const used = this.decodeAll(buf, out);
    this.offset += used;
    if (used < buf.length) {
      // Copy the tail so the (large) chunk it came from can be collected.
      const rest = Buffer.from(buf.subarray(used));
      this.pending.push(rest);
      this.pendingLen = rest.length;
    }
  }

  /** Bytes of an incomplete final record (0 when the input ended on a record boundary). */
  end(): number {
    return this.pendingLen;
  }

  private fail(at: number, why: string): never {
    throw new RuntimeError(`${this.name}: offset ${this.offset + at}: corrupt binary results (${why})`);
  }

  /** Returns how many bytes of buf were consumed (whole records only). */
  private decodeAll(buf: Buffer, out: Result[]): number {
    this.buf = buf;
    const n = buf.length;
    let q = 0;
    while (q < n) {
      const type = buf[q]!;
      if (type === HEADER_BYTE) {
        if (n - q < HEADER_LENGTH) {
          this.need = HEADER_LENGTH - (n - q);
          return q;
        }
        for (let i = 1; i < MAGIC.length; i++) if (buf[q + i] !== MAGIC[i]) this.fail(q, 'bad file header');
        const version = buf[q + MAGIC.length]!;
        if (version > FORMAT_VERSION) {
          throw new RuntimeError(
            `${this.name}: written in results format version ${version}; this tailprobe reads up to version ${FORMAT_VERSION} (upgrade tailprobe)`,
          );
        }
        this.headerSeen = true;
        this.reset();
        q += HEADER_LENGTH;
        continue;
      }
      if (!this.headerSeen) this.fail(q, 'missing file header');
      // Record length varint.
      let len = 0;
      let mul = 1;
      let p = q + 1;
      for (;;) {
        if (p >= n) return q;
        const b = buf[p++]!;
        len += (b & 0x7f) * mul;
        if (b < 0x80) break;
        mul *= 128;
        if (mul > 2 ** 35) this.fail(q, 'record length');
      }
      const end = p + len;
      if (end > n) {
        this.need = end - n;
        return q;
      }
      this.p = p;
      this.recEnd = end;
      try {
        if (type === REC_RESULT) out.push(this.result());
        else if (type === REC_RESET) this.reset();
        else if (type === REC_META) this.metaRecord(p, end);
        else if (type >= 0x80) this.fail(q, `unknown record type 0x${type.toString(16)}`);
        // Other types below 0x80 are newer additions a version-1 reader may skip.
      } catch (e) {
        if (e instanceof Corrupt) this.fail(q, e.message);
        throw e;
      }
      if (type === REC_RESULT && this.p !== end) this.fail(q, 'record length mismatch');
      q = end;
    }
    return q;
  }

  private reset(): void {
    this.table = [];
    this.hasBase = false;
    this.prevSeq = -1;
    this.prevCode = 0;
    this.prevAttack = this.prevMethod = this.prevUrl = '';
    this.prevOut = this.prevIn = 0;
  }

  private varint(): number {
    const buf = this.buf;
    let p = this.p;
    if (p >= this.recEnd) throw new Corrupt('field beyond record end');
    let b = buf[p++]!;
    if (b < 0x80) {
      this.p = p;
      return b;
    }
    let v = b & 0x7f;
    let mul = 128;
    for (;;) {
      if (p >= this.recEnd) throw new Corrupt('field beyond record end');
      b = buf[p++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) break;
      mul *= 128;
      if (mul > 2 ** 56) throw new Corrupt('varint too long');
    }
    this.p = p;
    return v;
  }

  private str(): string {
    const v = this.varint();
    if (v === 0) return '';
    if (v % 2 === 1) {
      const s = this.table[(v - 1) / 2];
      if (s === undefined) throw new Corrupt('string reference out of range');
      return s;
    }
    const n = Math.floor(v / 4);
    const p = this.p;
    if (p + n > this.recEnd) throw new Corrupt('string beyond record end');
    const s = this.buf.toString('utf8', p, p + n);
    this.p = p + n;
    if (v % 4 === 2) this.table.push(s);
    return s;
  }

  private result(): Result {
    const buf = this.buf;
    if (this.p >= this.recEnd) throw new Corrupt('empty result');
    const flags = buf[this.p++]!;
    if (flags & F_RESERVED) throw new Corrupt('reserved flag set');
    let lo: number;
    let hi: number;
    if (flags & F_TS_ABS) {
      const p = this.p;
      if (p + 8 > this.recEnd) throw new Corrupt('timestamp beyond record end');
      lo = buf.readUInt32LE(p);
      hi = buf.readInt32LE(p + 4);
      this.p = p + 8;
    } else {
      if (!this.hasBase) throw new Corrupt('timestamp delta without a base');
      const zz = this.varint();
      const d = zz % 2 === 0 ? zz / 2 : -(zz + 1) / 2;
      const total = this.prevLo + d;
      const carry = Math.floor(total / 4294967296);
      lo = total - carry * 4294967296;
      hi = this.prevHi + carry;
    }
    this.hasBase = true;
    this.prevLo = lo;
    this.prevHi = hi;
    const sc = this.scratch;
    sc.setUint32(0, lo, true);
    sc.setInt32(4, hi, true);
    const timestamp = sc.getBigInt64(0, true);

    const zs = this.varint();
    const seq = this.prevSeq + (zs % 2 === 0 ? zs / 2 : -(zs + 1) / 2);
    this.prevSeq = seq;
    const code = flags & F_SAME_CODE ? this.prevCode : (this.prevCode = this.varint());
    const latency = this.varint();
    const sendLag = this.varint() - 1;
    let attack = this.prevAttack;
    let method = this.prevMethod;
    let url = this.prevUrl;
    if (!(flags & F_SAME_REQ)) {
      this.prevAttack = attack = this.str();
      this.prevMethod = method = this.str();
      this.prevUrl = url = this.str();
    }
    let bytesOut = this.prevOut;
    let bytesIn = this.prevIn;
    if (!(flags & F_SAME_BYTES)) {
      this.prevOut = bytesOut = this.varint();
      this.prevIn = bytesIn = this.varint();
    }
    const error = flags & F_HAS_ERROR ? this.str() : '';
    let body: Uint8Array | null = null;
    if (flags & F_HAS_BODY) {
      const n = this.varint();
      if (this.p + n > this.recEnd) throw new Corrupt('body beyond record end');
      body = new Uint8Array(buf.subarray(this.p, this.p + n)); // a copy: chunks are not kept
      this.p += n;
    }
    let headers: Record<string, string[]> | null = null;
    if (flags & F_HAS_HEADERS) {
      headers = {};
      const pairs = this.varint();
      for (let i = 0; i < pairs; i++) {
        const k = this.str();
        const v = this.str();
        (headers[k] ??= []).push(v);
      }
    }
    return { attack, seq, code, timestamp, latency, sendLag, bytesOut, bytesIn, error, body, method, url, headers };
  }

  private metaRecord(p: number, end: number): void {
    if (end - p < 1) return;
    const kind = this.buf[p]!;
    let value: unknown;
    try {
      value = JSON.parse(this.buf.toString('utf8', p + 1, end));
    } catch {
      throw new Corrupt('meta record is not JSON');
    }
    try {
      if (kind === META_INFO) {
        const info = value as RunInfo & { startedAt: string };
        this.meta.info = { ...info, startedAt: BigInt(info.startedAt) };
      } else if (kind === META_HEALTH) {
        this.meta.health = value as GeneratorHealth;
      } else if (kind === META_EVENTS) {
        for (const e of value as Array<RunEvent & { start: string }>) this.meta.events.push({ ...e, start: BigInt(e.start) });
      }
    } catch {
      throw new Corrupt('malformed meta record');
    }
  }
}
