import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWrkOutput, parseWrkTime, pacedScript, calibratedConnections } from '../../bench/lib/wrk.js';
import { formatNs, formatPercentDelta, formatRate, formatRatio, formatSpread, pairedRatios, ratio, spread } from '../../bench/lib/stats.js';
import { steadyRate } from '../../bench/lib/server-rate.js';
import { nginxConfig, parseStubStatus } from '../../bench/lib/nginx.js';
import { parseAutocannonJson } from '../../bench/lib/autocannon.js';
import { parseJsonReport } from '../../bench/lib/report-json.js';
import { rssAt, rssAtEnd } from '../../bench/lib/proc.js';
import { rotated } from '../../bench/lib/context.js';
import { optionsFrom } from '../../bench/lib/options.js';
import { markdownTable } from '../../bench/lib/table.js';

// Captured from Debian's wrk 4.1.0 on this machine (`wrk -t1 -c10 -d2s --latency`).
const WRK_LATENCY = `Running 2s test @ http://127.0.0.1:18080/
  1 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    83.84us   46.23us   1.38ms   89.80%
    Req/Sec    88.28k    14.20k  104.28k    61.90%
  Latency Distribution
     50%   84.00us
     75%   99.00us
     90%  126.00us
     99%  195.00us
  183982 requests in 2.10s, 26.14MB read
Requests/sec:  87624.33
Transfer/sec:     12.45MB
`;

// A longer run without --latency, with errors, second-scale latencies and a minute-long duration.
const WRK_ERRORS = `Running 1m test @ http://127.0.0.1:8080/slow
  2 threads and 100 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.50s   250.00ms   2.00s    70.00%
    Req/Sec    30.00     10.00    50.00     60.00%
  3540 requests in 1.00m, 512.00KB read
  Socket errors: connect 0, read 2, write 0, timeout 17
  Non-2xx or 3xx responses: 12
Requests/sec:     58.97
Transfer/sec:      8.53KB
`;

test('wrk: reads the summary, the latency distribution and the units', () => {
  const s = parseWrkOutput(WRK_LATENCY);
  assert.equal(s.threads, 1);
  assert.equal(s.connections, 10);
  assert.equal(s.requests, 183982);
  assert.equal(s.durationSec, 2.1);
  assert.equal(s.requestsPerSec, 87624.33);
  assert.ok(Math.abs(s.bytesRead - 26.14 * 1024 * 1024) < 1);
  assert.equal(s.latency.mean, 83840);
  assert.equal(s.latency.stdev, 46230);
  assert.equal(s.latency.max, 1.38e6);
  assert.equal(s.latency.p50, 84000);
  assert.equal(s.latency.p75, 99000);
  assert.equal(s.latency.p90, 126000);
  assert.equal(s.latency.p99, 195000);
  assert.deepEqual(s.socketErrors, { connect: 0, read: 0, write: 0, timeout: 0 });
  assert.equal(s.non2xx, 0);
});

test('wrk: errors, non-2xx, seconds and minutes, no distribution', () => {
  const s = parseWrkOutput(WRK_ERRORS);
  assert.equal(s.threads, 2);
  assert.equal(s.connections, 100);
  assert.equal(s.durationSec, 60);
  assert.equal(s.latency.mean, 1.5e9);
  assert.equal(s.latency.stdev, 250e6);
  assert.equal(s.latency.p50, undefined);
  assert.deepEqual(s.socketErrors, { connect: 0, read: 2, write: 0, timeout: 17 });
  assert.equal(s.non2xx, 12);
  assert.equal(s.bytesRead, 512 * 1024);
});

test('wrk: a failed run is an error naming its first line, not zeros', () => {
  assert.throws(() => parseWrkOutput('unable to connect to 127.0.0.1:1 Connection refused\n'), /wrk: unexpected output: unable to connect/);
  assert.throws(() => parseWrkOutput(''), /\(empty\)/);
  assert.throws(() => parseWrkTime('12 parsecs'), /cannot read time/);
  assert.equal(parseWrkTime('2.00h'), 7200e9);
});

