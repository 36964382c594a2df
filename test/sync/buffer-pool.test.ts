import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool, ByteBuilder, Pool } from '../../src/sync/index.js';

const MARKER = 0xa5;

function allZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

test('BufferPool: a reused buffer never shows the previous tenant\'s bytes, not even past its length', () => {
  const pool = new BufferPool({ size: 1024, max: 4 });
  for (let round = 0; round < 50; round++) {
    const size = [1024, 100, 1, 700, 2048, 4096][round % 6]!;
    const b = pool.get(size);
    assert.equal(b.length, size);
    assert.ok(allZero(b), `round ${round}: get(${size}) returned non-zero bytes`);
    // The whole backing store, as `buf.buffer` exposes it, is clean too.
    assert.ok(allZero(new Uint8Array(b.buffer, b.byteOffset, b.buffer.byteLength - b.byteOffset)));
    b.fill(MARKER);
    pool.put(b);
  }
  assert.ok(pool.stats().hits > 0, 'buffers were actually reused');
});

test('BufferPool: a tenant that keeps writing after put cannot reach the next tenant', () => {
  const pool = new BufferPool({ size: 256, max: 2 });
  const first = pool.get();
  pool.put(first);
  first.fill(MARKER); // use after put: a bug, but the next get must not carry it
  const second = pool.get();
  assert.equal(second.buffer, first.buffer, 'same backing store reused');
  assert.ok(allZero(second));
});

test('BufferPool: bounded by count, by bytes, and never keeps oversize buffers', () => {
  const pool = new BufferPool({ size: 1024, max: 3, maxBytes: 4096, maxBufferSize: 4096 });
  const bufs = Array.from({ length: 5 }, () => pool.get());
  for (const b of bufs) pool.put(b);
  let s = pool.stats();
  assert.equal(s.size, 3, 'at most max buffers kept');
  assert.equal(s.bytes, 3 * 1024);
  assert.equal(s.dropped, 2);
  assert.equal(s.misses, 5);
  assert.equal(s.outstanding, 0);

  // Bytes bound: a 2 KiB buffer does not fit next to 3 KiB already held (max 4 KiB).
  const big = pool.get(2048);
  pool.put(big);
  s = pool.stats();
  assert.equal(s.bytes, 3 * 1024);
  assert.equal(s.dropped, 3);

  // Oversize: allocated (zeroed), never kept.
  const huge = pool.get(10_000);
  assert.equal(huge.length, 10_000);
  assert.ok(allZero(huge));
  pool.put(huge);
  assert.equal(pool.stats().size, 3);
  assert.equal(pool.stats().dropped, 4);
});

test('BufferPool: size classes, hits and misses, exact-size get allocates no view', () => {
  const pool = new BufferPool({ size: 1024, max: 8 });
  const a = pool.get(); // class 1024
  assert.equal(a.length, 1024);
  assert.equal(a.byteOffset, 0);
  assert.equal(a.buffer.byteLength, 1024);
  const c = pool.get(1500); // class 2048
  assert.equal(c.length, 1500);
  assert.equal(c.buffer.byteLength, 2048);
  pool.put(a);
  pool.put(c);
  const a2 = pool.get(1000);
  assert.equal(a2.buffer, a.buffer, 'served from the 1024 class');
  const c2 = pool.get(2048);
  assert.equal(c2.buffer, c.buffer, 'served from the 2048 class');
  assert.deepEqual({ hits: pool.stats().hits, misses: pool.stats().misses }, { hits: 2, misses: 2 });
});

test('BufferPool: put twice, or a foreign buffer, is an error', () => {
  const pool = new BufferPool({ size: 64 });
  const b = pool.get();
  pool.put(b);
  assert.throws(() => pool.put(b), /put back twice/);
  assert.throws(() => pool.put(Buffer.alloc(64)), /did not come from this pool/);
  assert.throws(() => pool.get(-1), RangeError);
  assert.throws(() => new BufferPool({ size: 0 }), RangeError);
});

