import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { openResults } from '../../src/results/reader.js';
import { encodeResults } from '../../src/results/convert.js';
import { encodeJsonResult, decodeJsonResult } from '../../src/results/vegeta-json.js';
import { encodeCsvResult, splitCsvRecord } from '../../src/results/vegeta-csv.js';
import { formatRfc3339Nano, parseRfc3339 } from '../../src/results/timestamp.js';
import { headerWireForm, parseHeaderWire } from '../../src/results/http-headers.js';
import type { ResultFormat } from '../../src/results/formats.js';
import type { Result } from '../../src/results/result.js';
import { FIXTURES, tempDir } from '../helpers/paths.js';
import { encodeToBuffer, plain, plainVegeta, sampleResults } from './sample.js';

async function readAll(path: string): Promise<Result[]> {
  const src = await openResults(path);
  const out: Result[] = [];
  for await (const b of src.batches()) out.push(...b);
  return out;
}

async function convert(input: string, to: ResultFormat, output: string): Promise<void> {
  const sink = new PassThrough();
  const parts: Buffer[] = [];
  sink.on('data', (d: Buffer) => parts.push(d));
  await encodeResults([input], sink, to);
  writeFileSync(output, Buffer.concat(parts));
}

async function write(results: Result[], format: ResultFormat, file: string): Promise<void> {
  writeFileSync(file, await encodeToBuffer(results, format));
}

/** The six results of test/fixtures/vegeta (see its README), written out independently of the code under test. */
const FIXTURE: Array<Partial<Result> & { timestamp: bigint }> = [
  { seq: 0, code: 200, timestamp: 1795766400000000001n, latency: 1500000, bytesIn: 12, body: Buffer.from('hello world\n'), headers: { 'Content-Length': ['12'], 'Content-Type': ['text/plain; charset=utf-8'] } },
  { seq: 1, code: 200, timestamp: 1795766400002000000n, latency: 2500000, bytesIn: 12 },
  { seq: 2, code: 404, timestamp: 1795766400004000100n, latency: 800000, bytesIn: 10, body: Buffer.from('not found\n'), url: 'http://localhost:8080/api/lookup?id=<none>', headers: { 'Content-Type': ['text/plain'] } },
  { seq: 3, code: 0, timestamp: 1795766400006000000n, latency: 30000000000, error: 'Get "http://localhost:8080/api/lookup": context deadline exceeded (Client.Timeout exceeded while awaiting headers)' },
  { seq: 4, code: 0, timestamp: 1795766400008000000n, latency: 120000, error: 'Get "http://localhost:8080/api/lookup": dial tcp 127.0.0.1:8080: connect: connection refused' },
  { seq: 5, code: 201, timestamp: 1795766400010123456n, latency: 3000000, bytesOut: 17, method: 'POST', url: 'http://localhost:8080/api/items', headers: { Location: ['/api/items/7'] } },
];
const expected: Result[] = FIXTURE.map((f) => ({
  attack: 'lookup', code: 0, latency: 0, sendLag: -1, bytesOut: 0, bytesIn: 0, error: '', body: null,
  method: 'GET', url: 'http://localhost:8080/api/lookup', headers: null, seq: 0, ...f,
}));

test('vegeta JSON written by hand from the schema reads field by field', async () => {
  const rs = await readAll(join(FIXTURES, 'vegeta', 'results.json'));
  assert.deepEqual(rs.map(plain), expected.map(plain));
});

test('vegeta CSV written by hand from the schema reads field by field', async () => {
  const rs = await readAll(join(FIXTURES, 'vegeta', 'results.csv'));
  assert.deepEqual(rs.map(plain), expected.map(plain));
});

test('our JSON and CSV lines are byte for byte what vegeta writes', () => {
  const json = readFileSync(join(FIXTURES, 'vegeta', 'results.json'), 'utf8').split('\n');
  const csv = readFileSync(join(FIXTURES, 'vegeta', 'results.csv'), 'utf8').split('\n');
  for (let i = 0; i < expected.length; i++) {
    // Line 5 of the JSON file has a +01:00 offset (vegeta writes local time); we write UTC.
    if (i !== 5) assert.equal(encodeJsonResult(expected[i]!), `${json[i]}\n`, `json line ${i + 1}`);
    assert.equal(encodeCsvResult(expected[i]!), `${csv[i]}\n`, `csv line ${i + 1}`);
  }
  assert.equal(encodeJsonResult(expected[5]!), `${json[5]!.replace('2026-11-27T09:00:00.010123456+01:00', '2026-11-27T08:00:00.010123456Z')}\n`);
});

test('round trips: binary -> json -> csv -> binary keeps every vegeta field, ns exact', async () => {
  const rs = sampleResults(2000);
  const dir = tempDir();
  const bin = join(dir, 'a.bin');
  await write(rs, 'binary', bin);
  await convert(bin, 'json', join(dir, 'b.json'));
  await convert(join(dir, 'b.json'), 'csv', join(dir, 'c.csv'));
  await convert(join(dir, 'c.csv'), 'binary', join(dir, 'd.bin'));
  await convert(join(dir, 'd.bin'), 'csv', join(dir, 'e.csv'));
  await convert(join(dir, 'e.csv'), 'json', join(dir, 'f.json'));
  assert.deepEqual((await readAll(bin)).map(plain), rs.map(plain));
  for (const f of ['b.json', 'c.csv', 'd.bin', 'e.csv', 'f.json']) {
    assert.deepEqual((await readAll(join(dir, f))).map(plain), rs.map(plainVegeta), f);
  }
  // Converting is deterministic: the second JSON and CSV are byte-identical to the first.
  assert.deepEqual(readFileSync(join(dir, 'f.json')), readFileSync(join(dir, 'b.json')));
  assert.deepEqual(readFileSync(join(dir, 'e.csv')), readFileSync(join(dir, 'c.csv')));
});