test('wrk pacing: script and calibration', () => {
  assert.match(pacedScript(10), /function delay\(\)\n {2}return 10\nend/);
  assert.throws(() => pacedScript(0.5), /whole number/);
  // 50 connections gave 4000 req/s: 5000 needs 62.5 -> 63 (rounded), never fewer than 1.
  assert.equal(calibratedConnections(50, 5000, 4000), 63);
  assert.equal(calibratedConnections(1, 10, 1e6), 1);
  assert.equal(calibratedConnections(7, 5000, 0), 7);
});

test('stats: min/median/max ignore missing values', () => {
  assert.deepEqual(spread([3, 1, 2]), { n: 3, min: 1, median: 2, max: 3 });
  assert.deepEqual(spread([4, 1, 3, 2]), { n: 4, min: 1, median: 2.5, max: 4 });
  assert.deepEqual(spread([5, NaN]), { n: 1, min: 5, median: 5, max: 5 });
  const none = spread([NaN]);
  assert.equal(none.n, 0);
  assert.ok(Number.isNaN(none.median));
});

test('ratios: paired by repetition, none against zero or a missing run', () => {
  assert.equal(ratio(3, 2), 1.5);
  assert.ok(Number.isNaN(ratio(3, 0)));
  assert.ok(Number.isNaN(ratio(undefined, 2)));
  assert.ok(Number.isNaN(ratio(NaN, 2)));
  assert.deepEqual(pairedRatios([10, 20, 30], [5, NaN, 10]), [2, 3]);
  assert.deepEqual(pairedRatios([1, 2], [1]), [1]);
});

test('formatting: ratios, spreads, rates, deltas', () => {
  assert.equal(formatRatio(1.5), '1.50x');
  assert.equal(formatRatio(0.6049), '0.60x');
  assert.equal(formatRatio(123.4), '123x');
  assert.equal(formatRatio(NaN), 'n/a');
  assert.equal(formatSpread(spread([1.2, 1.5, 1.4])), '1.40x (1.20x..1.50x)');
  assert.equal(formatSpread(spread([1.5])), '1.50x');
  assert.equal(formatSpread(spread([1.501, 1.499])), '1.50x');
  assert.equal(formatSpread(spread([])), 'n/a');
  assert.equal(formatRate(987.4), '987');
  assert.equal(formatRate(5012), '5.01k');
  assert.equal(formatRate(87624), '87.6k');
  assert.equal(formatRate(1.2e6), '1.20M');
  assert.equal(formatPercentDelta(-0.0004), '-0.04%');
  assert.equal(formatPercentDelta(0.123), '+12.3%');
  assert.equal(formatNs(35000), '35µs');
  assert.equal(formatNs(603647000), '604ms');
  assert.equal(formatNs(2232319000), '2.23s');
  assert.equal(formatNs(950), '950ns');
  assert.equal(formatNs(NaN), 'n/a');
});

test('server-side rate: skips the warm-up and the partial last interval', () => {
  // Idle, then 1000 req/s for 3 s (with a slow first 0.5 s), then a partial interval, then idle.
  const s = [
    { at: 0, requests: 0 },
    { at: 500, requests: 0 },
    { at: 1000, requests: 200 }, // start-up: slower
    { at: 1500, requests: 700 },
    { at: 2000, requests: 1200 },
    { at: 2500, requests: 1700 },
    { at: 3000, requests: 2200 },
    { at: 3500, requests: 2700 },
    { at: 4000, requests: 2900 }, // stopped within this interval
    { at: 4500, requests: 2900 },
  ];
  // Window starts 1 s after the interval where traffic began (at 500 -> 1500) and ends at 3500.
  assert.equal(steadyRate(s, { skipMs: 1000 }), 1000);
  assert.equal(steadyRate(s, { skipMs: 0 }), ((2700 - 0) * 1000) / 3000);
  assert.ok(Number.isNaN(steadyRate([{ at: 0, requests: 5 }, { at: 200, requests: 5 }])));
  assert.ok(Number.isNaN(steadyRate(s.slice(0, 4), { skipMs: 1000 })), 'too short a window is no figure');
});

