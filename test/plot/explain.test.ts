import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';
import { createResultWriter } from '../../src/results/writer.js';
import type { Result, RunInfo } from '../../src/results/result.js';
import { traceIdOf } from '../../src/results/trace-id.js';
import { explain, loadClientRequests, readCapture, writeCapture, type AgentCapture } from '../../src/explain/index.js';
import { plotHtml } from '../../src/plot/plot.js';
import { result, T0 } from '../../support/results.js';

/**
 * The explain lane's data (`plot -explain`), without a browser: a results file and an agent capture
 * with known causes (every 100th request waits 40 ms on lock "table"; the requests arriving during
 * a 30 ms GC pause wait it out), plotted; the page's data must hold every slow request explain
 * finds, at its intended send time, with parts that add up to its latency.
 */

const ID = 'abcdef0123456789';

async function writeRun(dir: string, name: string, id = ID): Promise<{ file: string; capture: string }> {
  const info: RunInfo = { name, pacer: '1000/1s', rate: 1000, maxMode: false, duration: 1e9, targets: ['GET http://127.0.0.1/'], targetCount: 1, workers: 1, connections: 1, startedAt: T0, version: 'test', id, traceparent: true };
  const results: Result[] = [];
  const requests: NonNullable<AgentCapture['requests']> = [];
  const gcAt = 500_500_000;
  for (let i = 0; i < 1000; i++) {
    const t = i * 1e6;
    const start = t + 100_000;
    const begin = start >= gcAt && start < gcAt + 30e6 ? gcAt + 30e6 : start;
    const waits = i % 100 === 7 ? [{ lock: 'table', mode: 'write' as const, site: 'lookup (table.ts:9)', start: T0 + BigInt(begin), duration: 40e6 }] : [];
    const end = begin + 1e6 + (waits.length ? 40e6 : 0);
    results.push(result(i, end + 100_000 - t, { attack: name, sendLag: 50_000 }, 1e6));
    requests.push({ trace: traceIdOf(id, i), parent: '', start: T0 + BigInt(begin), end: T0 + BigInt(end), method: 'GET', path: '/', status: 200, bytes: 10, waits });
  }
  const file = join(dir, `${name}.bin`);
  const out = createWriteStream(file);
  const w = createResultWriter(out, 'binary');
  w.writeMeta({ info });
  // Completion order, as attack writes them.
  for (const r of [...results].sort((a, b) => Number(a.timestamp + BigInt(a.latency) - (b.timestamp + BigInt(b.latency))))) w.write(r);
  await w.close();
  const capture = join(dir, `${name}-capture.json`);
  await writeCapture(capture, {
    agent: 'node/test', url: 'http://127.0.0.1:6060', features: [], since: T0, until: T0 + 2_000_000_000n,
    requests, requestsDropped: 0,
    gc: [{ start: T0 + BigInt(gcAt), duration: 30e6, kind: 'mark-sweep-compact' }],
    stalls: [], cpu: null,
  });
  return { file, capture };
}

function pageData(html: string): any {
  const m = /<script id="tp-data" type="application\/json">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m, 'the page embeds its data');
  return JSON.parse(m[1]!);
}

function decode(e: { f32?: string; f64?: string; u8?: string }): number[] {
  const b = Buffer.from((e.f32 ?? e.f64 ?? e.u8)!, 'base64');
  const copy = new Uint8Array(b); // aligned
  if (e.f32 !== undefined) return [...new Float32Array(copy.buffer)];
  if (e.f64 !== undefined) return [...new Float64Array(copy.buffer)];
  return [...copy];
}

