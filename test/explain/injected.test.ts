import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attack } from '../../src/attack/index.js';
import { constantPacer } from '../../src/pacer/index.js';
import { parseTargets } from '../../src/targets/index.js';
import { ClientRequests, explain, fetchCapture, type Explanation } from '../../src/explain/index.js';
import { wallClockNs } from '../../src/time/wall.js';
import { startInjected, type InjectedService } from './services.js';

/**
 * Ground truth: a service with one cause injected at known instants (test/explain/service-main.ts),
 * a constant-rate attack from this process, and explain on the agent's records. The slow requests
 * must be attributed to the injected cause (>= 90 %), hardly ever to a cause that was not injected
 * (< 10 %), and the slow requests must be the ones that met the injected windows.
 */
async function attackAndExplain(svc: InjectedService): Promise<{ e: Explanation; client: ClientRequests; windows: Array<[bigint, bigint]> }> {
  let client: ClientRequests | null = null;
  const run = await attack(
    { targets: parseTargets(`GET ${svc.url}/x\n`, 'http'), pacer: constantPacer(200), durationNs: 4e9, workers: 1, connections: 4 },
    (r) => (client ??= new ClientRequests(r.timestamp)).add(r),
  );
  const capture = await fetchCapture(svc.agent, run.info.startedAt - 1_000_000_000n, wallClockNs() + 1_000_000_000n);
  // Slow = above half the injected delay as the service measured it (its median window): what a
  // loaded machine adds by itself stays below that.
  const windows = await svc.truth();
  assert.ok(windows.length >= 5, `${windows.length} injected windows`);
  const lengths = windows.map(([a, b]) => Number(b - a)).sort((x, y) => x - y);
  const e = explain(client!, run.info, capture, { above: { latencyNs: lengths[lengths.length >> 1]! / 2 }, slowest: 1e9 });
  return { e, client: client!, windows };
}

/**
 * The claim, for the slow requests the generator sent on time (< 1 ms late): a loaded machine can
 * make the generator itself late, and then explain rightly says "generator"; that is the client's
 * own measurement, not the injected cause's.
 */
function check(e: Explanation, injected: (key: string) => boolean, windows: Array<[bigint, bigint]>): void {
  assert.equal(e.slowest.length, e.slow);
  assert.equal(e.matched, e.results, 'every request has its server record');
  const onTime = e.slowest.filter((s) => (s.parts.generator ?? 0) < 1e6);
  const causes = new Map<string, number>();
  for (const s of onTime) causes.set(s.cause, (causes.get(s.cause) ?? 0) + 1);
  const detail = `${JSON.stringify(Object.fromEntries(causes))} (of ${e.slow} slow, ${onTime.length} sent on time)`;
  assert.ok(onTime.length >= 10, detail);
  const right = onTime.filter((s) => injected(s.cause)).length;
  assert.ok(right / onTime.length >= 0.9, `injected cause for ${right}: ${detail}`);
  const wrongNamed = onTime.filter((s) => !injected(s.cause) && e.causes.find((c) => c.key === s.cause)?.named).length;
  assert.ok(wrongNamed / onTime.length < 0.1, `a cause not injected for ${wrongNamed}: ${detail}`);
  assert.ok(e.verdict.causes.some(injected), `verdict: ${e.verdict.text}`);
  // The slow requests are those that met an injected window (moved onto the generator's clock).
  const theta = BigInt(e.clock!.offsetNs);
  const met = onTime.filter((s) => windows.some(([a, b]) => s.intended + BigInt(Math.round(s.latencyNs)) >= a - theta && s.intended <= b - theta)).length;
  assert.ok(met / onTime.length >= 0.9, `${met} of ${onTime.length} slow requests overlap an injected window`);
}

test('explain: a service that stalls its event loop at known instants: the slow requests are put on the stalls', async () => {
  const svc = await startInjected('stall');
  try {
    const { e, windows } = await attackAndExplain(svc);
    check(e, (k) => k === 'stall', windows);
  } finally {
    await svc.close();
  }
});

test('explain: requests that wait on a tailprobe/sync Mutex held by a slow writer are put on that lock, with its call site', async () => {
  const svc = await startInjected('lock');
  try {
    const { e, windows } = await attackAndExplain(svc);
    check(e, (k) => k === 'lock:truth-lock', windows);
    assert.equal(e.lockSites[0]?.lock, 'truth-lock');
    assert.match(e.lockSites[0]?.site ?? '', /service-main\.js/);
  } finally {
    await svc.close();
  }
});

test('explain: a service that forces full GCs at known instants: the slow requests are put on the GC pauses', async () => {
  const svc = await startInjected('gc');
  try {
    const { e, windows } = await attackAndExplain(svc);
    check(e, (k) => k.startsWith('gc:'), windows);
  } finally {
    await svc.close();
  }
});