test('nginx: config is one worker, no access log, fixed 200, and stub_status on its own port', () => {
  const c = nginxConfig({ dir: '/tmp/x', port: 8081, statusPort: 8082 });
  assert.match(c, /^worker_processes 1;$/m);
  assert.match(c, /access_log off;/);
  assert.match(c, /listen 127\.0\.0\.1:8081 /);
  assert.match(c, /return 200 "ok";/);
  assert.match(c, /listen 127\.0\.0\.1:8082;\s+location \/ \{\s+stub_status;/);
  assert.match(c, /keepalive_requests \d{6,};/);
  assert.match(c, /pid \/tmp\/x\/nginx\.pid;/);
  const st = parseStubStatus('Active connections: 3 \nserver accepts handled requests\n 10 10 4242 \nReading: 0 Writing: 1 Waiting: 2 \n');
  assert.deepEqual(st, { active: 3, accepts: 10, handled: 10, requests: 4242 });
  assert.throws(() => parseStubStatus('<html>404</html>'), /unexpected stub_status/);
});

test('autocannon: --json output, latencies in ms become ns', () => {
  const line = JSON.stringify({
    connections: 10, workers: 0, duration: 2.02, errors: 1, timeouts: 0, non2xx: 0, '2xx': 18837,
    latency: { mean: 0.35, p50: 0, p90: 1, p99: 4, max: 39 },
    requests: { total: 18838, average: 9419 },
  });
  const s = parseAutocannonJson(`Running 2s test...\n${line}\n`);
  assert.equal(s.ok, 18837);
  assert.equal(s.requests, 18838);
  assert.equal(s.okPerSec, 18837 / 2.02);
  assert.equal(s.latency.p99, 4e6);
  assert.equal(s.latency.mean, 0.35e6);
  assert.throws(() => parseAutocannonJson('Error: connect ECONNREFUSED'), /no JSON/);
});

test('report JSON: vegeta fields, and tailprobe schedule when present', () => {
  // vegeta's report -type=json, as documented (durations in ns).
  const vegeta = {
    latencies: { total: 3e9, mean: 300000, '50th': 250000, '90th': 400000, '95th': 500000, '99th': 900000, max: 5e6, min: 90000 },
    bytes_in: { total: 20000, mean: 2 }, bytes_out: { total: 0, mean: 0 },
    earliest: '2026-01-01T00:00:00Z', latest: '2026-01-01T00:00:10Z', end: '2026-01-01T00:00:10.0003Z',
    duration: 10e9, wait: 300000, requests: 10000, rate: 999.9, throughput: 999.8, success: 1,
    status_codes: { '200': 10000 }, errors: [],
  };
  const v = parseJsonReport(JSON.stringify(vegeta));
  assert.equal(v.requests, 10000);
  assert.equal(v.latency.p50, 250000);
  assert.equal(v.latency.p99, 900000);
  assert.equal(v.durationNs, 10e9);
  assert.equal(v.schedule, null);
  const t = parseJsonReport(JSON.stringify({ ...vegeta, schedule: { recorded: true, late: 3, late_ratio: 0.0003, lag_50th: 20000, lag_99th: 400000, lag_max: 2e6 }, warnings: ['w'] }));
  assert.deepEqual(t.schedule, { p50: 20000, p99: 400000, max: 2e6, late: 3, lateRatio: 0.0003 });
  assert.throws(() => parseJsonReport('Requests [total] 10'), /not JSON/);
  assert.throws(() => parseJsonReport('{}'), /no "requests"/);
});

test('memory samples: RSS near a time and at the end of the attack', () => {
  const s = [1000, 2000, 3000, 4000, 5000].map((t, i) => ({ t, rss: (i + 1) * 100 }));
  assert.equal(rssAt(s, 2900), 300);
  assert.equal(rssAt(s, 99999), 500);
  assert.equal(rssAtEnd(s, 4500), 400);
  assert.ok(Number.isNaN(rssAtEnd(s, 500)));
  assert.ok(Number.isNaN(rssAt([], 1)));
});

test('tools take turns going first', () => {
  assert.deepEqual(rotated(['a', 'b', 'c'], 0), ['a', 'b', 'c']);
  assert.deepEqual(rotated(['a', 'b', 'c'], 1), ['b', 'c', 'a']);
  assert.deepEqual(rotated(['a', 'b', 'c'], 5), ['c', 'a', 'b']);
});

test('options: defaults, quick mode, explicit flags win, bad suites are usage errors', () => {
  const full = optionsFrom([]);
  assert.equal(full.count, 3);
  assert.equal(full.throughputSec, 10);
  assert.equal(full.memorySec, 300);
  assert.deepEqual(full.rates, [1000, 5000, 10000, 20000]);
  assert.deepEqual(full.suites, ['throughput', 'fidelity', 'memory']);
  const quick = optionsFrom(['-quick']);
  assert.equal(quick.count, 1);
  assert.equal(quick.throughputSec, 3);
  assert.equal(quick.memorySec, 30);
  assert.equal(quick.fidelitySec, 2);
  assert.equal(quick.memoryPeer, false);
  assert.equal(full.memoryPeer, true);
  assert.equal(optionsFrom(['-quick', '-memory-peer']).memoryPeer, true);
  const q2 = optionsFrom(['--quick', '--count', '2', '-memory-duration=1m', '-suites=memory']);
  assert.equal(q2.count, 2);
  assert.equal(q2.memoryCount, 2);
  assert.equal(q2.memorySec, 60);
  assert.deepEqual(q2.suites, ['memory']);
  assert.throws(() => optionsFrom(['-suites=speed']), /unknown suite "speed"/);
  assert.throws(() => optionsFrom(['-rates=1k']), /invalid value "1k" for flag -rates/);
});

test('table: columns padded to the widest cell', () => {
  assert.equal(markdownTable(['a', 'bb'], [['ccc', 'd']]), '| a   | bb |\n|-----|----|\n| ccc | d  |');
});

test('cpu profile: self and cumulative time per frame, parts of the stack', async () => {
  const { summarizeCpuProfile, partOf, formatProfileSummary } = await import('../../bench/lib/cpuprofile.js');
  const cf = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber, columnNumber: 0 });
  const profile = {
    nodes: [
      { id: 1, callFrame: cf('(root)'), children: [2, 5, 6] },
      { id: 2, callFrame: cf('tick', 'file:///r/dist/src/attack/runner.js', 9), children: [3] },
      { id: 3, callFrame: cf('request', 'file:///r/node_modules/undici/lib/client.js', 99), children: [4] },
      { id: 4, callFrame: cf('tick', 'file:///r/dist/src/attack/runner.js', 9), children: [] }, // recursion
      { id: 5, callFrame: cf('(garbage collector)'), children: [] },
      { id: 6, callFrame: cf('(idle)'), children: [] },
    ],
    startTime: 0,
    endTime: 1000,
    // Each sample's time is the delta to the next one.
    samples: [2, 3, 4, 5, 6, 2],
    timeDeltas: [0, 100, 200, 300, 50, 350],
  };
  const s = summarizeCpuProfile(profile);
  const by = (name: string) => s.top.find((c) => c.frame.startsWith(name))!;
  assert.equal(s.totalUs, 1000);
  assert.equal(s.busyUs, 650); // 350 idle
  assert.equal(by('tick').self, 100 + 300); // node 2 (100) + node 4 (300); the last sample has no successor
  assert.equal(by('tick').cum, 100 + 200 + 300); // recursion counted once per sample
  assert.equal(by('request').self, 200);
  assert.equal(by('request').cum, 500);
  assert.equal(by('(garbage collector)').self, 50);
  assert.equal(by('tick').frame, 'tick dist/src/attack/runner.js:10');
  assert.ok(!s.top.some((c) => c.frame === '(idle)'));
  assert.deepEqual(s.parts.map((p) => p.part), ['tailprobe/attack', 'idle', 'undici', 'gc']);
  assert.match(formatProfileSummary(s, 'x'), /61\.5%\s+\d+ms\s+92\.3%  tick dist\/src\/attack\/runner\.js:10/);
  const late = summarizeCpuProfile(profile, 20, 250); // samples at t=0,100,300,... : the first two left out
  assert.equal(late.totalUs, 750);
  assert.equal(late.top.find((c) => c.frame.startsWith('tick'))!.self, 300);
  const req = late.top.find((c) => c.frame.startsWith('request'))!;
  assert.deepEqual([req.self, req.cum], [0, 300]); // only as the caller of the recursive tick
  assert.equal(partOf('node:internal/streams/writable', 'write'), 'node:streams');
  assert.equal(partOf('node:net', 'write'), 'node:net');
  assert.equal(partOf('file:///r/node_modules/@scope/pkg/x.js', 'f'), '@scope/pkg');
  assert.equal(partOf('file:///r/dist/src/results/writer.js', 'f'), 'tailprobe/results');
});

