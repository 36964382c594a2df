import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BinaryDecoder } from '../../src/results/binary-decoder.js';
import { BinaryEncoder } from '../../src/results/binary-encoder.js';
import { FORMAT_VERSION, STR_TABLE_MAX_ENTRIES } from '../../src/results/binary-format.js';
import { createResultWriter } from '../../src/results/writer.js';
import { openResults } from '../../src/results/reader.js';
import type { Result, RunMeta } from '../../src/results/result.js';
import { RuntimeError } from '../../src/errors.js';
import { tempDir } from '../helpers/paths.js';
import { plain, sampleResults, typicalResults, T0 } from './sample.js';

/** Writes results (and meta) through a real ResultWriter into memory. */
async function writeBinary(results: Result[], meta?: Partial<RunMeta>, extra?: (w: ReturnType<typeof createResultWriter>) => void): Promise<Buffer> {
  const sink = new PassThrough();
  const parts: Buffer[] = [];
  sink.on('data', (d: Buffer) => parts.push(d));
  const w = createResultWriter(sink, 'binary', { flushBytes: 1000 });
  if (meta) w.writeMeta(meta);
  for (const r of results) w.write(r);
  extra?.(w);
  await w.close();
  return Buffer.concat(parts);
}

async function readAll(path: string): Promise<{ results: Result[]; src: Awaited<ReturnType<typeof openResults>> }> {
  const src = await openResults(path);
  const results: Result[] = [];
  for await (const b of src.batches()) results.push(...b);
  return { results, src };
}

function decodeRecords(chunk: Uint8Array, name = 'chunk'): Result[] {
  const d = new BinaryDecoder(name, { headerless: true });
  const out: Result[] = [];
  d.push(Buffer.from(chunk), out);
  assert.equal(d.end(), 0);
  return out;
}

const info = {
  name: 'lookup', pacer: '500/1s', rate: 500, maxMode: false, duration: 10e9, targets: ['GET http://127.0.0.1:8080/'],
  targetCount: 1, workers: 2, connections: 100, startedAt: T0 + 123n, version: '0.1.0',
};

test('binary: every field round-trips exactly, including ns timestamps, unknown send lag, bodies, headers, unicode', async () => {
  const rs = sampleResults(3000);
  const dir = tempDir();
  const file = join(dir, 'r.bin');
  writeFileSync(file, await writeBinary(rs, { info }));
  const { results, src } = await readAll(file);
  assert.equal(src.format, 'binary');
  assert.equal(src.truncatedBytes, 0);
  assert.deepEqual(results.map(plain), rs.map(plain));
  assert.deepEqual(src.meta.info, info);
});

test('binary: a typical result costs under 20 bytes; repeated URLs and errors cost a few bytes', () => {
  const enc = new BinaryEncoder();
  const n = 10_000;
  for (const r of typicalResults(n)) enc.encode(r);
  const perResult = enc.take().length / n;
  assert.ok(perResult < 20, `typical result takes ${perResult} bytes`);

  // The same error and URL on every result: referenced from the table, not repeated.
  const errEnc = new BinaryEncoder();
  const rs = typicalResults(n).map((r) => ({ ...r, code: 0, error: 'Get "http://127.0.0.1:8080/api/lookup": dial tcp: connect: connection refused' }));
  for (const r of rs) errEnc.encode(r);
  const perError = errEnc.take().length / n;
  assert.ok(perError < perResult + 3, `a repeated error added ${perError - perResult} bytes`);
});

test('binary: chunks from several encoders (worker threads) interleave with the main thread writes', async () => {
  const rs = sampleResults(900);
  const workers = [new BinaryEncoder(), new BinaryEncoder(), new BinaryEncoder()];
  const chunks: Uint8Array[] = [];
  const mainThread: Result[] = [];
  rs.forEach((r, i) => {
    if (i % 4 === 3) mainThread.push(r);
    else workers[i % 3]!.encode(r);
    if (i % 50 === 49) for (const w of workers) chunks.push(w.take());
  });
  for (const w of workers) chunks.push(w.take());
  // Main thread: own results and worker chunks, interleaved, into one stream.
  const bytes = await writeBinary([], undefined, (w) => {
    let m = 0;
    for (const c of chunks) {
      w.writeEncoded(c);
      for (let k = 0; k < 3 && m < mainThread.length; k++) w.write(mainThread[m++]!);
    }
    while (m < mainThread.length) w.write(mainThread[m++]!);
  });
  const dir = tempDir();
  const file = join(dir, 'workers.bin');
  writeFileSync(file, bytes);
  const { results } = await readAll(file);
  const bySeq = (a: Result, b: Result) => a.seq - b.seq;
  assert.equal(results.length, rs.length);
  assert.deepEqual(results.sort(bySeq).map(plain), rs.map(plain));
});

test('binary: a file cut off mid-record reports every whole result and how many bytes were cut', async () => {
  const rs = sampleResults(200);
  const bytes = await writeBinary(rs, { info });
  const whole = Buffer.concat([bytes]);
  const dir = tempDir();
  // Cut at every byte of the last few records. A cut that happens to fall on a record boundary
  // leaves a whole (shorter) file; any other cut must be reported.
  let inside = 0;
  for (let cut = whole.length - 120; cut < whole.length; cut++) {
    const file = join(dir, `cut-${cut}.bin`);
    writeFileSync(file, whole.subarray(0, cut));
    const { results, src } = await readAll(file);
    assert.ok(results.length < rs.length, `cut at ${cut} still read all`);
    assert.deepEqual(results.map(plain), rs.slice(0, results.length).map(plain));
    assert.equal(src.truncated, src.truncatedBytes > 0);
    if (src.truncatedBytes > 0) inside++;
    // The whole part, read alone, is complete and holds the same results.
    const keep = cut - src.truncatedBytes;
    writeFileSync(file, whole.subarray(0, keep));
    const again = await readAll(file);
    assert.equal(again.src.truncatedBytes, 0);
    assert.equal(again.results.length, results.length);
    // And one more byte than the whole part is always a cut.
    if (keep + 1 < whole.length) {
      writeFileSync(file, whole.subarray(0, keep + 1));
      assert.equal((await readAll(file)).src.truncatedBytes, 1);
    }
  }
  assert.ok(inside > 100, `only ${inside} of 120 cuts fell inside a record`);
  // A file cut inside its header: nothing whole, all bytes reported.
  const file = join(dir, 'header.bin');
  writeFileSync(file, whole.subarray(0, 5));
  const { results, src } = await readAll(file);
  assert.equal(results.length, 0);
  assert.equal(src.truncatedBytes, 5);
});

