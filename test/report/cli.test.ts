import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BinaryEncoder } from '../../src/results/binary-encoder.js';
import type { Result } from '../../src/results/result.js';
import { runCli } from '../helpers/cli.js';
import { CLI, FIXTURES, REPO_ROOT, tempDir } from '../helpers/paths.js';
import { encodeToBuffer as encode, sampleResults, typicalResults } from '../results/sample.js';


const vegetaJson = join(FIXTURES, 'vegeta', 'results.json');

function oneLine(stderr: string, pattern: RegExp): void {
  assert.match(stderr, pattern);
  assert.equal(stderr.split('\n').filter(Boolean).length, 1, `not one line:\n${stderr}`);
  assert.doesNotMatch(stderr, /\s+at\s+\S+\s+\(/, 'stack trace');
}

test('cli report: files, stdin, gzip, several inputs merged, -output', async () => {
  const dir = tempDir();
  const rs = sampleResults(400);
  writeFileSync(join(dir, 'a.bin'), await encode(rs, 'binary'));
  writeFileSync(join(dir, 'a.csv.gz'), gzipSync(await encode(rs, 'csv')));

  const fromFile = await runCli(['report', join(dir, 'a.bin')]);
  assert.equal(fromFile.code, 0, fromFile.stderr);
  assert.match(fromFile.stdout.toString(), /^Requests {6}\[total, rate, throughput\] {9}400, /);

  const fromStdin = await runCli(['report', '-type=json'], { input: await encode(rs, 'binary') });
  assert.equal(fromStdin.code, 0, fromStdin.stderr);
  assert.equal(JSON.parse(fromStdin.stdout.toString()).requests, 400);

  const merged = await runCli(['report', '--type', 'json', join(dir, 'a.bin'), join(dir, 'a.csv.gz'), vegetaJson]);
  assert.equal(merged.code, 0, merged.stderr);
  const j = JSON.parse(merged.stdout.toString());
  assert.equal(j.requests, 806);

  const out = join(dir, 'report.txt');
  const toFile = await runCli(['report', '-output', out, '-type=hist[0,10ms,20ms]', join(dir, 'a.bin')]);
  assert.equal(toFile.code, 0, toFile.stderr);
  assert.equal(toFile.stdout.length, 0);
  assert.match(readFileSync(out, 'utf8'), /^Bucket {9}#/);

  const hdr = await runCli(['report', '-type=hdrplot', join(dir, 'a.bin')]);
  assert.match(hdr.stdout.toString(), /Value\s+Percentile\s+TotalCount\s+1\/\(1-Percentile\)/);
});

test('cli report: bad input is one line and exit 1; bad flags one line and exit 2', async () => {
  const dir = tempDir();
  const missing = await runCli(['report', join(dir, 'nope.bin')]);
  assert.equal(missing.code, 1);
  oneLine(missing.stderr, /^tailprobe: .*nope\.bin: no such file\n$/);

  const lines = readFileSync(vegetaJson, 'utf8').split('\n');
  writeFileSync(join(dir, 'results.json'), [lines[0], lines[1], lines[2], '{"code":200,"timestamp":', lines[3], ''].join('\n'));
  const malformed = await runCli(['report', join(dir, 'results.json')]);
  assert.equal(malformed.code, 1);
  oneLine(malformed.stderr, /^tailprobe: .*results\.json:4: invalid JSON result: .+\n$/);

  const badType = await runCli(['report', '-type=pie', vegetaJson]);
  assert.equal(badType.code, 2);
  oneLine(badType.stderr, /^tailprobe: report: unknown -type "pie" \(want text, json, hist\[buckets\] or hdrplot\)\n$/);

  const badBuckets = await runCli(['report', '-type=hist[0,10,20ms]', vegetaJson]);
  assert.equal(badBuckets.code, 2);
  oneLine(badBuckets.stderr, /^tailprobe: bad histogram bucket "10" in "hist\[0,10,20ms\]"/);

  const badEvery = await runCli(['report', '-every=often', vegetaJson]);
  assert.equal(badEvery.code, 2);
  oneLine(badEvery.stderr, /^tailprobe: report: invalid value "often" for flag -every/);

  const notResults = await runCli(['report'], { input: 'GET http://127.0.0.1:8080/\n' });
  assert.equal(notResults.code, 1);
  oneLine(notResults.stderr, /^tailprobe: stdin: unrecognized results format/);

  const badTo = await runCli(['encode', '-to=xml', vegetaJson]);
  assert.equal(badTo.code, 2);
  oneLine(badTo.stderr, /^tailprobe: encode: invalid value "xml" for flag -to \(want binary, json or csv\)\n$/);
});

test('cli report: a binary file cut mid-record reports what is whole and says how much was cut', async () => {
  const dir = tempDir();
  const bytes = await encode(typicalResults(1000), 'binary');
  writeFileSync(join(dir, 'cut.bin'), bytes.subarray(0, bytes.length - 5));
  const r = await runCli(['report', join(dir, 'cut.bin')]);
  assert.equal(r.code, 0, r.stderr);
  const text = r.stdout.toString();
  assert.match(text, /^Requests {6}\[total, rate, throughput\] {9}999, /);
  assert.match(text, /Note: .*cut\.bin was cut off mid-record: the last \d+ bytes \(an incomplete result\) were left out/);
});

test('cli encode: binary -> json -> csv -> binary through pipes, and vegeta JSON re-encoded byte for byte', async () => {
  const rs = sampleResults(300);
  const bin = await encode(rs, 'binary');
  const json = await runCli(['encode', '-to=json'], { input: bin });
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(json.stdout, await encode(rs, 'json'));
  const csv = await runCli(['encode', '-to', 'csv'], { input: json.stdout });
  assert.deepEqual(csv.stdout, await encode(rs, 'csv'));
  const back = await runCli(['encode', '-to=binary'], { input: csv.stdout });
  const again = await runCli(['encode', '-to=json', '-'], { input: back.stdout });
  assert.deepEqual(again.stdout, json.stdout);

  const dir = tempDir();
  const out = join(dir, 'out.csv');
  const toFile = await runCli(['encode', '-to=csv', '-output', out, join(FIXTURES, 'vegeta', 'results.csv')]);
  assert.equal(toFile.code, 0, toFile.stderr);
  assert.deepEqual(readFileSync(out), readFileSync(join(FIXTURES, 'vegeta', 'results.csv')));
});

test('cli report -every: rolling reports while a slow pipe is still writing', async () => {
  const rs = typicalResults(400);
  const child = spawn(process.execPath, [CLI, 'report', '-every=200ms'], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<number | null>((resolve) => child.on('close', resolve));
  // Four bursts of 100 results, 600 ms apart, as a live attack would flush them.
  child.stdin.write(BinaryEncoder.header());
  for (let k = 0; k < 4; k++) {
    const enc = new BinaryEncoder();
    for (const r of rs.slice(k * 100, (k + 1) * 100)) enc.encode(r);
    child.stdin.write(enc.take());
    await new Promise((r) => setTimeout(r, 600));
  }
  child.stdin.end();
  const code = await done;
  assert.equal(code, 0, stderr);
  const totals = [...stdout.matchAll(/^Requests {6}\[total, rate, throughput\] {9}(\d+),/gm)].map((m) => Number(m[1]));
  // Timers may slip on a loaded machine, so ask for a few reports, not one per interval.
  assert.ok(totals.length >= 3, `only ${totals.length} reports:\n${stdout}`);
  for (let i = 1; i < totals.length; i++) assert.ok(totals[i]! >= totals[i - 1]!, `totals went down: ${totals}`);
  assert.ok(totals.some((t) => t > 0 && t < 400), `no report while the pipe was still open: ${totals}`);
  assert.equal(totals[totals.length - 1], 400);
});