test('memory samples: a trajectory at evenly spaced points, in MiB', async () => {
  const { rssTrajectory } = await import('../../bench/lib/proc.js');
  const series: Array<[number, number]> = [];
  for (let t = 1000; t <= 30000; t += 1000) series.push([t, (100 + t / 1000) * 2 ** 20]);
  assert.equal(rssTrajectory(series, 30, 3), '10s 110 | 20s 120 | 30s 130');
  assert.equal(rssTrajectory([], 30), '');
});

test('CPU over the steady window, from process samples on the same clock', async () => {
  const { cpuCoresBetween } = await import('../../bench/lib/proc.js');
  const { steadyWindow } = await import('../../bench/lib/server-rate.js');
  // Start-up burns 0.8 CPU-s in the first second, then 0.5 cores steady.
  const samples = [0, 1000, 1500, 2000, 2500, 3000].map((at) => ({ t: at, rss: 1, at, cpu: at <= 1000 ? (0.8 * at) / 1000 : 0.8 + (0.5 * (at - 1000)) / 1000 }));
  assert.equal(cpuCoresBetween(samples, 1000, 3000), 0.5);
  assert.equal(cpuCoresBetween(samples, 900, 2100), 0.5); // nearest samples inside the window
  assert.ok(Number.isNaN(cpuCoresBetween(samples, 2900, 3000)), 'a window shorter than 200 ms is no figure');
  assert.ok(Number.isNaN(cpuCoresBetween([{ t: 0, rss: 1 }], 0, 1000)));
  const w = steadyWindow([
    { at: 0, requests: 0 },
    { at: 1000, requests: 100 },
    { at: 2000, requests: 200 },
    { at: 3000, requests: 300 },
    { at: 4000, requests: 350 },
  ], { skipMs: 1000 });
  assert.deepEqual(w, { start: { at: 1000, requests: 100 }, end: { at: 3000, requests: 300 } });
});

