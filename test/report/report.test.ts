import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { Metrics } from '../../src/metrics/metrics.js';
import { openResults } from '../../src/results/reader.js';
import { emptyMeta, type Result, type RunMeta } from '../../src/results/result.js';
import { textReport } from '../../src/report/text.js';
import { jsonReport } from '../../src/report/json.js';
import { histReport, LatencyBuckets, parseHistBuckets } from '../../src/report/hist.js';
import { hdrplotReport } from '../../src/report/hdrplot.js';
import { tabwrite } from '../../src/report/tabwriter.js';
import { parseReportType } from '../../src/report/run.js';
import { parseDuration } from '../../src/units/duration.js';
import { UsageError } from '../../src/errors.js';
import { FIXTURES } from '../helpers/paths.js';
import { metricsOf, result, T0 } from '../../support/results.js';

/** 10,000 results, latencies 100µs, 200µs, ... 1s in shuffled order, every 100th a 500; sent every 1ms. */
function knownRun(opts: { sendLag?: (i: number) => number } = {}): Result[] {
  const out: Result[] = [];
  for (let i = 0; i < 10_000; i++) {
    const k = (i * 7919) % 10_000; // a permutation of 0..9999
    out.push(result(i, (k + 1) * 100_000, {
      attack: '', code: i % 100 === 0 ? 500 : 200, sendLag: opts.sendLag ? opts.sendLag(i) : 50_000,
      bytesOut: 10, bytesIn: 100, error: i % 100 === 0 ? 'internal' : '', url: 'http://x/',
    }, 1_000_000));
  }
  return out;
}


/** Nearest-rank percentile of exact values, the definition HDR histograms approximate. */
function exactPercentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function near(actual: number, expected: number, what: string, rel = 0.001): void {
  // HDR: 3 significant digits (0.1 %), values kept in µs; the text report rounds to the next unit.
  assert.ok(Math.abs(actual - expected) <= expected * rel + 1000, `${what}: ${actual} vs ${expected}`);
}

test('text report numbers match values computed independently from the known latencies', () => {
  const rs = knownRun();
  const lat = rs.map((r) => r.latency).sort((a, b) => a - b);
  const text = textReport(metricsOf(rs));
  const line = (label: string) => {
    const l = text.split('\n').find((x) => x.startsWith(label));
    assert.ok(l, `no ${label} line in\n${text}`);
    return l.replace(/^.*\]\s+/, '').split(', ');
  };
  const [total, rate, throughput] = line('Requests');
  assert.equal(total, '10000');
  // 10,000 sends 1 ms apart span 9.999 s; the last completes at most 1 s later.
  const durationS = 9.999;
  const end = Math.max(...rs.map((r, i) => i * 1e6 + r.latency)) / 1e9;
  assert.equal(rate, ((10_000 - 1) / durationS).toFixed(2));
  assert.equal(throughput, (9_900 / end).toFixed(2));
  const [dTotal, dAttack, dWait] = line('Duration').map((d) => parseDuration(d));
  assert.equal(dAttack, 9.999e9);
  near(dWait!, end * 1e9 - 9.999e9, 'wait');
  near(dTotal!, end * 1e9, 'total');
  const l = line('Latencies').map((d) => parseDuration(d));
  const mean = lat.reduce((a, b) => a + b, 0) / lat.length;
  const want = [lat[0]!, mean, ...[50, 90, 95, 99].map((p) => exactPercentile(lat, p)), lat[lat.length - 1]!];
  ['min', 'mean', 'p50', 'p90', 'p95', 'p99', 'max'].forEach((name, i) => near(l[i]!, want[i]!, name));
  const tail = line('Tail').map((d) => parseDuration(d));
  near(tail[0]!, exactPercentile(lat, 99.9), 'p99.9');
  near(tail[1]!, exactPercentile(lat, 99.99), 'p99.99');
  assert.equal(tail[2], 1e9);
  assert.deepEqual(line('Bytes In'), ['1000000', '100.00']);
  assert.deepEqual(line('Bytes Out'), ['100000', '10.00']);
  assert.deepEqual(line('Success'), ['99.00%']);
  assert.deepEqual(line('Schedule'), ['0', '0.00%', '50µs', '50µs', '50µs']);
  assert.match(text, /Status Codes {2}\[code:count\] {22}200:9900 {2}500:100 {2}\nError Set:\ninternal\n$/);
});

