import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';
import { listen } from '../helpers/servers.js';
import { libfaketimeCandidates, requireTool } from '../helpers/tools.js';
import { startInjected } from './services.js';

/** Attacks `url` through the CLI into dir/name.bin and runs explain on it with the agent; the JSON back. */
async function attackThenExplain(dir: string, name: string, url: string, agent: string) {
  const file = join(dir, `${name}.bin`);
  const a = await runCli(['attack', '-rate=200', '-duration=2s', `-output=${file}`], { input: `GET ${url}/x\n` });
  assert.equal(a.code, 0, a.stderr);
  const e = await runCli(['explain', file, `-agent=${agent}`, '-json', '-above=p90']);
  assert.equal(e.code, 0, e.stderr);
  return { file, json: JSON.parse(e.stdout.toString()) as { clock: { offsetNs: number; uncertaintyNs: number; consistent: boolean }; matched: number; results: number } };
}

/** `attack -explain` against `svc` into dir/r.bin, the agent's capture saved to dir/cap.json. */
async function attackWithCapture(dir: string, svc: { url: string; agent: string }, flags: string[]) {
  const file = join(dir, 'r.bin');
  const cap = join(dir, 'cap.json');
  const a = await runCli(['attack', ...flags, `-output=${file}`, `-explain=${svc.agent}`, `-explain-capture=${cap}`], { input: `GET ${svc.url}/x\n` });
  assert.equal(a.code, 0, a.stderr);
  return { file, cap, stderr: a.stderr };
}