test('options: vegeta path, engine variants, the long memory run and the analysis sizes', async () => {
  const { loadAround } = await import('../../bench/lib/context.js');
  const full = optionsFrom([]);
  assert.equal(full.vegeta, '');
  assert.deepEqual(full.variants, []);
  assert.equal(full.analysisResults, 10_000_000);
  assert.equal(full.analysisSmallResults, 1_000_000);
  assert.ok(!full.suites.includes('analysis'), 'analysis runs only when asked for');
  assert.equal(optionsFrom(['-quick']).analysisResults, 1_000_000);
  assert.deepEqual(optionsFrom(['-suites=analysis']).suites, ['analysis']);
  assert.equal(optionsFrom(['-vegeta=/opt/vegeta']).vegeta, '/opt/vegeta');
  assert.deepEqual(optionsFrom(['-variants=TAILPROBE_METRONOME=0,TAILPROBE_METRONOME=0+TAILPROBE_HTTP1=undici']).variants, ['TAILPROBE_METRONOME=0', 'TAILPROBE_METRONOME=0+TAILPROBE_HTTP1=undici']);
  assert.throws(() => optionsFrom(['-variants=spin']), /invalid value "spin" for flag -variants/);
  const long = optionsFrom(['-memory-long']);
  assert.equal(long.memorySec, 1800);
  assert.equal(long.memoryCount, 1);
  assert.equal(optionsFrom(['-memory-long', '-memory-duration=2m']).memorySec, 120);

  const run = (tool: string, load: [number, number]) => ({ suite: 's', config: 'c', tool, rep: 0, ok: true, figures: {}, load });
  assert.equal(loadAround([run('a', [1.23, 2.5]), run('a', [0.9, 1.1]), run('b', [7, 7])], 'c', 'a'), '0.9..2.5');
  assert.equal(loadAround([run('b', [7, 7])], 'c', 'b'), '7.0');
  assert.equal(loadAround([], 'c', 'a'), 'n/a');
});

test('options: the fidelity suite runs one worker unless told otherwise', () => {
  assert.equal(optionsFrom([]).fidelityWorkers, 1);
  assert.equal(optionsFrom(['-fidelity-workers=2', '-rates=50000']).fidelityWorkers, 2);
});
