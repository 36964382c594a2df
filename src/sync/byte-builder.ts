import { BufferPool } from './buffer-pool.js';

/**
 * A growable byte buffer on a BufferPool: Go's pooled bytes.Buffer, for assembling a response.
 *
 *   using out = new ByteBuilder(pool);      // or out.release() when done
 *   out.appendString('{"key":"').appendString(key).appendString('"}');
 *   res.end(out.bytes());                    // a view; valid until the builder is released/reset
 *
 * Writes go straight into a pooled buffer; when it is full the builder takes one of twice the size
 * from the pool, copies, and gives the old one back. release() gives the buffer back to the pool:
 * views from bytes() must not be used after that (copy with toBuffer() to keep the bytes).
 */
export class ByteBuilder {
  private buf: Buffer | null = null;
  private len = 0;

  constructor(
    readonly pool: BufferPool = defaultPool(),
    /** Capacity to start with (default: the pool's size). */
    private readonly initial = pool.size,
  ) {}

  get length(): number {
    return this.len;
  }

  get capacity(): number {
    return this.buf?.length ?? 0;
  }

  append(bytes: Uint8Array): this {
    const n = bytes.length;
    const b = this.ensure(n);
    b.set(bytes, this.len);
    this.len += n;
    return this;
  }

  /**
   * Appends a string's bytes (UTF-8 by default; latin1/binary/ascii write one byte per character)
   * without an intermediate Buffer. Short strings are copied by a JS loop: for the few-byte pieces a
   * response is assembled from, that beats crossing into C++ for Buffer.write.
   */
  appendString(s: string, encoding: BufferEncoding = 'utf8'): this {
    const n = s.length;
    const oneByte = encoding === 'latin1' || encoding === 'binary' || encoding === 'ascii';
    if (n <= SHORT_STRING && (oneByte || encoding === 'utf8' || encoding === 'utf-8')) {
      const b = this.ensure(oneByte ? n : n * 3);
      const start = this.len;
      let o = start;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c < 0x80 || oneByte) b[o++] = c & 0xff;
        else {
          // Not ASCII: let Buffer encode the whole string (from the start, overwriting our bytes).
          this.len = start + b.write(s, start, 'utf8');
          return this;
        }
      }
      this.len = o;
      return this;
    }
    const b = this.ensure(oneByte ? n : this.fits(n * 3) ? n * 3 : Buffer.byteLength(s, encoding));
    this.len += b.write(s, this.len, encoding);
    return this;
  }

  /** Appends an integer's decimal digits without making a string (other numbers via String()). */
  appendInt(x: number): this {
    if (!Number.isSafeInteger(x)) return this.appendString(String(x), 'latin1');
    let v = x;
    if (v < 0) {
      this.appendByte(0x2d);
      v = -v;
    }
    if (v < 1e9) return this.appendSmall(v, 0);
    // Two halves below 1e9 each, so all digit arithmetic stays on small integers (a double % is a
    // call to fmod, many times slower).
    const hi = Math.floor(v / 1e9);
    this.appendSmall(hi, 0);
    return this.appendSmall(v - hi * 1e9, 9);
  }

  /** Digits of 0 <= v < 1e9, left-padded with zeros to `width`. */
  private appendSmall(v: number, width: number): this {
    let digits = 1;
    for (let p = 10; p <= v; p *= 10) digits++;
    if (digits < width) digits = width;
    const b = this.ensure(digits);
    let u = v | 0;
    for (let i = this.len + digits - 1; i >= this.len; i--) {
      const q = (u / 10) | 0;
      b[i] = 48 + u - q * 10;
      u = q;
    }
    this.len += digits;
    return this;
  }

  appendByte(byte: number): this {
    const b = this.ensure(1);
    b[this.len++] = byte;
    return this;
  }

  /** The bytes so far, as a view of the pooled buffer: valid until the next reset/release. */
  bytes(): Buffer {
    if (this.buf === null) return Buffer.alloc(0);
    return this.buf.subarray(0, this.len);
  }

  /** A copy of the bytes so far, safe to keep after release. */
  toBuffer(): Buffer {
    return Buffer.from(this.bytes());
  }

  toString(encoding: BufferEncoding = 'utf8'): string {
    return this.buf === null ? '' : this.buf.toString(encoding, 0, this.len);
  }

  /** Empties the builder, keeping its buffer (like bytes.Buffer.Reset): same owner, no zeroing. */
  reset(): void {
    this.len = 0;
  }

  /** Gives the buffer back to the pool; the builder can be used again (it takes a new one). */
  release(): void {
    if (this.buf !== null) this.pool.put(this.buf);
    this.buf = null;
    this.len = 0;
  }

  [Symbol.dispose](): void {
    this.release();
  }

  private fits(extra: number): boolean {
    return this.buf !== null && this.len + extra <= this.buf.length;
  }

  private ensure(extra: number): Buffer {
    const need = this.len + extra;
    const b = this.buf;
    if (b !== null && need <= b.length) return b;
    let cap = b === null ? this.initial : b.length * 2;
    while (cap < need) cap *= 2;
    const next = this.pool.get(cap);
    if (b !== null) {
      b.copy(next, 0, 0, this.len);
      this.pool.put(b);
    }
    this.buf = next;
    return next;
  }
}

/** Strings up to this length are copied by the JS loop in appendString. */
const SHORT_STRING = 64;

let shared: BufferPool | null = null;

/** The pool ByteBuilders use when given none (4 KiB buffers, up to 64 kept). */
export function defaultPool(): BufferPool {
  return (shared ??= new BufferPool());
}
