import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { attack } from '../../src/attack/index.js';
import { countBefore } from '../../src/pacer/pacer.js';
import { constantPacer } from '../../src/pacer/index.js';
import { readMetrics } from '../../src/metrics/index.js';
import { parseTargets } from '../../src/targets/index.js';
import { isSuccess, type Result } from '../../src/results/result.js';
import { runCli } from '../helpers/cli.js';
import { CLI, REPO_ROOT, tempDir } from '../helpers/paths.js';
import { listen } from '../helpers/servers.js';
import { findTool } from '../helpers/tools.js';

/**
 * Overload, absurd flags and signals (issue 17): the backlog of requests the generator cannot send
 * is a count, never a queue in memory; the attack ends at -duration plus the drain; Ctrl-C stops
 * promptly and says what it waits for. Real servers on loopback; loads bounded to a second or two.
 */

test('asked for far more than it can send: at most -max-in-flight in flight, nothing sent after -duration, the rest counted', { timeout: 60_000 }, async () => {
  const srv = await listen((_req, res) => res.end('ok'));
  try {
    const pacer = constantPacer(1_000_000);
    const durationNs = 1e9;
    const results: Result[] = [];
    const t0 = performance.now();
    const out = await attack(
      { targets: parseTargets(`GET ${srv.url}/\n`, 'http'), pacer, durationNs, workers: 1, maxInFlight: 50 },
      (r) => results.push(r),
    );
    const elapsedMs = performance.now() - t0;
    const h = out.health;
    const planned = countBefore(pacer, durationNs);
    const sent = results.length;
    assert.ok(sent > 0, 'some requests were sent');
    assert.equal(h.ended, 'completed');
    assert.equal(h.inFlightCap, 50);
    assert.ok(h.peakInFlight! <= 50, `peak in flight ${h.peakInFlight} within the cap`);
    // What was not sent is counted, not queued: planned = sent + unsent, and the backlog is overdue.
    assert.equal(h.unsent, planned - sent);
    assert.ok(h.overdue! > 0 && h.overdue! <= h.unsent, `overdue ${h.overdue} of unsent ${h.unsent}`);
    // The requests sent are the first of the schedule (in order), each timed from its own due time.
    const seqs = results.map((r) => r.seq).sort((a, b) => a - b);
    assert.deepEqual(seqs.slice(0, 3), [0, 1, 2]);
    assert.equal(seqs.at(-1), sent - 1, 'no gaps: the backlog goes out oldest first');
    assert.ok(results.every(isSuccess));
    // A loose bound a loaded box keeps: before, the backlog went out after -duration (ran 2.5x long).
    assert.ok(elapsedMs < 15_000, `ended at -duration plus the drain, not after the backlog (${elapsedMs.toFixed(0)} ms)`);
  } finally {
    await srv.close();
  }
});

