import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { listen } from '../helpers/servers.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';

/**
 * The knee of a real loopback service whose capacity queueing theory gives exactly: one request at
 * a time, a fixed 10 ms service time, so 100 req/s. Service is scheduled on a virtual clock (each
 * request's completion = max(arrival, previous completion) + 10 ms, answered by a timer), so the
 * server is not CPU-bound and timer jitter or a descheduled process cannot lower its capacity: it is
 * 100 req/s on a busy shared machine too.
 *
 * With constant-rate arrivals (a D/D/1 queue) latency stays near 10 ms below capacity; above it the
 * queue grows by (rate/capacity - 1) seconds of waiting per second, so at 110 req/s the p99 of a
 * 1 s warm-up + 3 s step is ~400 ms, at 120 req/s ~800 ms. An SLO of p99<300ms therefore holds up
 * to 100 req/s and breaks just above, with room for the stalls of a loaded machine (~100 ms) below.
 */
const SERVICE_MS = 10;
const CAPACITY = 1000 / SERVICE_MS;

test('sweep finds the knee of a real 100 req/s service within 10 %', { timeout: 90_000 }, async () => {
  let free = 0;
  const server = await listen((_req, res) => {
    const now = performance.now();
    free = Math.max(now, free) + SERVICE_MS;
    setTimeout(() => res.end('ok'), free - now);
  });
  const dir = tempDir('tailprobe-sweep-');
  try {
    const r = await runCli(
      ['sweep', '-rates=60:160:10', '-step-duration=3s', '-warmup=1s', '-slo=p99<300ms', `-out=${dir}`, '-json'],
      { input: `GET ${server.url}/\n`, timeoutMs: 85_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout.toString());
    const table = doc.steps.map((s: { rate: number; p99: number; pass: boolean }) => `${s.rate}/s p99=${(s.p99 / 1e6).toFixed(1)}ms ${s.pass ? 'pass' : 'FAIL'}`).join('\n');
    process.stderr.write(`${table}\nknee ${doc.knee} latencyKnee ${doc.latencyKnee} stopped: ${doc.stopped}\n`);
    assert.ok(Math.abs(doc.knee - CAPACITY) / CAPACITY <= 0.1, `SLO knee ${doc.knee} req/s, capacity ${CAPACITY}\n${table}`);
    assert.ok(Math.abs(doc.latencyKnee - CAPACITY) / CAPACITY <= 0.1, `latency knee ${doc.latencyKnee} req/s\n${table}`);
    // It stopped soon after the cliff instead of hammering up to 160 req/s.
    assert.ok(doc.stopped, 'stopped early');
    assert.ok(doc.steps.at(-1).rate <= 140, `last step ${doc.steps.at(-1).rate}`);
    // Above capacity the tail explodes; below it stays near the service time.
    const at = (rate: number) => doc.steps.find((s: { rate: number }) => s.rate === rate);
    const over = at(130) ?? at(120);
    assert.ok(over.p99 > 500e6, `p99 at ${over.rate}/s: ${over.p99} ns`);
    assert.ok(at(90).p99 < 300e6 || at(100).p99 < 300e6);
    // Every step's results and sweep.json are on disk, and sweep.json is what -json printed.
    const files = readdirSync(dir);
    assert.equal(files.filter((f) => f.endsWith('.bin')).length, doc.steps.length);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8')), doc);
    // Step files are ordinary results: compare proves the tail broke between 60 and 120 req/s.
    const text = await runCli(['compare', join(dir, files.find((f) => f.includes('-60rps'))!), join(dir, files.find((f) => f.includes('-120rps'))!)]);
    assert.match(text.stdout.toString(), /^p99 .* regressed$/m);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