test('text report of vegeta\'s own results: exact layout, worked out by hand (fixtures/vegeta/README.md)', async () => {
  const src = await openResults(join(FIXTURES, 'vegeta', 'results.csv'));
  const m = new Metrics();
  for await (const b of src.batches()) for (const r of b) m.add(r);
  // duration 10.123455ms; end = seq 3 at 6ms + 30s; rate = 5 / 0.010123455 s; throughput = 3 ok / 30.005999999 s.
  assert.equal(
    textReport(m, [src.meta], [src]),
    [
      'Requests      [total, rate, throughput]         6, 493.90, 0.10',
      'Duration      [total, attack, wait]             30.006s, 10.123ms, 29.996s',
      'Latencies     [min, mean, 50, 90, 95, 99, max]  120µs, 5.001s, 1.5ms, 30s, 30s, 30s, 30s',
      'Tail          [99.9, 99.99, max]                30s, 30s, 30s',
      'Bytes In      [total, mean]                     34, 5.67',
      'Bytes Out     [total, mean]                     17, 2.83',
      'Success       [ratio]                           50.00%',
      'Schedule      [late, ratio, lag 50, 99, max]    not recorded (vegeta results carry no send times)',
      'Status Codes  [code:count]                      0:2  200:2  201:1  404:1  ',
      'Error Set:',
      'Get "http://localhost:8080/api/lookup": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
      'Get "http://localhost:8080/api/lookup": dial tcp 127.0.0.1:8080: connect: connection refused',
      '',
    ].join('\n'),
  );
});

test('tabwriter aligns exactly as vegeta\'s README example', () => {
  const input = [
    'Requests\t[total, rate, throughput]\t1200, 120.00, 65.87',
    'Duration\t[total, attack, wait]\t10.094965987s, 9.949883921s, 145.082066ms',
    'Latencies\t[min, mean, 50, 90, 95, 99, max]\t113.172µs, 138.146306ms, 4.561ms, 427.664165ms, 477.577608ms, 555.009474ms, 1.077185424s',
    'Bytes In\t[total, mean]\t20160, 16.80',
    'Bytes Out\t[total, mean]\t0, 0.00',
    'Success\t[ratio]\t55.42%',
    'Status Codes\t[code:count]\t0:535  200:665  ',
    'Error Set:',
    'Get http://localhost:6060: dial tcp 127.0.0.1:6060: connection refused',
  ].join('\n');
  assert.equal(
    tabwrite(input),
    [
      'Requests      [total, rate, throughput]         1200, 120.00, 65.87',
      'Duration      [total, attack, wait]             10.094965987s, 9.949883921s, 145.082066ms',
      'Latencies     [min, mean, 50, 90, 95, 99, max]  113.172µs, 138.146306ms, 4.561ms, 427.664165ms, 477.577608ms, 555.009474ms, 1.077185424s',
      'Bytes In      [total, mean]                     20160, 16.80',
      'Bytes Out     [total, mean]                     0, 0.00',
      'Success       [ratio]                           55.42%',
      'Status Codes  [code:count]                      0:535  200:665  ',
      'Error Set:',
      'Get http://localhost:6060: dial tcp 127.0.0.1:6060: connection refused',
    ].join('\n'),
  );
});

test('JSON report: vegeta keys in vegeta order plus ours, numbers from the known run', () => {
  const rs = knownRun();
  const lat = rs.map((r) => r.latency).sort((a, b) => a - b);
  const buckets = new LatencyBuckets([0, 100e6, 500e6]);
  for (const r of rs) buckets.add(r.latency);
  const j = jsonReport(metricsOf(rs), [], [], { buckets }) as Record<string, any>;
  assert.deepEqual(Object.keys(j), [
    'latencies', 'buckets', 'bytes_in', 'bytes_out', 'earliest', 'latest', 'end', 'duration', 'wait', 'requests',
    'rate', 'throughput', 'success', 'status_codes', 'errors', 'schedule', 'warnings',
  ]);
  assert.deepEqual(Object.keys(j.latencies), ['total', 'mean', '50th', '90th', '95th', '99th', '99.9th', '99.99th', 'max', 'min']);
  assert.equal(j.latencies.total, lat.reduce((a, b) => a + b, 0));
  assert.equal(j.latencies.min, 100_000);
  assert.equal(j.latencies.max, 1e9);
  near(j.latencies['99th'], exactPercentile(lat, 99), 'p99');
  near(j.latencies['99.9th'], exactPercentile(lat, 99.9), 'p99.9');
  assert.equal(j.requests, 10_000);
  assert.equal(j.duration, 9_999_000_000);
  assert.equal(j.success, 0.99);
  assert.deepEqual(j.status_codes, { '200': 9900, '500': 100 });
  assert.deepEqual(j.errors, ['internal']);
  assert.equal(j.earliest, '2026-11-27T08:00:00Z');
  assert.equal(j.latest, '2026-11-27T08:00:09.999Z');
  assert.deepEqual(j.bytes_in, { total: 1_000_000, mean: 100 });
  // 100µs..1s in 100µs steps: [0,100ms) holds 999, [100ms,500ms) 4000, [500ms,+Inf) 5001.
  assert.deepEqual(j.buckets, { '0': 999, '100000000': 4000, '500000000': 5001 });
  assert.deepEqual(j.schedule, { recorded: true, late: 0, late_ratio: 0, lag_50th: 50_000, lag_99th: 50_000, lag_max: 50_000 });
  assert.deepEqual(j.warnings, []);
  const empty = jsonReport(new Metrics()) as Record<string, any>;
  assert.equal(empty.earliest, '0001-01-01T00:00:00Z');
  assert.equal(empty.requests, 0);
});