test('plot -explain puts every slow request in the page: at its intended time, its parts adding up to its latency, its cause, the ranked causes and the verdict', async () => {
  const dir = tempDir('tailprobe-plot-explain-');
  const { file, capture } = await writeRun(dir, 'locked');
  const above = { latencyNs: 10e6 };
  const { client, info } = await loadClientRequests([file]);
  const want = explain(client, info, await readCapture(capture), { above, slowest: Infinity });
  // 10 lock waiters, and the requests that waited more than 10 ms for the GC pause to end.
  assert.equal(want.causes.find((c) => c.key === 'lock:table')?.requests, 10);
  assert.ok(want.slow >= 25, `${want.slow} slow`);

  const b = pageData(await plotHtml([file], { explain: { captures: [capture], above } })).runs[0].breakdown;
  assert.equal(b.slow, want.slow);
  assert.equal(b.drawn, want.slow, 'all of them drawn (fewer than the bound)');
  assert.equal(b.verdict, want.verdict.text);
  assert.equal(b.attackId, ID);
  assert.deepEqual(b.causes.map((c: any) => c.key), want.causes.map((c) => c.key));
  assert.equal(b.matched, 1000);
  // Stacking order: the request's life, generator first, handler time and transit on top.
  // (No 'after': the clock offset estimated from these made-up times puts each response's end at its receipt.)
  assert.deepEqual(new Set(b.keys), new Set(want.slowest.flatMap((s) => Object.keys(s.parts))));
  assert.deepEqual(b.keys, ['generator', 'queue', 'gc:mark-sweep-compact', 'lock:table', 'unexplained']);
  assert.deepEqual(b.labels.slice(2, 4), ['GC pause (mark-sweep-compact)', 'lock "table" wait']);

  const x = decode(b.x);
  const lat = decode(b.latencyMs);
  const seq = decode(b.seq);
  const cause = decode(b.cause);
  const parts = b.parts.map(decode);
  assert.equal(x.length, want.slow);
  for (let i = 1; i < x.length; i++) assert.ok(x[i]! >= x[i - 1]!, 'ascending by intended send time');
  const bySeq = new Map(want.slowest.map((s) => [s.seq, s]));
  for (let i = 0; i < x.length; i++) {
    const s = bySeq.get(seq[i]!)!;
    assert.ok(s, `seq ${seq[i]} is a slow request`);
    assert.ok(Math.abs(x[i]! - seq[i]! * 1e-3) < 1e-9, `request ${seq[i]} at its intended time (${x[i]} s)`);
    assert.ok(Math.abs(lat[i]! - s.latencyNs / 1e6) < 1e-3, 'latency in ms');
    const sum = parts.reduce((a: number, p: number[]) => a + p[i]!, 0);
    assert.ok(Math.abs(sum - lat[i]!) < 1e-3, `request ${seq[i]}: parts add up to ${sum} ms, latency ${lat[i]} ms`);
    assert.equal(b.keys[cause[i]!], s.cause);
    for (const [k, ns] of Object.entries(s.parts)) assert.ok(Math.abs(parts[b.keys.indexOf(k)]![i]! - ns / 1e6) < 1e-3, `${k} of ${seq[i]}`);
  }
  // The lock waiters are put on the lock, at their 40 ms.
  for (let i = 0; i < x.length; i++) if (seq[i]! % 100 === 7) assert.equal(b.keys[cause[i]!], 'lock:table');

  // The bound: at most N bars, the slowest N; the rest counted.
  const few = pageData(await plotHtml([file], { explain: { captures: [capture], above }, breakdownBars: 3 })).runs[0].breakdown;
  assert.equal(few.slow, want.slow);
  assert.equal(few.drawn, 3);
  assert.deepEqual(new Set(decode(few.seq)), new Set(want.slowest.slice(0, 3).map((s) => s.seq)));
  // Without -explain there is no lane.
  assert.equal(pageData(await plotHtml([file])).runs[0].breakdown, null);
});

test('plot -explain through the CLI: one capture per run in order, and bad input is one line and a non-zero exit', async () => {
  const dir = tempDir('tailprobe-plot-explain-cli-');
  const a = await writeRun(dir, 'a');
  const other = await writeRun(dir, 'b', '1111111111111111');
  const html = join(dir, 'two.html');
  // Two runs; only the second explained ('' skips the first).
  const ok = await runCli(['plot', a.file, other.file, '-explain=', `-explain=${other.capture}`, '-explain-above=10ms', '-o', html]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stderr, '');
  const runs = pageData((await import('node:fs')).readFileSync(html, 'utf8')).runs;
  assert.equal(runs[0].breakdown, null);
  assert.equal(runs[1].breakdown.attackId, '1111111111111111');
  assert.ok(runs[1].breakdown.drawn >= 25);

  const json = join(dir, 'a.json');
  writeFileSync(json, (await runCli(['encode', '-to=json', a.file])).stdout);
  const cases: Array<[string[], number, RegExp]> = [
    // The capture of another attack: its records name none of this run's requests.
    [['plot', a.file, `-explain=${other.capture}`], 1, /^tailprobe: plot: .*b-capture\.json does not explain .*a\.bin: the agent's records name none of this attack's requests/],
    [['plot', a.file, `-explain=${a.capture}`, `-explain=${other.capture}`], 2, /2 -explain captures for 1 results run/],
    [['plot', a.file, '-explain-above=p99'], 2, /-explain-above needs -explain/],
    [['plot', a.file, `-explain=${a.capture}`, '-explain-above=slow'], 2, /-above: want a percentile/],
    [['plot', a.file, `-explain=${join(dir, 'missing.json')}`], 1, /missing\.json: no such file/],
    [['plot', a.file, `-explain=${a.file}`], 2, /a\.bin: not an agent capture/],
    [['plot', json, `-explain=${a.capture}`], 2, /a\.json: no run info .*attack id/],
  ];
  for (const [args, code, msg] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line: ${r.stderr}`);
    assert.match(lines[0]!, /^tailprobe: /);
    assert.match(lines[0]!, msg);
    assert.equal(r.stdout.length, 0, 'no page half-written');
  }
  const piped = await runCli(['plot', `-explain=${a.capture}`], { input: (await runCli(['encode', '-to=json', a.file])).stdout });
  assert.equal(piped.code, 2, piped.stderr);
  assert.match(piped.stderr, /^tailprobe: plot: -explain=.*: explain needs the results in a file, not on stdin\n$/);
});
