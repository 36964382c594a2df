import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attack } from '../../src/attack/index.js';
import { constantPacer } from '../../src/pacer/index.js';
import { parseTargets } from '../../src/targets/index.js';
import { spawnServer } from './servers.js';

/**
 * The reason tailprobe exists. A server that freezes its event loop for S = 500 ms every P = 2 s
 * (a GC pause, a synchronous hot loop), attacked at 500 req/s for 7 s:
 *  - an open-model client keeps sending during the freeze; a quarter of all requests land in one
 *    and wait out the rest of it: p90 ~ 300 ms, p99 ~ 480 ms;
 *  - a closed-loop client (wrk, autocannon) has only its few connections stuck per freeze and
 *    fills the rest of the time with fast requests: p90 ~ 1 ms. Coordinated omission.
 * Bounds are loose on purpose (the machine is shared); the gap between the two is the point.
 */
test('open model sees the freeze tail that a closed loop hides', { timeout: 60_000 }, async () => {
  const srv = await spawnServer('freeze', '500', '2000');
  try {
    const targets = parseTargets(`GET ${srv.url}/\n`, 'http');
    const open = await attack({ targets, pacer: constantPacer(500), durationNs: 7e9, timeoutNs: 5e9, workers: 1 });
    const o = open.metrics.latencies();
    assert.equal(open.metrics.requests, 3500);
    assert.equal(open.metrics.success, 1, `errors: ${JSON.stringify([...open.metrics.errors])}`);
    assert.ok(o.p90 > 100e6, `open-model p90 ${o.p90 / 1e6} ms should be in the hundreds of ms`);
    assert.ok(o.p99 > 350e6, `open-model p99 ${o.p99 / 1e6} ms should be near 480 ms`);
    assert.equal(open.info.maxMode, false);

    const closed = await attack({ targets, pacer: null, connections: 2, durationNs: 3e9, timeoutNs: 5e9, workers: 1 });
    const c = closed.metrics.latencies();
    assert.equal(closed.info.maxMode, true);
    assert.ok(closed.metrics.requests > 100);
    assert.ok(c.p90 < 50e6, `closed-loop p90 ${c.p90 / 1e6} ms should look healthy`);
    assert.ok(o.p90 > 5 * c.p90, `open p90 ${o.p90 / 1e6} ms vs closed p90 ${c.p90 / 1e6} ms`);
  } finally {
    await srv.close();
  }
});

test('fixed-delay server: latency is the delay, and a schedule kept means little send lag', { timeout: 30_000 }, async () => {
  const srv = await spawnServer('delay', '50');
  try {
    const out = await attack({ targets: parseTargets(`GET ${srv.url}/\n`, 'http'), pacer: constantPacer(100), durationNs: 2e9, workers: 1 });
    const l = out.metrics.latencies();
    assert.equal(out.metrics.requests, 200);
    // The server holds each request with setTimeout(50). Node times timers against libuv's loop
    // clock, which counts whole milliseconds: a timer set at loop time 1000 ms (real 1000.9 ms) fires
    // at loop time 1050 ms, which may be real 1050.0 ms, 49.1 ms later. What is guaranteed is more
    // than 49 ms (a loaded machine once showed 49.946 ms), not 50.
    assert.ok(l.min > 49e6, `min ${l.min / 1e6} ms for a 50 ms timer`);
    assert.ok(l.p50 < 150e6, `p50 ${l.p50 / 1e6} ms`);
    // 100 req/s x 50 ms = 5 in flight: connections open on demand, nobody waits for one
    assert.ok(out.metrics.schedule().p50 < 20e6, `send lag p50 ${out.metrics.schedule().p50 / 1e6} ms`);
    assert.equal(out.health.ended, 'completed');
    assert.ok(out.health.cpuPercent > 0);
    assert.ok(out.health.eventLoopMax > 0);
  } finally {
    await srv.close();
  }
});
