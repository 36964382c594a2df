import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { decodeCapture, encodeCapture, type AgentCapture } from '../../src/explain/index.js';

/**
 * A saved capture is read by the same decoders as a live agent's answers (src/profile/records-decode.ts),
 * so what explain sees later is what it would have seen live.
 */

const capture: AgentCapture = {
  agent: 'node/0.2.0',
  url: 'http://127.0.0.1:9/',
  features: ['requests', 'lock-waits', 'gc', 'stalls', 'cpu-samples'],
  since: 1764686400000000000n,
  until: 1764686401000000000n,
  requests: [
    {
      trace: '4bf92f3577b34da6a3ce929d0e0e4736',
      parent: '00f067aa0ba902b7',
      start: 1764686400012345678n,
      end: 1764686400014345679n,
      method: 'GET',
      path: '/api',
      status: 200,
      bytes: 12,
      waits: [
        { lock: 'cache', mode: 'write', site: 'get (svc.js:1:2)', start: 1764686400012345679n, duration: 1_500_000 },
        { lock: 'cache', mode: 'read', site: '', start: 1764686400013845679n, duration: 400_000, gaveUp: true },
      ],
    },
    { trace: '', parent: '', start: 1764686400020000000n, end: 1764686400021000000n, method: 'GET', path: '/go', status: 200, bytes: -1, waits: null },
  ],
  requestsDropped: 0,
  gc: [{ start: 1764686400013000001n, duration: 250_000, kind: 'scavenge' }],
  stalls: [{ start: 1764686400030000000n, duration: 60_000_000, kind: '' }],
  cpu: {
    start: 1764686400000000000n,
    end: 1764686401000000000n,
    intervalNs: 1_000_000,
    frames: [{ name: 'lookup', file: 'svc.js', line: 3 }],
    stacks: [[0]],
    samples: [{ t: 0n, stack: 0, trace: '4bf92f3577b34da6a3ce929d0e0e4736', weight: 3 }],
  },
};

test('a capture written and read back is the same capture, to the nanosecond, gave-up waits and Go sample labels included', () => {
  assert.deepEqual(decodeCapture(encodeCapture(capture), 'c.json'), capture);
});

test('a capture with an instant as a JSON number is refused in one line naming the file, not rounded', () => {
  const j = JSON.parse(encodeCapture(capture)) as { requests: Array<{ start: unknown }> };
  j.requests[0]!.start = 1764686400012345678;
  assert.throws(
    () => decodeCapture(JSON.stringify(j), 'c.json'),
    (e: Error) => e instanceof UsageError && /^c\.json: invalid start 1764686400012345\d+ \(expected epoch ns as a decimal string\)$/.test(e.message),
  );
});

test('a lock without a name is called one in what explain reads, live or saved', () => {
  const j = JSON.parse(encodeCapture(capture)) as { requests: Array<{ waits: Array<{ lock: string }> | null }> };
  j.requests[0]!.waits![0]!.lock = '';
  const back = decodeCapture(JSON.stringify(j), 'c.json');
  assert.equal(back.requests![0]!.waits![0]!.lock, '(unnamed lock)');
});
