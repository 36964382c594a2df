import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { readMetrics } from '../../src/metrics/read.js';
import { openResults } from '../../src/results/reader.js';
import { createResultWriter } from '../../src/results/writer.js';
import type { Result } from '../../src/results/result.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { RuntimeError } from '../../src/errors.js';
import { FIXTURES, tempDir } from '../helpers/paths.js';
import { encodeToBuffer as encode, plain, plainVegeta, sampleResults } from './sample.js';


async function readAll(path: string, stdin?: NodeJS.ReadableStream) {
  const src = await openResults(path, stdin);
  const results: Result[] = [];
  for await (const b of src.batches()) results.push(...b);
  return { results, src };
}

test('reader: gzip of every format is detected and read', async () => {
  const rs = sampleResults(500);
  const dir = tempDir();
  for (const format of ['binary', 'json', 'csv'] as const) {
    const file = join(dir, `r.${format}.gz`);
    writeFileSync(file, gzipSync(await encode(rs, format)));
    const { results, src } = await readAll(file);
    assert.equal(src.format, format);
    assert.equal(src.gzip, true);
    assert.deepEqual(results.map(plain), rs.map(format === 'binary' ? plain : plainVegeta), format);
  }
});

test('reader: a gzip stream cut short reports what it could decompress and says it was cut', async () => {
  const rs = sampleResults(3000);
  const gz = gzipSync(await encode(rs, 'binary'));
  const dir = tempDir();
  const file = join(dir, 'cut.bin.gz');
  writeFileSync(file, gz.subarray(0, Math.floor(gz.length * 0.6)));
  const { results, src } = await readAll(file);
  assert.ok(results.length > 0 && results.length < rs.length, `read ${results.length}`);
  assert.deepEqual(results.map(plain), rs.slice(0, results.length).map(plain));
  assert.equal(src.truncated, true);
});

test('reader: stdin ("-") of each format, including one that arrives a byte at a time', async () => {
  const rs = sampleResults(120);
  for (const format of ['binary', 'json', 'csv'] as const) {
    const bytes = await encode(rs, format);
    const dribble = Readable.from((function* () {
      for (let i = 0; i < bytes.length; i++) yield bytes.subarray(i, i + 1);
    })());
    const { results, src } = await readAll('-', dribble);
    assert.equal(src.name, 'stdin');
    assert.equal(src.format, format);
    assert.deepEqual(results.map(plain), rs.map(format === 'binary' ? plain : plainVegeta), format);
  }
});

test('reader: several inputs of different formats merge into one Metrics', async () => {
  const a = sampleResults(300);
  const b = sampleResults(200).map((r) => ({ ...r, latency: r.latency + 1_000_000 }));
  const dir = tempDir();
  writeFileSync(join(dir, 'a.bin'), await encode(a, 'binary'));
  writeFileSync(join(dir, 'b.json.gz'), gzipSync(await encode(b, 'json')));
  const vegeta = join(FIXTURES, 'vegeta', 'results.csv');
  const batches: string[] = [];
  const { metrics, sources } = await readMetrics([join(dir, 'a.bin'), join(dir, 'b.json.gz'), vegeta], {
    onBatch: (batch, src) => batches.push(`${src.format}:${batch.length}`),
  });
  assert.deepEqual(sources.map((s) => s.format), ['binary', 'json', 'csv']);
  const expected = new Metrics();
  for (const r of a) expected.add(r);
  for (const r of b) expected.add(r);
  for (const r of (await readAll(vegeta)).results) expected.add(r);
  assert.equal(metrics.requests, 506);
  assert.equal(metrics.requests, expected.requests);
  assert.deepEqual(metrics.latencies(), expected.latencies());
  assert.deepEqual([...metrics.statusCodes], [...expected.statusCodes]);
  assert.deepEqual([...metrics.errors], [...expected.errors]);
  assert.equal(metrics.earliest, expected.earliest);
  assert.equal(metrics.end, expected.end);
  assert.ok(batches.some((x) => x.startsWith('binary')) && batches.some((x) => x.startsWith('csv')));
});

