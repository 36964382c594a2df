import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { startAgent, wallClockNs } from '../../src/agent/index.js';
import { TimedRing } from '../../src/agent/ring.js';
import { fetchAgentEvents } from '../../src/profile/events.js';
import { summarizeEvents } from '../../src/profile/during-attack.js';
import { busyWait } from '../helpers/servers.js';

/** GC pauses and event-loop stalls, on the attack's clock (wall-clock ns). */

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject).end();
  });
}

async function getJson(url: string): Promise<Record<string, unknown>> {
  return JSON.parse((await get(url)).body) as Record<string, unknown>;
}

const tick = () => new Promise((r) => setTimeout(r, 30));

describe('agent events', () => {
  it('records a blocked event loop as a stall with its start and duration', async () => {
    const agent = await startAgent({ port: 0, stallThresholdMs: 20 });
    try {
      await tick();
      const before = wallClockNs();
      busyWait(120);
      const blockedEnd = wallClockNs();
      await tick();
      const events = await fetchAgentEvents(agent.url, before, wallClockNs());
      // (A noisy machine may add short stalls of its own: look for the long one.)
      const stalls = events.filter((e) => e.kind === 'stall' && e.duration >= 100e6);
      assert.equal(stalls.length, 1, JSON.stringify(events, (_k, v) => (typeof v === 'bigint' ? String(v) : v)));
      const s = stalls[0]!;
      // The start is exact to within one detector tick (10 ms); the duration is a lower bound by as
      // much (and longer if the machine delayed the timer further).
      assert.ok(s.duration >= 100e6 && s.duration <= 500e6, `duration ${s.duration}`);
      assert.ok(s.start >= before - 30_000_000n && s.start <= before + 30_000_000n, 'start near the block');
      assert.ok(s.start <= blockedEnd);
      const json = await getJson(`${agent.url}/debug/tailprobe/eventloop`);
      const h = json.histogram as { count: number; max: number; percentiles: Record<string, number> };
      assert.ok(h.count > 0);
      assert.ok(h.max >= 100e6, 'the histogram saw the block too');
      assert.equal(typeof json.now, 'string', 'epoch ns travel as strings (beyond 2^53)');
    } finally {
      await agent.close();
    }
  });

  it('records GC pauses with their kind', async () => {
    const agent = await startAgent({ port: 0 });
    try {
      const before = wallClockNs();
      let keep: unknown[] = [];
      for (let i = 0; i < 300_000; i++) {
        keep.push({ i, s: `x${i}` });
        if (keep.length > 50_000) keep = [];
      }
      await tick(); // GC entries are delivered to the observer asynchronously
      const after = wallClockNs();
      const events = await fetchAgentEvents(agent.url, before, after);
      const gc = events.filter((e) => e.kind === 'gc');
      assert.ok(gc.length > 0, 'allocating 300k objects triggers GC');
      for (const e of gc) {
        assert.ok(e.start >= before - 1_000_000n && e.start <= after);
        assert.ok(e.duration > 0);
        assert.match(e.detail, /^(scavenge|mark-sweep-compact|incremental-marking|weak-callbacks)$/);
      }
      // Sorted by start, as a plot wants them.
      for (let i = 1; i < events.length; i++) assert.ok(events[i - 1]!.start <= events[i]!.start);
      assert.match(summarizeEvents(events), /^agent: \d+ GC pauses \(\d+ mark-sweep-compact\), total \S+, longest \S+; /);
      // A window before anything happened is empty.
      assert.deepEqual(await fetchAgentEvents(agent.url, 1n, 2n), []);
    } finally {
      await agent.close();
    }
  });

  it('a bad since/until is a 400, not a crash', async () => {
    const agent = await startAgent({ port: 0 });
    try {
      for (const q of ['gc?since=abc', 'eventloop?until=-5', 'gc?since=1e18']) {
        const r = await get(`${agent.url}/debug/tailprobe/${q}`);
        assert.equal(r.status, 400, q);
        assert.match(r.body, /^since\/until: expected epoch nanoseconds/, q);
      }
    } finally {
      await agent.close();
    }
  });

  it('the ring keeps the newest events and says how many it dropped', () => {
    const r = new TimedRing(3);
    for (let i = 0; i < 5; i++) r.push(i, 1, i);
    assert.equal(r.dropped, 2);
    assert.deepEqual(r.query().map((e) => e.kind), [2, 3, 4]);
  });
});
