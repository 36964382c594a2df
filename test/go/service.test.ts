import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { attack } from '../../src/attack/index.js';
import { constantPacer } from '../../src/pacer/index.js';
import { captureProfiles } from '../../src/profile/capture.js';
import { fetchAgentEvents } from '../../src/profile/events.js';
import { labelTotals } from '../../src/profile/top.js';
import type { Target } from '../../src/targets/index.js';
import { wallClockNs } from '../../src/time/wall.js';
import { REPO_ROOT, tempDir } from '../helpers/paths.js';
import { buildGoService, spawnAndWait, type RunningService } from '../profile/fixture-services.js';

/**
 * The Go companion package in a real Go service: examples/lookup-go (built here from go/ with the
 * system's Go), answering real HTTP on loopback. Requests carry W3C traceparent headers sent by
 * the test; the records read back over HTTP must carry the same ids, the GC timeline must show the
 * pauses the service's garbage causes, and a CPU profile taken under load (Go's own
 * net/http/pprof) must say which request each sample ran for.
 */

// Clock slack between this process's wall clock (timeOrigin + performance.now()) and Go's
// time.Now(): both are the host's wall clock, read at different moments.
const SLACK_NS = 100_000_000n;

interface RecordsJson {
  format: string;
  now: string;
  recordingSince: string;
  capacity: number;
  recorded: number;
  dropped: number;
  requests: Array<{ trace: string; parent: string; start: string; end: string; method: string; path: string; status: number; bytes: number; waits?: unknown }>;
}
interface GcJson {
  now: string;
  recordingSince: string;
  dropped: number;
  missed: number;
  count: number;
  totalNs: number;
  maxNs: number;
  pauses: Array<{ start: string; duration: number; kind: string }>;
}

function traceparent(): { header: string; trace: string; parent: string } {
  const trace = randomBytes(16).toString('hex');
  const parent = randomBytes(8).toString('hex');
  return { header: `00-${trace}-${parent}-01`, trace, parent };
}

async function getJson<T>(url: string): Promise<{ status: number; headers: Headers; body: T }> {
  const res = await fetch(url);
  return { status: res.status, headers: res.headers, body: (await res.json()) as T };
}