test('explain estimates the clock offset of an agent whose clock is off by a known amount (libfaketime), within the uncertainty it prints', async (t) => {
  const lib = requireTool(t, 'libfaketime', libfaketimeCandidates(), 'libfaketime');
  if (!lib) return;
  const dir = tempDir();
  const plain = await startInjected('none');
  // The service's wall clock 2.5 s ahead of this machine's; its monotonic clock untouched.
  const skewed = await startInjected('none', { LD_PRELOAD: lib, FAKETIME: '+2.5s', DONT_FAKE_MONOTONIC: '1' }).catch(async (err: unknown) => {
    await plain.close(); // started already: its child would keep this test file's process alive
    throw err;
  });
  try {
    const a = (await attackThenExplain(dir, 'plain', plain.url, plain.agent)).json;
    const b = (await attackThenExplain(dir, 'skewed', skewed.url, skewed.agent)).json;
    for (const j of [a, b]) {
      assert.equal(j.matched, j.results);
      assert.equal(j.clock.consistent, true);
    }
    // The same machine: the plain agent's offset is within its uncertainty of zero-ish (whatever
    // the two processes' clock origins disagree by), and the skewed one is 2.5 s more.
    const shift = b.clock.offsetNs - a.clock.offsetNs;
    const allowed = a.clock.uncertaintyNs + b.clock.uncertaintyNs + 1e6;
    assert.ok(Math.abs(shift - 2.5e9) <= allowed, `estimated shift ${shift} ns, want 2.5e9 ± ${allowed}`);
    assert.ok(b.clock.uncertaintyNs < 50e6, `uncertainty ${b.clock.uncertaintyNs}`);
    // The text says it too.
    const text = await runCli(['explain', join(dir, 'skewed.bin'), `-agent=${skewed.agent}`]);
    assert.match(text.stdout.toString(), /clock: agent - generator = \+2\.(5|49)\d*s ± /);
  } finally {
    await plain.close();
    await skewed.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('explain: bad input is one line and a non-zero exit, nothing half-printed', async () => {
  const dir = tempDir();
  const svc = await startInjected('none');
  const notAgent = await listen((_req, res) => res.end('hello'));
  try {
    const { file } = await attackThenExplain(dir, 'r', svc.url, svc.agent);
    // Results without request ids (vegeta's JSON carries none).
    const enc = await runCli(['encode', '-to=json', file]);
    const vegeta = join(dir, 'r.json');
    writeFileSync(vegeta, enc.stdout);
    const cases: Array<[string[], number, RegExp]> = [
      [['explain', vegeta, `-agent=${svc.agent}`], 2, /no run info .*vegeta json file.*attack id/],
      [['explain', file, `-agent=${notAgent.url}`], 1, /not a tailprobe agent/],
      [['explain', file, '-agent=http://127.0.0.1:1'], 1, /127\.0\.0\.1:1/],
      [['explain', file, '-above=slow'], 2, /-above: want a percentile/],
      [['explain', file, `-agent=${svc.agent}`, '-capture=x.json'], 2, /not both/],
      [['explain', join(dir, 'missing.bin')], 1, /missing\.bin/],
      [['explain'], 2, /need a results file/],
    ];
    for (const [args, code, msg] of cases) {
      const r = await runCli(args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `one line: ${r.stderr}`);
      assert.match(lines[0]!, /^tailprobe: /);
      assert.match(lines[0]!, msg);
      assert.equal(r.stdout.length, 0, `nothing printed: ${r.stdout}`);
    }
    // Records that do not overlap the results: a capture of another attack's window.
    const other = await runCli(['attack', '-rate=100', '-duration=500ms', `-output=${join(dir, 'o.bin')}`], { input: `GET ${svc.url}/y\n` });
    assert.equal(other.code, 0, other.stderr);
    const cap = join(dir, 'cap.json');
    const saved = await runCli(['explain', join(dir, 'o.bin'), `-agent=${svc.agent}`, `-save-capture=${cap}`]);
    assert.equal(saved.code, 0, saved.stderr);
    const { readCapture, writeCapture } = await import('../../src/explain/index.js');
    const c = await readCapture(cap);
    await writeCapture(cap, { ...c, requests: c.requests!.filter((r) => !r.path.startsWith('/x')).slice(0, 10) });
    const mismatch = await runCli(['explain', file, `-capture=${cap}`]);
    assert.equal(mismatch.code, 1, mismatch.stderr);
    assert.match(mismatch.stderr, /^tailprobe: .*name none of this attack's requests/);
    assert.equal(mismatch.stdout.length, 0);
  } finally {
    await svc.close();
    await notAgent.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('attack -explain captures the agent during the load (CPU samples included) and explains the run; explain -capture reads it back later', async () => {
  const dir = tempDir();
  const svc = await startInjected('lock');
  try {
    const { file, cap, stderr } = await attackWithCapture(dir, svc, ['-rate=200', '-duration=3s']);
    assert.match(stderr, /explain: the agent's records -> .*cap\.json \(\d+ requests, \d+ GC pauses, \d+ CPU samples\)/);
    // The run is explained right away (at p99: on a busy machine its top may be the machine's own).
    assert.match(stderr, /explain: \d+ of 600 requests at or above p99 .*\n.*server records: 600 of 600 requests matched/);
    assert.match(stderr, /\n(The tail is|No mechanism dominates)/);
    const later = await runCli(['explain', file, `-capture=${cap}`, '-above=60ms']);
    assert.equal(later.code, 0, later.stderr);
    const text = later.stdout.toString();
    assert.match(text, /The tail is lock "truth-lock" wait/);
    assert.match(text, /On CPU while slow requests were handled \(\d+ of \d+ samples\)/);
    assert.match(text, /Lock waits of the slow requests, by call site:\n.*\ntruth-lock +write +\d+ +[\d.]+m?s +.*service-main\.js/);
    // With the results on stdout, the capture is kept and the way to use it said.
    const piped = await runCli(['attack', '-rate=100', '-duration=500ms', `-explain=${svc.agent}`, `-explain-capture=${cap}`], { input: `GET ${svc.url}/x\n` });
    assert.equal(piped.code, 0, piped.stderr);
    assert.match(piped.stderr, /explain them with: tailprobe explain RESULTS -capture=/);
  } finally {
    await svc.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('requests the client timed out waiting on a lock are explained: their server records end at the close, marked aborted, the lock named', async () => {
  const dir = tempDir();
  const svc = await startInjected('lock');
  try {
    // The writer holds the lock 120 ms every 400 ms: requests arriving then wait past a 50 ms timeout.
    const { file, cap } = await attackWithCapture(dir, svc, ['-rate=100', '-duration=3s', '-timeout=50ms']);
    const e = await runCli(['explain', file, `-capture=${cap}`, '-above=45ms', '-json']);
    assert.equal(e.code, 0, e.stderr);
    const j = JSON.parse(e.stdout.toString()) as { slow: number; matched: number; results: number; abortedSlow: number; causes: Array<{ key: string; requests: number }> };
    assert.equal(j.matched, j.results, 'every request has its record, the timed-out ones too');
    assert.ok(j.abortedSlow > 0 && j.abortedSlow <= j.slow, `${j.abortedSlow} aborted of ${j.slow} slow`);
    assert.equal(j.causes[0]?.key, 'lock:truth-lock', JSON.stringify(j.causes));
    const text = await runCli(['explain', file, `-capture=${cap}`, '-above=45ms']);
    assert.match(text.stdout.toString(), /clients gave up on \d+ of the slow requests before the response finished/);
  } finally {
    await svc.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('explain of a Node agent started without lock waits says it has none, not that it is Go', async () => {
  const dir = tempDir();
  const svc = await startInjected('lock', { TAILPROBE_AGENT_LOCK_WAITS: 'off' });
  try {
    const j = (await attackThenExplain(dir, 'r', svc.url, svc.agent)).json as unknown as { limits: string[] };
    assert.match(j.limits.join('\n'), /records no lock waits \(started with lockWaits: false or TAILPROBE_AGENT_LOCK_WAITS=off\)/);
    assert.doesNotMatch(j.limits.join('\n'), /block and mutex/);
  } finally {
    await svc.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
