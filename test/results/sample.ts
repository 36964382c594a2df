import { PassThrough } from 'node:stream';
import { createResultWriter } from '../../src/results/writer.js';
import type { ResultFormat } from '../../src/results/formats.js';
import type { Result } from '../../src/results/result.js';
import { result, T0 } from '../../support/results.js';

/** Results as the bytes a results file of `format` holds, written by the real writer. */
export async function encodeToBuffer(results: Result[], format: ResultFormat): Promise<Buffer> {
  const sink = new PassThrough();
  const parts: Buffer[] = [];
  sink.on('data', (d: Buffer) => parts.push(d));
  const w = createResultWriter(sink, format);
  for (const r of results) w.write(r);
  await w.close();
  return Buffer.concat(parts);
}

export { T0 };

/**
 * Deterministic results that exercise every field: odd ns timestamps, out-of-order completion,
 * errors, bodies, headers, unknown send lag, unicode. No randomness: a failing case is reproducible.
 */
export function sampleResults(n: number): Result[] {
  const out: Result[] = [];
  let x = 12345;
  const rnd = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < n; i++) {
    const err = i % 17 === 5 ? 'Get "http://127.0.0.1:8080/a": dial tcp 127.0.0.1:8080: connect: connection refused' : i % 29 === 3 ? `timeout after ${i}ms, "quoted", comma` : '';
    out.push({
      attack: i % 50 === 0 ? 'bürst ✓' : 'lookup',
      seq: i,
      code: err ? 0 : i % 13 === 0 ? 503 : 200,
      // jitter so deltas are sometimes negative (completion order differs from schedule order)
      timestamp: T0 + BigInt(i) * 2_000_000n + BigInt(Math.floor(rnd() * 3_000_000)) + 7n,
      latency: Math.floor(rnd() * 50_000_000) + 1,
      sendLag: i % 11 === 0 ? -1 : Math.floor(rnd() * 2_000_000),
      bytesOut: i % 7 === 0 ? 17 : 0,
      bytesIn: err ? 0 : 12 + (i % 3),
      error: err,
      body: i % 9 === 0 ? new Uint8Array([i & 255, 0, 255, 10, 13]) : null,
      method: i % 7 === 0 ? 'POST' : 'GET',
      url: i % 5 === 0 ? `http://127.0.0.1:8080/item?id=${i}&q=<x>` : 'http://127.0.0.1:8080/api/lookup',
      headers: i % 4 === 0 ? { 'Content-Type': ['text/plain; charset=utf-8'], 'X-Multi': ['a', 'b, c'] } : null,
    });
  }
  return out;
}

/** A typical result stream: one target, 200s, small jitter (what -rate=500 against a healthy service writes). */
export function typicalResults(n: number, ratePerSec = 500): Result[] {
  const out: Result[] = [];
  const step = BigInt(Math.round(1e9 / ratePerSec));
  let x = 99;
  const rnd = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < n; i++) {
    out.push(result(i, 400_000 + Math.floor(rnd() * 2_000_000), {
      attack: '',
      timestamp: T0 + BigInt(i) * step,
      sendLag: 20_000 + Math.floor(rnd() * 60_000),
      bytesIn: 42,
      url: 'http://127.0.0.1:8080/api/lookup',
    }));
  }
  return out;
}

/** A comparable form (bigint and bytes made plain) for deepEqual. */
export function plain(r: Result): Record<string, unknown> {
  return {
    ...r,
    timestamp: String(r.timestamp),
    body: r.body && r.body.length ? Array.from(r.body) : null,
    headers: r.headers && Object.keys(r.headers).length ? r.headers : null,
  };
}

/** What survives vegeta's formats: everything but the send lag. */
export function plainVegeta(r: Result): Record<string, unknown> {
  return { ...plain(r), sendLag: -1 };
}