test('binary: files concatenated with cat read as one', async () => {
  const a = sampleResults(100);
  const b = sampleResults(150).map((r) => ({ ...r, attack: 'second' }));
  const dir = tempDir();
  const file = join(dir, 'cat.bin');
  writeFileSync(file, Buffer.concat([await writeBinary(a), await writeBinary(b)]));
  const { results } = await readAll(file);
  assert.deepEqual(results.map(plain), [...a, ...b].map(plain));
});

test('binary: run metadata (info, health, events) is kept wherever it appears', async () => {
  const health = { cpuPercent: 97.5, cores: 2, eventLoopP99: 12e6, eventLoopMax: 40e6, unsent: 3, ended: 'interrupted' };
  const events = [{ kind: 'gc' as const, start: T0 + 5_000_001n, duration: 1_200_000, detail: 'mark-sweep-compact' }];
  const bytes = await writeBinary(sampleResults(10), { info }, (w) => {
    w.writeMeta({ events });
    w.writeMeta({ health });
  });
  const dir = tempDir();
  writeFileSync(join(dir, 'm.bin'), bytes);
  const { results, src } = await readAll(join(dir, 'm.bin'));
  assert.equal(results.length, 10);
  assert.deepEqual(src.meta, { info, health, events });
});

test('binary: string table stays bounded with endless distinct errors, and long strings stay inline', () => {
  const enc = new BinaryEncoder();
  const rs = typicalResults(STR_TABLE_MAX_ENTRIES + 500).map((r, i) => ({
    ...r,
    error: `error number ${i}`,
    url: i % 1000 === 0 ? `http://127.0.0.1/${'x'.repeat(2000)}` : r.url,
  }));
  for (const r of rs) enc.encode(r);
  const back = decodeRecords(enc.take());
  assert.deepEqual(back.map(plain), rs.map(plain));
});

test('binary: corrupt input is one line naming the file and offset; a newer version is refused', async () => {
  const bytes = await writeBinary(sampleResults(50));
  const dir = tempDir();
  const file = join(dir, 'bad.bin');
  // Offset 9 is the first record after the header (a RESET), 11 the first result, 12 its length.
  const unknownType = Buffer.from(bytes);
  unknownType[9] = 0xff;
  const badLength = Buffer.from(bytes);
  badLength[12] = badLength[12]! - 1;
  for (const corrupt of [unknownType, badLength]) {
    writeFileSync(file, corrupt);
    await assert.rejects(readAll(file), (e: unknown) => {
      assert.ok(e instanceof RuntimeError, String(e));
      assert.match(e.message, /bad\.bin: offset \d+: corrupt binary results \(.+\)$/);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
  }
  const newer = Buffer.from(bytes);
  newer[8] = FORMAT_VERSION + 1;
  writeFileSync(file, newer);
  await assert.rejects(readAll(file), /format version 2; this tailprobe reads up to version 1/);
});

test('binary: decoding works across any chunking of the stream', () => {
  const rs = sampleResults(300);
  const enc = new BinaryEncoder();
  for (const r of rs) enc.encode(r);
  const bytes = Buffer.from(enc.take());
  for (const size of [1, 2, 3, 7, 64, 1000]) {
    const d = new BinaryDecoder('chunks', { headerless: true });
    const out: Result[] = [];
    for (let i = 0; i < bytes.length; i += size) d.push(bytes.subarray(i, i + size), out);
    assert.equal(d.end(), 0);
    assert.deepEqual(out.map(plain), rs.map(plain), `chunk size ${size}`);
  }
});

test('binary: a result with a large body (multi-byte record length) round-trips', () => {
  const big = new Uint8Array(300_000).map((_, i) => i % 251);
  const rs = typicalResults(3).map((r, i) => ({ ...r, body: i === 1 ? big : null }));
  const enc = new BinaryEncoder(256);
  for (const r of rs) enc.encode(r);
  assert.deepEqual(decodeRecords(enc.take()).map(plain), rs.map(plain));
});

test('binary: timestamps far apart and before 1970 are exact', () => {
  const base = typicalResults(1)[0]!;
  const times = [T0, 0n, -1n, 1n, T0 * 2n, -T0, T0 + 1n, 9_000_000_000_000_000_000n, T0 - 3n];
  const rs = times.map((t, i) => ({ ...base, seq: i, timestamp: t }));
  const enc = new BinaryEncoder();
  for (const r of rs) enc.encode(r);
  assert.deepEqual(decodeRecords(enc.take()).map((r) => r.timestamp), times);
});

test('binary: an empty run still writes a valid, empty file', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'empty.bin'), await writeBinary([]));
  assert.equal(readFileSync(join(dir, 'empty.bin')).length, 9);
  const { results, src } = await readAll(join(dir, 'empty.bin'));
  assert.equal(results.length, 0);
  assert.equal(src.format, 'binary');
});