describe('the Go companion package in a real Go service (examples/lookup-go)', () => {
  let service: RunningService | null = null;
  let setup: Promise<RunningService> | null = null;
  const dirs: string[] = [];
  after(async () => {
    await service?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** Builds and starts the service once; null when Go is missing (skipped, loudly in CI). */
  async function ready(t: TestContext): Promise<RunningService | null> {
    const built = setup ? null : buildGoService(t, join(REPO_ROOT, 'examples', 'lookup-go'));
    if (!setup) {
      if (!built) return null;
      dirs.push(built.dir);
      setup = spawnAndWait(built.binary, ['-addr=127.0.0.1:0', '-entries=20000', '-refresh=0', '-exit-after=120s'], {
        pattern: /lookup ready url=(\S+)/,
      }).then((r) => (service = r.service));
    }
    return setup;
  }

  it('records every request with the trace id and parent span id the client sent', async (t) => {
    const svc = await ready(t);
    if (!svc) return;
    const before = wallClockNs();
    const sent: Array<{ trace: string; parent: string; key: string; bytes: number }> = [];
    for (let i = 0; i < 20; i++) {
      const tp = traceparent();
      const key = `k${String(i * 37 + 1).padStart(7, '0')}`;
      const res = await fetch(`${svc.url}/api/lookup?key=${key}`, { headers: { traceparent: tp.header } });
      const body = await res.arrayBuffer();
      assert.equal(res.status, 200);
      sent.push({ trace: tp.trace, parent: tp.parent, key, bytes: body.byteLength });
    }
    await (await fetch(`${svc.url}/api/lookup?key=nope`, { headers: { traceparent: 'not-a-traceparent' } })).arrayBuffer();
    await (await fetch(`${svc.url}/api/lookup?key=k0000002`)).arrayBuffer();
    const afterNs = wallClockNs();

    const { status, headers, body } = await getJson<RecordsJson>(`${svc.url}/debug/tailprobe/requests?since=${before - SLACK_NS}`);
    assert.equal(status, 200);
    assert.match(headers.get('x-tailprobe-agent') ?? '', /^go\/\d+\.\d+\.\d+/);
    assert.equal(headers.get('content-type'), 'application/json');
    assert.equal(body.format, 'tailprobe-records/1');
    assert.equal(body.capacity, 100_000);
    assert.equal(body.dropped, 0);
    assert.ok(BigInt(body.recordingSince) < before + SLACK_NS, 'recording started before the requests (within the slack between the two clocks)');
    const recs = body.requests;
    assert.equal(recs.length, 22, JSON.stringify(recs.map((r) => r.path)));
    for (const [i, s] of sent.entries()) {
      const r = recs[i]!;
      assert.deepEqual(
        { trace: r.trace, parent: r.parent, method: r.method, path: r.path, status: r.status, bytes: r.bytes },
        { trace: s.trace, parent: s.parent, method: 'GET', path: `/api/lookup?key=${s.key}`, status: 200, bytes: s.bytes },
      );
      assert.equal(r.waits, undefined, 'Go has no per-request lock waits: the field is absent');
    }
    assert.deepEqual([recs[20]!.trace, recs[20]!.parent, recs[20]!.status], ['', '', 404]);
    assert.deepEqual([recs[21]!.trace, recs[21]!.status], ['', 200]);
    // Wall-clock ns (not Go's monotonic reading), in order, inside the test's window.
    for (const r of recs) {
      const s = BigInt(r.start);
      const e = BigInt(r.end);
      assert.ok(s >= before - SLACK_NS && e <= afterNs + SLACK_NS && s <= e, `${r.start}..${r.end} outside ${before}..${afterNs}`);
    }
    for (let i = 1; i < recs.length; i++) assert.ok(BigInt(recs[i]!.start) >= BigInt(recs[i - 1]!.end), 'sequential requests do not overlap');

    // A window after them is empty; a Host that is not loopback is refused without a token.
    const later = await getJson<RecordsJson>(`${svc.url}/debug/tailprobe/requests?since=${afterNs + 10n ** 9n}`);
    assert.equal(later.body.requests.length, 0);
    const rebound = spawnSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'Host: evil.example', `${svc.url}/debug/tailprobe/requests`], { encoding: 'utf8' });
    if (rebound.status === 0) assert.equal(rebound.stdout, '403');
  });

  it('puts the GC pauses of a service made to allocate on the timeline, with wall-clock times', async (t) => {
    const svc = await ready(t);
    if (!svc) return;
    const before = wallClockNs();
    // Each response gets a fresh 512 KiB buffer (the service's fault): 300 requests are 150 MB of
    // garbage, several collections of its ~30 MB heap.
    for (let round = 0; round < 30; round++) {
      await Promise.all(
        Array.from({ length: 10 }, (_, i) => fetch(`${svc.url}/api/lookup?key=k${String(round * 10 + i + 3).padStart(7, '0')}`).then((r) => r.arrayBuffer())),
      );
    }
    const afterNs = wallClockNs();
    const { status, headers, body } = await getJson<GcJson>(`${svc.url}/debug/tailprobe/gc?since=${before}&until=${afterNs}`);
    assert.equal(status, 200);
    assert.match(headers.get('x-tailprobe-agent') ?? '', /^go\//);
    assert.ok(body.count >= 2, `expected collections, got ${JSON.stringify(body)}`);
    assert.equal(body.pauses.length, body.count);
    assert.equal(body.missed, 0);
    assert.equal(body.totalNs, body.pauses.reduce((s, p) => s + p.duration, 0));
    assert.equal(body.maxNs, Math.max(...body.pauses.map((p) => p.duration)));
    for (const p of body.pauses) {
      assert.equal(p.kind, 'stop-the-world');
      assert.ok(p.duration > 0 && p.duration < 1e9, `duration ${p.duration}`);
      const s = BigInt(p.start);
      assert.ok(s + BigInt(p.duration) >= before - SLACK_NS && s <= afterNs + SLACK_NS, `pause at ${p.start} outside ${before}..${afterNs}`);
    }
    // The runtime's own view: scheduling latency and pause histograms, the GC's CPU share.
    const rt = await getJson<{ gcCPUFraction: number; numGC: number; schedLatency: { count: number; p99Ns: number; maxNs: number } | null; gcPauses: { count: number } | null }>(
      `${svc.url}/debug/tailprobe/runtime`,
    );
    assert.ok(rt.body.gcCPUFraction > 0 && rt.body.gcCPUFraction < 1);
    assert.ok(rt.body.numGC >= body.count);
    assert.ok(rt.body.schedLatency && rt.body.schedLatency.count > 0 && rt.body.schedLatency.p99Ns <= rt.body.schedLatency.maxNs);
    assert.ok(rt.body.gcPauses && rt.body.gcPauses.count > 0);
    // Go has no event loop: 404, as the format says; the demo's event reader takes that as no stalls.
    assert.equal((await fetch(`${svc.url}/debug/tailprobe/eventloop`)).status, 404);
    const events = await fetchAgentEvents(svc.url, before, afterNs);
    assert.deepEqual(
      events.map((e) => [e.kind, e.start, e.duration, e.detail]),
      body.pauses.map((p) => ['gc', BigInt(p.start), p.duration, 'stop-the-world']),
    );
  });

  it('labels CPU samples taken under load with the trace id of the request they ran for', async (t) => {
    const svc = await ready(t);
    if (!svc) return;
    const go = buildGoService(t); // the Go binary for `go tool pprof` (and one more real build)
    if (!go) return;
    dirs.push(go.dir);
    const traces = new Set<string>();
    const targets: Target[] = [];
    for (let i = 0; i < 400; i++) {
      const tp = traceparent();
      traces.add(tp.trace);
      // Every 10th a popular entry (every 400th key): CPU-heavy reads the profiler cannot miss.
      const key = i % 10 === 0 ? `k${String((i % 40) * 400).padStart(7, '0')}` : `k${String(i * 41 + 5).padStart(7, '0')}`;
      targets.push({ method: 'GET', url: `${svc.url}/api/lookup?key=${key}`, headers: { traceparent: [tp.header] }, body: null });
    }
    const stop = new AbortController();
    const load = attack({ targets, pacer: constantPacer(150), durationNs: 30e9, timeoutNs: 10e9, name: 'go-labels', signal: stop.signal });
    const outDir = tempDir('tailprobe-go-labels-');
    dirs.push(outDir);
    let captured;
    try {
      await new Promise((r) => setTimeout(r, 300));
      captured = await captureProfiles({ url: svc.url, types: ['cpu'], seconds: 2, outDir });
    } finally {
      stop.abort();
    }
    const run = await load;
    assert.ok(run.metrics.success > 0.99, `load succeeded (${run.metrics.success})`);
    const cpu = captured[0]!;
    const labels = labelTotals(cpu.profile, 'tailprobe_trace_id');
    assert.ok(labels.length >= 3, `labelled samples for several requests, got ${labels.length}`);
    for (const l of labels) assert.ok(traces.has(l.value), `label ${l.value} is a trace id the test sent`);
    // go tool pprof reads the same labels.
    const tags = spawnSync(go.go, ['tool', 'pprof', '-tags', cpu.file], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, HOME: go.dir } });
    assert.equal(tags.status, 0, tags.stderr);
    assert.match(tags.stdout, /tailprobe_trace_id: Total/);
    assert.ok(labels.some((l) => tags.stdout.includes(l.value)), 'go tool pprof -tags lists a trace id');
  });
});