test('BufferPool: trim releases what was not needed through a whole interval (low-water mark)', () => {
  const pool = new BufferPool({ size: 128, max: 16, trimIntervalMs: 0 });
  const held = Array.from({ length: 10 }, () => pool.get());
  for (const b of held) pool.put(b);
  assert.equal(pool.stats().size, 10);
  pool.trim(); // starts an interval: low-water = 10
  // Busiest moment of the interval: 4 buffers in use at once.
  const inUse = Array.from({ length: 4 }, () => pool.get());
  for (const b of inUse) pool.put(b);
  pool.trim(); // 6 were never needed
  assert.equal(pool.stats().size, 4);
  assert.equal(pool.stats().trimmed, 6);
  pool.trim(); // nothing used at all in this interval
  assert.equal(pool.stats().size, 0);
  pool.clear();
});

test('Pool<T>: reset on the way out, bounded, double put detected', () => {
  let created = 0;
  const pool = new Pool({ create: () => ({ id: ++created, parts: [] as string[] }), reset: (o) => (o.parts.length = 0), max: 2 });
  const a = pool.get();
  a.parts.push('secret');
  pool.put(a);
  a.parts.push('written after put');
  const again = pool.get();
  assert.equal(again, a);
  assert.deepEqual(again.parts, []);
  assert.throws(() => {
    pool.put(again);
    pool.put(again);
  }, /put back twice/);
  const x = pool.get();
  const y = pool.get();
  const z = pool.get();
  pool.put(x);
  pool.put(y);
  pool.put(z);
  assert.equal(pool.stats().size, 2);
  assert.equal(pool.stats().dropped, 1);
  assert.throws(() => pool.put(42 as unknown as { id: number; parts: string[] }), TypeError);
});

test('ByteBuilder: appends, grows through the pool, and hands clean buffers to the next user', () => {
  const pool = new BufferPool({ size: 16, max: 8, maxBufferSize: 1024 });
  const out = new ByteBuilder(pool);
  out.appendString('{"k":"').appendString('été ✓').appendString('","n":').appendInt(-1_700_000_000_123).appendByte(0x7d);
  const expected = `{"k":"été ✓","n":-1700000000123}`;
  assert.equal(out.toString(), expected);
  assert.deepEqual(out.bytes(), Buffer.from(expected));
  out.append(Buffer.from('x'.repeat(100)));
  assert.equal(out.length, Buffer.byteLength(expected) + 100);
  assert.ok(out.capacity >= out.length);
  const copy = out.toBuffer();
  out.bytes().fill(MARKER);
  out.release();
  assert.equal(copy.toString(), expected + 'x'.repeat(100), 'toBuffer is a copy');
  // The next builder gets the pooled buffers back, zeroed.
  const hitsBefore = pool.stats().hits;
  const next = new ByteBuilder(pool);
  next.appendString('y'.repeat(20)); // needs room for 60 bytes (worst-case UTF-8): a 64-byte class buffer
  const view = next.bytes();
  assert.equal(pool.stats().hits, hitsBefore + 1, 'the buffer came from the pool');
  assert.ok(allZero(new Uint8Array(view.buffer, view.byteOffset + 20, view.buffer.byteLength - view.byteOffset - 20)));
  next.release();
  assert.equal(pool.stats().outstanding, 0);
});

test('ByteBuilder: latin1 and long strings; `using` releases to the pool', () => {
  const pool = new BufferPool({ size: 32, max: 4 });
  {
    using out = new ByteBuilder(pool);
    out.appendString('caf\u00e9', 'latin1');
    assert.deepEqual([...out.bytes()], [0x63, 0x61, 0x66, 0xe9]);
    const long = 'ü'.repeat(500);
    out.reset();
    out.appendString(long);
    assert.equal(out.toString(), long);
    assert.equal(pool.stats().outstanding, 1);
  }
  assert.equal(pool.stats().outstanding, 0, 'disposed at the end of the block');
});
