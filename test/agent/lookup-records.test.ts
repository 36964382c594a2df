import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { startLookup } from '../../src/demo/service.js';
import { fetchAgentIndex, fetchAgentRecords } from '../../src/profile/records-fetch.js';

/**
 * The demo's lookup service (examples/lookup) as a separate process, with the agent it starts and
 * no change to its code: concurrent traced lookups through its one Mutex (the fault) come back as
 * records carrying their trace ids, body sizes and the waits on the table lock.
 */

function lookup(url: string, trace: string): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const traceparent = `00-${trace}-${randomBytes(8).toString('hex')}-01`;
    request(url, { headers: { traceparent } }, (res) => {
      let bytes = 0;
      res.on('data', (d: Buffer) => (bytes += d.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
    }).on('error', reject).end();
  });
}

describe('records of the lookup service', () => {
  it('records every traced lookup with its body size, and the waits on the table Mutex', async () => {
    const svc = await startLookup({ alloc: 'pool', lock: 'mutex', entries: 20_000 });
    try {
      const idx = await fetchAgentIndex(svc.pprof);
      assert.ok(idx.features.includes('requests'), 'records are on by default');
      assert.match(idx.agent, /^node\//);
      const traces = Array.from({ length: 12 }, () => randomBytes(16).toString('hex'));
      const answers = await Promise.all(traces.map((t, i) => lookup(`${svc.url}/api/lookup?key=k${String(i * 37).padStart(7, '0')}`, t)));
      let got = await fetchAgentRecords(svc.pprof);
      const waits: number[] = [];
      for (const [i, t] of traces.entries()) {
        const recs = got.requests.filter((r) => r.trace === t);
        assert.equal(recs.length, 1, `one record for lookup ${i}`);
        const r = recs[0]!;
        assert.equal(r.status, answers[i]!.status);
        assert.equal(r.status, 200);
        assert.equal(r.bytes, answers[i]!.bytes, 'bytes = the body the client received');
        assert.ok(r.start <= r.end);
        assert.ok(Array.isArray(r.waits));
        for (const w of r.waits!) {
          assert.equal(w.lock, 'lookup.table');
          assert.equal(w.mode, 'write');
          assert.ok(w.start >= r.start && w.start + BigInt(w.duration) <= r.end);
        }
        waits.push(r.waits!.length);
      }
      // The Mutex is held across the read's event-loop turns: twelve lookups at once cannot all
      // find it free, so some of them waited (how many depends on how their arrivals interleave).
      assert.ok(waits.some((n) => n > 0), `some lookups waited: ${waits.join(',')}`);
      got = await fetchAgentRecords(svc.pprof, got.now, undefined);
      assert.equal(got.requests.length, 0, 'nothing finished after the last read');
    } finally {
      await svc.stop();
    }
  });
});
