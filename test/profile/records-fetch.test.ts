import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RuntimeError } from '../../src/errors.js';
import { fetchAgentIndex, fetchAgentPauses, fetchAgentRecords, fetchAgentRecordsIfAny } from '../../src/profile/records-fetch.js';
import { listen } from '../helpers/servers.js';

/**
 * The records reader against agents other than this package's Node agent: a loopback server that
 * answers as the Go companion would (docs/records-format.md), or as a newer agent would.
 */

function agentServing(body: unknown, header = 'go/0.2.0') {
  return listen((req, res) => {
    if (header) res.setHeader('X-Tailprobe-Agent', header);
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(typeof body === 'function' ? (body as (u: string) => unknown)(req.url ?? '') : body));
  });
}

const goRecords = {
  format: 'tailprobe-records/1',
  now: '1764686400100000000',
  recordingSince: '1764686400000000000',
  capacity: 100000,
  recorded: 1,
  dropped: 0,
  futureField: { ignored: true },
  requests: [
    { trace: '4bf92f3577b34da6a3ce929d0e0e4736', parent: '00f067aa0ba902b7', start: '1764686400012345678', end: '1764686400014345678',
      method: 'GET', path: '/api/lookup?key=42', status: 200, bytes: 1234, alsoNew: 1 },
  ],
};

describe('records reader', () => {
  it('reads a Go agent: no waits field means the agent cannot see lock waits; unknown fields are ignored', async () => {
    let asked = '';
    const srv = await agentServing((u: string) => ((asked = u), goRecords));
    try {
      const got = await fetchAgentRecords(srv.url, 5n, 6n);
      assert.equal(asked, '/debug/tailprobe/requests?since=5&until=6');
      assert.equal(got.agent, 'go/0.2.0');
      assert.equal(got.requests.length, 1);
      const r = got.requests[0]!;
      assert.equal(r.start, 1764686400012345678n, 'instants are exact bigints');
      assert.equal(r.end - r.start, 2_000_000n);
      assert.equal(r.waits, undefined);
      assert.equal(got.recordingSince, 1764686400000000000n);
    } finally {
      await srv.close();
    }
  });

  it('refuses a major version it does not know, and what is not an agent, in one line', async () => {
    const newer = await agentServing({ ...goRecords, format: 'tailprobe-records/2' });
    const plain = await agentServing(goRecords, '');
    const broken = await agentServing({ ...goRecords, requests: [{ ...goRecords.requests[0], start: 1764686400012345678 }] });
    try {
      await assert.rejects(fetchAgentRecords(newer.url), (e: Error) => e instanceof RuntimeError && /records format tailprobe-records\/2 is newer than this tailprobe reads/.test(e.message));
      await assert.rejects(fetchAgentIndex(plain.url), (e: Error) => e instanceof RuntimeError && /not a tailprobe agent/.test(e.message));
      await assert.rejects(fetchAgentRecords(broken.url), (e: Error) => e instanceof RuntimeError && /invalid start \d+ \(expected epoch ns as a decimal string\)/.test(e.message));
      for (const e of [newer, plain, broken]) assert.ok(!(await fetchAgentRecords(e.url).catch((x: Error) => x.message)).toString().includes('\n'));
    } finally {
      await Promise.all([newer.close(), plain.close(), broken.close()]);
    }
  });

  it('tells an endpoint the agent does not have (its own 404) from a server that is no agent at all', async () => {
    const missing = await listen((req, res) => {
      res.setHeader('X-Tailprobe-Agent', 'go/0.2.0');
      if (req.url?.startsWith('/debug/tailprobe/gc')) {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ format: 'tailprobe-records/1', dropped: 2, pauses: [
          { start: '1764686400020000000', duration: 300000, kind: 'stop-the-world' },
          { start: '1764686400010000000', duration: 100000, kind: 'stop-the-world' },
        ] }));
        return;
      }
      res.statusCode = 404;
      res.end('404 page not found\n');
    });
    const plain404 = await listen((_req, res) => ((res.statusCode = 404), res.end('not found')));
    try {
      assert.equal(await fetchAgentPauses(missing.url, 'eventloop'), null, 'a Go agent has no event loop');
      assert.equal(await fetchAgentRecordsIfAny(missing.url), null);
      await assert.rejects(fetchAgentRecords(missing.url), /keeps no per-request records/);
      const gc = await fetchAgentPauses(missing.url, 'gc', 1n, 2n);
      assert.deepEqual(gc, { dropped: 2, pauses: [
        { start: 1764686400010000000n, duration: 100000, kind: 'stop-the-world' },
        { start: 1764686400020000000n, duration: 300000, kind: 'stop-the-world' },
      ] }, 'oldest first, instants exact');
      await assert.rejects(fetchAgentPauses(plain404.url, 'eventloop'), (e: Error) => e instanceof RuntimeError && /HTTP 404/.test(e.message));
      await assert.rejects(fetchAgentIndex(plain404.url), /no tailprobe records here/);
    } finally {
      await Promise.all([missing.close(), plain404.close()]);
    }
  });
});
