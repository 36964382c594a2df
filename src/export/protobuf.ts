/**
 * The few protobuf wire-format primitives the Prometheus protobuf exposition needs (varints, zigzag,
 * doubles, length-delimited fields), written by hand: a generic protobuf library would be a
 * dependency for ~60 lines. Messages are built inside out: a nested message is encoded first and
 * embedded as bytes.
 */
export class ProtoWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** An unsigned varint (values up to 2^53 exactly). */
  varint(v: number): this {
    this.ensure(10);
    let x = Math.floor(v);
    while (x >= 0x80) {
      this.buf[this.len++] = (x % 0x80) | 0x80;
      x = Math.floor(x / 0x80);
    }
    this.buf[this.len++] = x;
    return this;
  }

  private tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  uint64(field: number, v: number): this {
    this.tag(field, 0);
    return this.varint(v);
  }

  /** sint32/sint64: zigzag encoded. */
  sint(field: number, v: number): this {
    this.tag(field, 0);
    return this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  double(field: number, v: number): this {
    this.tag(field, 1);
    this.ensure(8);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 8).setFloat64(0, v, true);
    this.len += 8;
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2);
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** A message prefixed with its length as a varint (the "delimited" stream encoding). */
export function delimited(msg: Uint8Array): Uint8Array {
  const w = new ProtoWriter();
  w.varint(msg.length);
  const head = w.finish();
  const out = new Uint8Array(head.length + msg.length);
  out.set(head);
  out.set(msg, head.length);
  return out;
}