test('the report says how many requests were due but never sent, and why', { timeout: 60_000 }, async () => {
  const srv = await listen((_req, res) => res.end('ok'));
  const dir = tempDir('tailprobe-overload-');
  try {
    const file = join(dir, 'r.bin');
    const a = await runCli(['attack', '-rate=200000', '-duration=500ms', '-max-in-flight=20', `-output=${file}`], { input: `GET ${srv.url}/\n`, timeoutMs: 40_000 });
    assert.equal(a.code, 0, a.stderr);
    const { sources } = await readMetrics([file]);
    const h = sources[0]!.meta.health!;
    assert.ok(h.overdue! > 0);
    const r = await runCli(['report', file], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.toString(), new RegExp(`Warning: ${h.overdue} requests were due but never sent: the generator had as many requests in flight as it may \\(20 at once, the -max-in-flight cap\\)`));
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Starts `tailprobe attack` on a target that never answers; resolves once the run has begun. */
async function hangingAttack(url: string, out: string, ...flags: string[]) {
  const duration = flags.some((f) => f.startsWith('-duration=')) ? [] : ['-duration=0'];
  const child = spawn(process.execPath, [CLI, 'attack', '-rate=50', ...duration, `-output=${out}`, ...flags], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(`GET ${url}/\n`);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  // The run info is written when the clock starts; give the schedule half a second of requests.
  const t0 = Date.now();
  while (Date.now() - t0 < 20_000) {
    await new Promise((r) => setTimeout(r, 50));
    try {
      if (statSync(out).size > 0) break;
    } catch {
      /* not yet */
    }
  }
  await new Promise((r) => setTimeout(r, 500));
  return { child, exited, stderr: () => stderr };
}

test('Ctrl-C against a hanging target: says what it waits for, waits -drain (not -timeout), records the rest as interrupted', { timeout: 60_000 }, async () => {
  const srv = await listen(() => {
    /* never answers */
  });
  const dir = tempDir('tailprobe-drain-');
  try {
    const out = join(dir, 'r.bin');
    const run = await hangingAttack(srv.url, out, '-drain=1s', '-timeout=30s');
    const t0 = Date.now();
    run.child.kill('SIGINT');
    const code = await run.exited;
    const waitedMs = Date.now() - t0;
    assert.equal(code, 0, run.stderr());
    assert.match(run.stderr(), /tailprobe: attack: stopping: waiting up to 1s for the requests in flight \(interrupt again to stop now\)/);
    assert.ok(waitedMs >= 900, `waited the drain (${waitedMs} ms)`);
    assert.ok(waitedMs < 20_000, `not the 30 s timeout (${waitedMs} ms)`);
    const { metrics, sources } = await readMetrics([out]);
    assert.ok(metrics.requests > 5, `${metrics.requests} results`);
    assert.deepEqual([...metrics.errors.keys()], ['interrupted: still in flight at the end of the drain']);
    assert.equal(sources[0]!.meta.health?.ended, 'interrupted');
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Ctrl-C after the schedule ended by itself, while its last requests hang: the drain applies too', { timeout: 60_000 }, async () => {
  const srv = await listen(() => {
    /* never answers */
  });
  const dir = tempDir('tailprobe-drain-');
  try {
    const out = join(dir, 'r.bin');
    const run = await hangingAttack(srv.url, out, '-duration=300ms', '-drain=1s', '-timeout=30s');
    await new Promise((r) => setTimeout(r, 500)); // the schedule is over; 15 requests hang
    const t0 = Date.now();
    run.child.kill('SIGINT');
    const code = await run.exited;
    const waitedMs = Date.now() - t0;
    assert.equal(code, 0, run.stderr());
    assert.match(run.stderr(), /waiting up to 1s for the requests in flight/);
    assert.ok(waitedMs >= 900, `waited the drain (${waitedMs} ms)`);
    assert.ok(waitedMs < 20_000, `not the 30 s timeout (${waitedMs} ms)`);
    const { metrics } = await readMetrics([out]);
    assert.equal(metrics.requests, 15);
    assert.deepEqual([...metrics.errors.keys()], ['interrupted: still in flight at the end of the drain']);
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a second Ctrl-C stops at once and still writes the health record', { timeout: 60_000 }, async () => {
  const srv = await listen(() => {
    /* never answers */
  });
  const dir = tempDir('tailprobe-drain-');
  try {
    const out = join(dir, 'r.bin');
    const run = await hangingAttack(srv.url, out, '-drain=60s', '-timeout=60s');
    const t0 = Date.now();
    run.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 300));
    run.child.kill('SIGINT');
    const code = await run.exited;
    assert.ok(Date.now() - t0 < 20_000, 'did not wait for the 60 s drain');
    assert.equal(code, 0, run.stderr());
    assert.match(run.stderr(), /stopping now: requests still in flight are recorded as interrupted/);
    const { metrics, sources } = await readMetrics([out]);
    assert.equal(sources[0]!.truncatedBytes, 0);
    const h = sources[0]!.meta.health;
    assert.ok(h, 'the health record is at the end of the file');
    assert.equal(h.ended, 'interrupted');
    assert.ok(metrics.requests > 5);
    assert.deepEqual([...metrics.errors.keys()], ['interrupted: still in flight at the end of the drain']);
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('absurd sizes are refused with one line before anything starts: workers, connections, rate', { timeout: 60_000 }, async () => {
  const cases: Array<[string[], RegExp]> = [
    [['-workers=999'], /^tailprobe: -workers=999: this machine has \d+ cores?; more than \d+ workers only compete for them \(at most \d+\)\n$/],
    [['-connections=99999999'], /^tailprobe: -connections=99999999 is more than this process can open \(open-file limit \d+, ulimit -n; \d+ local ports per host\): at most \d+\n$/],
    [['-rate=99999999999999999999'], /^tailprobe: rate "99999999999999999999" is more than one request per nanosecond, the schedule's grain \(at most 1000000000\/1s\)\n$/],
    [['-max-in-flight=-1'], /^tailprobe: -max-in-flight must be an integer >= 0 \(got -1\)\n$/],
  ];
  for (const [flags, re] of cases) {
    const t0 = Date.now();
    const r = await runCli(['attack', '-duration=1s', ...flags], { input: 'GET http://127.0.0.1:1/\n', timeoutMs: 30_000 });
    assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stdout.length, 0);
    assert.ok(Date.now() - t0 < 20_000);
  }
});

test('a non-2xx response carries its status as the error, as vegeta records it', { timeout: 60_000 }, async () => {
  const srv = await listen((req, res) => {
    res.statusCode = req.url === '/missing' ? 404 : req.url === '/broken' ? 503 : 200;
    res.end('x');
  });
  try {
    const results: Result[] = [];
    const targets = parseTargets(`GET ${srv.url}/missing\n\nGET ${srv.url}/broken\n\nGET ${srv.url}/ok\n`, 'http');
    const out = await attack({ targets, pacer: constantPacer(60), durationNs: 500e6, workers: 1 }, (r) => results.push(r));
    const byUrl = (p: string) => results.filter((r) => r.url.endsWith(p));
    for (const r of byUrl('/missing')) assert.deepEqual([r.code, r.error, isSuccess(r)], [404, '404 Not Found', false]);
    for (const r of byUrl('/broken')) assert.deepEqual([r.code, r.error, isSuccess(r)], [503, '503 Service Unavailable', false]);
    for (const r of byUrl('/ok')) assert.deepEqual([r.code, r.error, isSuccess(r)], [200, '', true]);
    assert.deepEqual([...out.metrics.errors.keys()].sort(), ['404 Not Found', '503 Service Unavailable']);

    // The same text vegeta itself writes, when the reference binary is here (an extra check).
    const vegeta = findTool('vegeta', [join(REPO_ROOT, '..', 'shared', 'tools', 'vegeta'), join(REPO_ROOT, '..', '..', 'shared', 'tools', 'vegeta')]);
    if (!vegeta) {
      process.stderr.write('\n*** vegeta not found: the side-by-side check with vegeta\'s own error text is skipped\n');
      return;
    }
    const dir = tempDir('tailprobe-vegeta-');
    try {
      const bin = join(dir, 'v.gob');
      // Asynchronously: the server answers on this test's event loop.
      const tf = join(dir, 't.txt');
      writeFileSync(tf, `GET ${srv.url}/missing\n`);
      await promisify(execFile)(vegeta, ['attack', '-rate=10', '-duration=300ms', `-targets=${tf}`, `-output=${bin}`], { timeout: 20_000 });
      const e = await promisify(execFile)(vegeta, ['encode', '-to=json', bin], { timeout: 20_000 });
      const first = JSON.parse(e.stdout.split('\n')[0]!) as { code: number; error: string };
      assert.deepEqual([first.code, first.error], [404, '404 Not Found']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    await srv.close();
  }
});

test('a results file without its health record: late sends are not blamed on the generator', { timeout: 60_000 }, async () => {
  const srv = await listen((_req, res) => setTimeout(() => res.end('ok'), 30));
  const dir = tempDir('tailprobe-nohealth-');
  try {
    const file = join(dir, 'r.bin');
    // One connection that the target holds 30 ms at 100 req/s: requests wait for it, and leave late.
    const a = await runCli(['attack', '-rate=100', '-duration=1s', '-connections=1', '-max-connections=1', `-output=${file}`], { input: `GET ${srv.url}/\n`, timeoutMs: 40_000 });
    assert.equal(a.code, 0, a.stderr);
    // Cut the file before its end record, as a killed attack leaves it.
    const whole = readFileSync(file);
    const { sources } = await readMetrics([file]);
    assert.ok(sources[0]!.meta.health);
    const cut = join(dir, 'cut.bin');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * 0.8)));
    const r = await runCli(['report', cut], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    const text = r.stdout.toString();
    assert.doesNotMatch(text, /bottleneck/);
    assert.match(text, /whether the generator or the target held them up is unknown: the results carry no generator health record/);
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