test('hist report: vegeta layout, counts match the latencies counted directly', () => {
  const rs = knownRun();
  const bounds = parseHistBuckets('hist[0,1ms,5ms,10ms,50ms]');
  assert.deepEqual(bounds, [0, 1e6, 5e6, 10e6, 50e6]);
  const counts = bounds.map((lo, i) => rs.filter((r) => r.latency >= lo && (i + 1 === bounds.length || r.latency < bounds[i + 1]!)).length);
  assert.deepEqual(counts, [9, 40, 50, 400, 9501]);
  const exact = new LatencyBuckets(bounds);
  for (const r of rs) exact.add(r.latency);
  assert.deepEqual(exact.counts, counts);
  const m = metricsOf(rs);
  const bar = (n: number) => '#'.repeat(Math.floor((n / 10_000) * 75));
  // Layout as vegeta's README shows it: "Bucket         #     %       Histogram".
  assert.equal(
    histReport(m, exact),
    [
      'Bucket         #     %       Histogram',
      `[0s,    1ms]   9     0.09%   ${bar(9)}`,
      `[1ms,   5ms]   40    0.40%   ${bar(40)}`,
      `[5ms,   10ms]  50    0.50%   ${bar(50)}`,
      `[10ms,  50ms]  400   4.00%   ${bar(400)}`,
      `[50ms,  +Inf]  9501  95.01%  ${bar(9501)}`,
      '',
    ].join('\n'),
  );
  // From the HDR histogram alone, a latency sitting exactly on a bound (here 50ms) may land one bucket
  // low: every count within one latency of the exact one, and the total kept.
  const approx = m.latency.countsInBuckets(bounds);
  approx.forEach((c, i) => assert.ok(Math.abs(c - counts[i]!) <= 1, `bucket ${i}: ${c} vs ${counts[i]}`));
  assert.equal(approx.reduce((a, b) => a + b, 0), 10_000);
  assert.throws(() => parseHistBuckets('hist[0,5ms,1ms]'), UsageError);
  assert.throws(() => parseHistBuckets('hist[0,fast]'), /bad histogram bucket "fast"/);
  assert.throws(() => parseHistBuckets('hist0,1ms'), UsageError);
  assert.throws(() => parseReportType('pie'), /unknown -type "pie"/);
  assert.deepEqual(parseReportType('hist[0,1ms]'), { kind: 'hist', buckets: [0, 1e6] });
});