test('reader: malformed JSON and CSV are one line naming the file and the line', async () => {
  const dir = tempDir();
  const good = readFileSync(join(FIXTURES, 'vegeta', 'results.json'), 'utf8').split('\n');
  const file = join(dir, 'results.json');
  writeFileSync(file, [good[0], good[1], '{"code":200,"timestamp":"not a time"}', good[2], ''].join('\n'));
  await assert.rejects(readAll(file), (e: unknown) => {
    assert.ok(e instanceof RuntimeError);
    assert.equal(e.message, `${file}:3: invalid JSON result: "timestamp" "not a time" is not RFC 3339`);
    return true;
  });
  writeFileSync(file, `${good[0]}\n{"code": 200, oops}\n${good[1]}\n`);
  await assert.rejects(readAll(file), new RegExp(`^RuntimeError: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2: invalid JSON result: `));
  const csv = join(dir, 'results.csv');
  const lines = readFileSync(join(FIXTURES, 'vegeta', 'results.csv'), 'utf8').split('\n');
  writeFileSync(csv, [lines[0], lines[1], lines[2], '1795766400000000000,200,abc,0,0,,,,0,GET,http://x/,', ''].join('\n'));
  await assert.rejects(readAll(csv), (e: unknown) => {
    assert.equal((e as Error).message, `${csv}:4: invalid CSV result: latency "abc" is not an integer (ns)`);
    return true;
  });
  writeFileSync(csv, `${lines[0]}\n1,2,3\n`);
  await assert.rejects(readAll(csv), /results\.csv:2: invalid CSV result: expected 12 fields, got 3$/);
});

test('reader: a last JSON or CSV line cut mid-write is reported as cut, not as an error', async () => {
  const rs = sampleResults(50);
  const dir = tempDir();
  for (const format of ['json', 'csv'] as const) {
    const bytes = await encode(rs, format);
    const lastStart = bytes.lastIndexOf('\n', bytes.length - 2) + 1;
    const cutAt = lastStart + 20;
    const file = join(dir, `cut.${format}`);
    writeFileSync(file, bytes.subarray(0, cutAt));
    const { results, src } = await readAll(file);
    assert.equal(results.length, rs.length - 1, format);
    assert.equal(src.truncatedBytes, 20, format);
    // Whole but without the final newline: read, nothing cut.
    writeFileSync(file, bytes.subarray(0, bytes.length - 1));
    const whole = await readAll(file);
    assert.equal(whole.results.length, rs.length, format);
    assert.equal(whole.src.truncatedBytes, 0, format);
  }
});

test('reader: missing file, directory and unknown format are one-line errors; empty input has no results', async () => {
  const dir = tempDir();
  await assert.rejects(openResults(join(dir, 'nope.bin')), { message: `${join(dir, 'nope.bin')}: no such file` });
  mkdirSync(join(dir, 'sub'));
  await assert.rejects(readAll(join(dir, 'sub')), { message: `${join(dir, 'sub')}: is a directory` });
  writeFileSync(join(dir, 'targets.txt'), 'GET http://127.0.0.1:8080/\n');
  await assert.rejects(openResults(join(dir, 'targets.txt')), /targets\.txt: unrecognized results format \(want tailprobe binary, vegeta JSON lines or vegeta CSV/);
  writeFileSync(join(dir, 'bad.gz'), Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff]));
  await assert.rejects(readAll(join(dir, 'bad.gz')), /bad\.gz: corrupt gzip data/);
  for (const content of ['', '\n\n  \n']) {
    writeFileSync(join(dir, 'empty'), content);
    const { results, src } = await readAll(join(dir, 'empty'));
    assert.equal(results.length, 0);
    assert.equal(src.truncatedBytes, 0);
  }
});

test('reader: writeEncoded chunks become vegeta text when the output is json or csv', async () => {
  const { BinaryEncoder } = await import('../../src/results/binary-encoder.js');
  const rs = sampleResults(100);
  const enc = new BinaryEncoder();
  for (const r of rs.slice(0, 60)) enc.encode(r);
  const chunk = enc.take();
  for (const format of ['json', 'csv'] as const) {
    const sink = new PassThrough();
    const parts: Buffer[] = [];
    sink.on('data', (d: Buffer) => parts.push(d));
    const w = createResultWriter(sink, format);
    w.writeEncoded(chunk);
    for (const r of rs.slice(60)) w.write(r);
    await w.close();
    const dir = tempDir();
    writeFileSync(join(dir, 'x'), Buffer.concat(parts));
    assert.deepEqual((await readAll(join(dir, 'x'))).results.map(plain), rs.map(plainVegeta), format);
  }
});