test('RFC 3339 timestamps: ns exact, offsets, trimmed fractions, as Go writes them', () => {
  const cases: Array<[string, bigint]> = [
    ['2026-11-27T08:00:00Z', 1795766400000000000n],
    ['2026-11-27T08:00:00.000000001Z', 1795766400000000001n],
    ['2026-11-27T08:00:00.1Z', 1795766400100000000n],
    ['2026-11-27T08:00:00.123456789Z', 1795766400123456789n],
    ['1970-01-01T00:00:00Z', 0n],
    ['1969-12-31T23:59:59.999999999Z', -1n],
  ];
  for (const [text, ns] of cases) {
    assert.equal(parseRfc3339(text), ns, text);
    assert.equal(formatRfc3339Nano(ns), text);
  }
  assert.equal(parseRfc3339('2026-11-27T09:00:00.5+01:00'), 1795766400500000000n);
  assert.equal(parseRfc3339('2026-11-27T00:00:00-08:00'), 1795766400000000000n);
  assert.equal(parseRfc3339('2026-11-27 08:00:00'), null);
  assert.equal(parseRfc3339('yesterday'), null);
});

test('JSON escaping follows vegeta; missing fields take zero values; bad lines say why', () => {
  const r: Result = { ...expected[0]!, error: 'a"b\\c\nd\t<\'\u0001', body: null, headers: null };
  const line = encodeJsonResult(r);
  assert.ok(line.includes('"error":"a\\"b\\\\c\\nd\\t\\u003c\\u0027\\u0001"'), line);
  assert.equal(decodeJsonResult(line).error, r.error);
  const min = decodeJsonResult('{"code":200,"timestamp":"2026-11-27T08:00:00Z","latency":5}');
  assert.deepEqual(plain(min), plain({ ...expected[1]!, seq: 0, attack: '', method: '', url: '', latency: 5, bytesIn: 0, timestamp: 1795766400000000000n }));
  assert.throws(() => decodeJsonResult('{"code":200}'), /invalid JSON result: missing "timestamp"/);
  assert.throws(() => decodeJsonResult('{"code":"200","timestamp":"2026-11-27T08:00:00Z"}'), /"code" is not a non-negative integer/);
  assert.throws(() => decodeJsonResult('{"code":200,'), /invalid JSON result: /);
  assert.throws(() => decodeJsonResult('{"timestamp":"2026-11-27T08:00:00Z","latency":1.5}'), /"latency" is not an integer/);
});

test('CSV records: quoting as Go csv, quoted newlines, bare quotes rejected', () => {
  assert.deepEqual(splitCsvRecord('1,"a ""b"", c",x'), ['1', 'a "b", c', 'x']);
  assert.deepEqual(splitCsvRecord('1,"line1\nline2",x'), ['1', 'line1\nline2', 'x']);
  assert.equal(splitCsvRecord('1,"unfinished'), null);
  assert.deepEqual(splitCsvRecord('1, 2,  3'), ['1', '2', '3']);
  assert.throws(() => splitCsvRecord('1,a"b,3'), /bare "/);
  const r = { ...expected[3]!, error: 'two\nlines, "quoted"', attack: ' lead' };
  assert.ok(encodeCsvResult(r).includes(',"two\nlines, ""quoted""",'));
  assert.ok(encodeCsvResult(r).includes(',," lead",'));
});

test('CSV: a record spanning lines (an error with a newline) reads back, and old 9-column files read', async () => {
  const dir = tempDir();
  const rs = sampleResults(20).map((r, i) => ({ ...r, error: i === 7 ? 'first line\nsecond, "line"' : r.error }));
  await write(rs, 'csv', join(dir, 'nl.csv'));
  assert.deepEqual((await readAll(join(dir, 'nl.csv'))).map(plain), rs.map(plainVegeta));
  writeFileSync(join(dir, 'old.csv'), '1795766400000000000,200,1000000,0,5,,,,0\n1795766400001000000,500,2000000,0,5,boom,,,1\n');
  const old = await readAll(join(dir, 'old.csv'));
  assert.equal(old.length, 2);
  assert.equal(old[1]!.code, 500);
  assert.equal(old[1]!.error, 'boom');
  assert.equal(old[1]!.url, '');
});

test('header wire form: sorted keys, one line per value, CR/LF in values made spaces', () => {
  const wire = headerWireForm({ 'X-B': ['2', 'two\r\nlines'], 'Content-Type': ['text/plain'], 'bad key': ['x'] });
  assert.equal(wire, 'Content-Type: text/plain\r\nX-B: 2\r\nX-B: two  lines\r\n');
  assert.deepEqual(parseHeaderWire(wire), { 'Content-Type': ['text/plain'], 'X-B': ['2', 'two  lines'] });
  assert.equal(parseHeaderWire(''), null);
});