test('hdrplot: HdrHistogram percentile distribution in ms', () => {
  const rs = knownRun();
  const text = hdrplotReport(metricsOf(rs));
  const lines = text.split('\n');
  assert.match(lines[0]!, /^\s+Value\s+Percentile\s+TotalCount\s+1\/\(1-Percentile\)$/);
  const rows = lines.filter((l) => /^\s+\d/.test(l)).map((l) => l.trim().split(/\s+/).map(Number));
  const half = rows.find((r) => r[1] === 0.5)!;
  near(half[0]! * 1e6, 500e6, 'p50 in ms');
  assert.equal(rows[rows.length - 1]![2], 10_000);
  assert.match(text, /#\[Max\s+=\s+1000\.\d+, Total count\s+=\s+10000\]/);
});

const info = (over: Partial<NonNullable<RunMeta['info']>> = {}): RunMeta => ({
  ...emptyMeta(),
  info: { name: '', pacer: '500/1s', rate: 500, maxMode: false, duration: 10e9, targets: [], targetCount: 1, workers: 1, connections: 100, startedAt: T0, version: '0.1.0', ...over },
});

test('warnings: closed loop, generator bottleneck (late sends, send lag, CPU), early end, truncation', () => {
  const healthy = metricsOf(knownRun());
  assert.doesNotMatch(textReport(healthy, [info()]), /Warning|Note/);

  const closed = textReport(healthy, [info({ maxMode: true, rate: 0, pacer: 'max' })]);
  assert.match(closed, /\nWarning: closed-loop measurement \(max mode, -rate=0\)/);

  // 10 % of sends 20 ms late: both the late ratio and the p99 send lag give the generator away.
  const late = metricsOf(knownRun({ sendLag: (i) => (i % 10 === 0 ? 20e6 : 50_000) }));
  const t = textReport(late, [info()]);
  assert.match(t, /Schedule {6}\[late, ratio, lag 50, 99, max\] {4}1000, 10\.00%, 50µs, 20ms, 20ms/);
  // No generator health record (a file cut off, or an attack killed): whose fault it was is unknown.
  assert.doesNotMatch(t, /bottleneck/);
  assert.match(t, /Note: 10\.00% of requests were sent late \(more than 1ms after their scheduled time\); p99 send lag was 20ms; whether the generator or the target held them up is unknown: the results carry no generator health record/);

  // Late sends while the generator's own loop had time to spare: the target held the connections.
  const roomy = { ...info(), health: { cpuPercent: 20, cores: 2, eventLoopP99: 2e6, eventLoopMax: 5e6, unsent: 0, ended: 'completed' } };
  const waited = textReport(late, [roomy]);
  assert.doesNotMatch(waited, /Warning/);
  assert.match(waited, /Note: 10\.00% of requests were sent late .* while the generator's own event loop and CPU had headroom: requests waited for connections the target still held/);
  // The advice to raise -max-connections only where there is a cap to raise.
  assert.doesNotMatch(waited, /max-connections/, 'an old file without the cap: no advice');
  const unlimited = textReport(late, [{ ...roomy, info: { ...roomy.info!, maxConnections: 0 } }]);
  assert.match(unlimited, /\(-max-connections is already unlimited: more connections would not have helped\)\./);
  assert.doesNotMatch(unlimited, /raising -max-connections/);
  const capped = textReport(late, [{ ...roomy, info: { ...roomy.info!, maxConnections: 8 } }]);
  assert.match(capped, /; raising -max-connections helps only in the first case\./);
  const busyLoop = { ...roomy, health: { ...roomy.health, eventLoopP99: 40e6 } };
  assert.match(textReport(late, [busyLoop]), /bottleneck: 10\.00% of requests were sent late .*; its event loop was delayed \(p99 40ms\)/);

  const cpu = { ...info(), health: { cpuPercent: 99, cores: 2, eventLoopP99: 1e6, eventLoopMax: 2e6, unsent: 42, ended: 'interrupted' } };
  const c = textReport(healthy, [cpu]);
  assert.match(c, /bottleneck: its CPU was saturated \(99% of 1 core\)/);
  assert.match(c, /Note: the run ended early \(interrupted\); 42 scheduled requests were never sent\./);

  const cut = textReport(healthy, [], [{ name: 'r.bin', truncatedBytes: 13, truncated: true }]);
  assert.match(cut, /Note: r\.bin was cut off mid-record: the last 13 bytes \(an incomplete result\) were left out/);
  assert.deepEqual(
    (jsonReport(late, [busyLoop]) as { warnings: string[] }).warnings.map((w) => w.slice(0, 20)),
    ['Warning: the load ge'],
  );
});

test('runReport: the gate hook judges the final metrics; its verdict goes to err and fails the run', async () => {
  const { runReport } = await import('../../src/report/run.js');
  const { PassThrough, Readable } = await import('node:stream');
  const text = (s: InstanceType<typeof PassThrough>) => {
    let t = '';
    s.on('data', (d: Buffer) => (t += d.toString()));
    return () => t;
  };
  const input = readFileSync(join(FIXTURES, 'vegeta', 'results.json'));
  const out = new PassThrough();
  const err = new PassThrough();
  const outText = text(out);
  const errText = text(err);
  let seen = 0;
  const res = await runReport({
    inputs: [],
    stdin: Readable.from([input]),
    out,
    err,
    type: parseReportType('json'),
    gate: (m) => {
      seen = m.requests;
      return { text: 'p99<10ms: 30s FAIL', failed: m.latencies().p99 > 10e6 };
    },
  });
  assert.equal(seen, 6);
  assert.equal(res.failed, true);
  assert.equal(JSON.parse(outText()).requests, 6);
  assert.equal(errText(), 'p99<10ms: 30s FAIL\n');
});
