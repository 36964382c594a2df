import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RuntimeError } from '../../src/errors.js';
import { fetchAgentIndex, fetchAgentRecords } from '../../src/profile/records-fetch.js';
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
});
