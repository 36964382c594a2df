import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Agent, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { lockWaitsEnabled, mountAgent, parseTraceparent, requestsEnabled, RequestRecorder, startAgent } from '../../src/agent/index.js';
import { fetchAgentCpuSamples, fetchAgentIndex, fetchAgentRecords } from '../../src/profile/records-fetch.js';
import type { RequestRecord } from '../../src/profile/records.js';
import { Mutex } from '../../src/sync/index.js';
import { wallClockNs } from '../../src/time/wall.js';
import { listen } from '../helpers/servers.js';

/**
 * The agent's per-request records (docs/records-format.md): a real node:http service, the agent
 * started next to it with no change to the service's code, real HTTP clients sending W3C
 * traceparent headers. Service and client share this process, so they share one wall clock and
 * "the server's record lies inside the client's send/receive window" is exact, not approximate.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function newTrace(): { trace: string; parent: string; header: string } {
  const trace = randomBytes(16).toString('hex');
  const parent = randomBytes(8).toString('hex');
  return { trace, parent, header: `00-${trace}-${parent}-01` };
}

interface Sent {
  trace: string;
  status: number;
  body: string;
  /** Client clock just before the request was written, and once its response had ended. */
  sentAt: bigint;
  receivedAt: bigint;
}

function send(url: string, opts: { traceparent?: string; agent?: Agent; headers?: Record<string, string> } = {}): Promise<Sent> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.traceparent !== undefined) headers.traceparent = opts.traceparent;
  return new Promise((resolve, reject) => {
    const sentAt = wallClockNs();
    request(url, { headers, agent: opts.agent }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ trace: '', status: res.statusCode ?? 0, body, sentAt, receivedAt: wallClockNs() }));
    }).on('error', reject).end();
  });
}

async function sendTraced(url: string, agent?: Agent): Promise<Sent> {
  const t = newTrace();
  const r = await send(url, { traceparent: t.header, agent });
  return { ...r, trace: t.trace };
}

function byTrace(records: RequestRecord[], trace: string): RequestRecord {
  const found = records.filter((r) => r.trace === trace);
  assert.equal(found.length, 1, `one record for trace ${trace}, got ${found.length}`);
  return found[0]!;
}

async function service(handler: (req: IncomingMessage, res: ServerResponse) => unknown) {
  return listen((req, res) => {
    Promise.resolve(handler(req, res)).catch((err: Error) => {
      res.statusCode = 500;
      res.end(err.message);
    });
  });
}

describe('agent request records', () => {
  it('records every request with its traceparent ids, and times inside the client send/receive window', async () => {
    const svc = await service((req, res) => {
      res.setHeader('content-type', 'text/plain');
      if (req.url === '/chunked') {
        res.write('part one, ');
        res.end('part two');
        return;
      }
      res.end(`hello ${req.url}`);
    });
    const agent = await startAgent({ port: 0 });
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 4 });
    try {
      const sent = await Promise.all(Array.from({ length: 20 }, (_, i) => sendTraced(`${svc.url}/item?i=${i}`, keepAlive)));
      const plain = await send(`${svc.url}/untraced`, { agent: keepAlive });
      let got = await fetchAgentRecords(agent.url);
      assert.match(got.agent, /^node\/\S+$/);
      assert.equal(got.capacity, 100_000);
      assert.equal(got.dropped, 0);
      for (const [i, s] of sent.entries()) {
        const r = byTrace(got.requests, s.trace);
        assert.match(r.parent, /^[0-9a-f]{16}$/);
        assert.notEqual(r.parent, '0000000000000000');
        assert.ok(r.start <= r.end, 'start <= end');
        assert.ok(r.start >= s.sentAt, `the service began after the client sent (${r.start} >= ${s.sentAt})`);
        assert.ok(r.end <= s.receivedAt, `the service finished before the client had the whole response (${r.end} <= ${s.receivedAt})`);
        assert.equal(r.method, 'GET');
        assert.equal(r.path, `/item?i=${i}`);
        assert.equal(r.status, 200);
        assert.equal(r.bytes, Buffer.byteLength(s.body), 'body bytes, from the Content-Length Node computed');
        assert.deepEqual(r.waits, [], 'lock waits are recorded, and there were none');
      }
      const chunked = await sendTraced(`${svc.url}/chunked`, keepAlive);
      got = await fetchAgentRecords(agent.url);
      assert.equal(byTrace(got.requests, chunked.trace).bytes, -1, 'a chunked body has no length Node knows of');
      const untraced = got.requests.filter((r) => r.path === '/untraced');
      assert.equal(untraced.length, 1);
      assert.equal(untraced[0]!.trace, '');
      assert.equal(untraced[0]!.parent, '');
      assert.ok(untraced[0]!.start >= plain.sentAt && untraced[0]!.end <= plain.receivedAt);
      // Oldest first (by start), and nothing of the agent's own listener.
      for (let i = 1; i < got.requests.length; i++) assert.ok(got.requests[i - 1]!.start <= got.requests[i]!.start);
      assert.ok(got.requests.every((r) => !r.path.startsWith('/debug/')));
      assert.equal(got.requests.length, 22);
      assert.equal(got.recorded, 22);
    } finally {
      keepAlive.destroy();
      await agent.close();
      await svc.close();
    }
  });

  it('attributes lock waits to exactly the requests that waited on a contended Mutex', async () => {
    const table = new Mutex('table');
    const svc = await service(async (req, res) => {
      if (req.url === '/write') {
        // The slow writer: holds the lock across awaits, until the three readers queue behind it
        // (not for a fixed time: a loaded machine may deliver them after any fixed time).
        const release = await table.lock();
        for (const t0 = Date.now(); table.waiting < 3 && Date.now() - t0 < 10_000; ) await sleep(2);
        await sleep(5);
        release();
      } else if (req.url?.startsWith('/read')) {
        await sleep(1); // the request's context must survive awaits before the wait...
        const release = await table.lock();
        await sleep(1); // ...and after it
        release();
      }
      res.end('ok');
    });
    const agent = await startAgent({ port: 0 });
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      await sleep(20); // the agent installs its lock observer on a later turn
      const writer = sendTraced(`${svc.url}/write`);
      while (!table.locked) await sleep(2);
      // Three readers queue behind the writer; two requests meanwhile touch no lock.
      const readers = Promise.all([1, 2, 3].map((i) => sendTraced(`${svc.url}/read?n=${i}`)));
      const free = await Promise.all([sendTraced(`${svc.url}/free`), sendTraced(`${svc.url}/free`)]);
      const [w, rs] = await Promise.all([writer, readers]);
      // After the writer: reads that find the lock free, on one keep-alive socket (the previous
      // request's context must not carry over to the next one).
      const later = [await sendTraced(`${svc.url}/read?n=4`, keepAlive), await sendTraced(`${svc.url}/read?n=5`, keepAlive)];
      const got = await fetchAgentRecords(agent.url);
      for (const s of rs) {
        const r = byTrace(got.requests, s.trace);
        assert.ok(r.waits && r.waits.length === 1, `${r.path} waited once: ${JSON.stringify(r.waits, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
        const wait = r.waits[0]!;
        assert.equal(wait.lock, 'table');
        assert.equal(wait.mode, 'write');
        assert.ok(wait.duration > 0);
        assert.ok(wait.start >= r.start && wait.start + BigInt(wait.duration) <= r.end, 'the wait lies inside its request');
        // The contention profiler samples the waiter's stack while its budget allows: a few waits do.
        assert.match(wait.site, /^$|\(.*requests\.test\.js:\d+:\d+\)$/);
      }
      assert.ok(byTrace(got.requests, rs[2]!.trace).waits![0]!.duration > 0);
      for (const s of [w, ...free, ...later]) {
        const r = byTrace(got.requests, s.trace);
        assert.deepEqual(r.waits, [], `${r.path} did not wait`);
      }
      const idx = await fetchAgentIndex(agent.url);
      assert.ok(idx.features.includes('lock-waits'));
    } finally {
      keepAlive.destroy();
      await agent.close();
      await svc.close();
    }
  });

  it('records a lock wait the request gave up on (timeout) as a wait that gave up', async () => {
    const table = new Mutex('table');
    let quitterGaveUp = () => {};
    const gaveUp = new Promise<void>((resolve) => (quitterGaveUp = resolve));
    const svc = await service(async (req, res) => {
      if (req.url === '/hold') {
        // Held until the other request gave up on it (not for a fixed time, which a loaded machine
        // could let pass before that request even arrived).
        const release = await table.lock();
        const bound = setTimeout(quitterGaveUp, 10_000);
        await gaveUp;
        clearTimeout(bound);
        release();
        res.end('held');
        return;
      }
      try {
        (await table.lock({ timeoutMs: 10 }))();
        res.end('got it');
      } catch {
        quitterGaveUp();
        res.statusCode = 503;
        res.end('busy');
      }
    });
    const agent = await startAgent({ port: 0 });
    try {
      await sleep(20);
      const holder = sendTraced(`${svc.url}/hold`);
      while (!table.locked) await sleep(2);
      const quitter = await sendTraced(`${svc.url}/try`);
      assert.equal(quitter.status, 503);
      await holder;
      const r = byTrace((await fetchAgentRecords(agent.url)).requests, quitter.trace);
      assert.equal(r.status, 503);
      assert.equal(r.waits?.length, 1);
      assert.equal(r.waits![0]!.gaveUp, true);
      assert.ok(r.waits![0]!.duration > 0);
    } finally {
      await agent.close();
      await svc.close();
    }
  });

  it("enters each request's store before the handler runs, across awaits, and never carries it to the next request on the socket", async () => {
    const rec = new RequestRecorder({ capacity: 16 });
    const seen: Array<{ url: string; before: number | undefined; after: number | undefined }> = [];
    const svc = await service(async (req, res) => {
      const before = rec.currentTag();
      await sleep(2);
      await Promise.resolve();
      seen.push({ url: req.url!, before, after: rec.currentTag() });
      res.end('ok');
    });
    assert.deepEqual(rec.start(), { ok: true });
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      // Until the process has a tailprobe/sync lock (the agent's observer is told), no store at all.
      await send(`${svc.url}/early`, { agent: keepAlive });
      rec.attributeWaits();
      // One socket: a recorded request, an agent path (never recorded: its store is `undefined`,
      // not the previous request's), and a recorded one again.
      for (const p of ['/a', '/debug/pprof/x', '/b']) await send(`${svc.url}${p}`, { agent: keepAlive });
      assert.deepEqual(seen, [
        { url: '/early', before: undefined, after: undefined },
        { url: '/a', before: 2, after: 2 },
        { url: '/debug/pprof/x', before: undefined, after: undefined },
        { url: '/b', before: 3, after: 3 },
      ]);
      assert.equal(rec.recorded, 3);
    } finally {
      rec.stop();
      keepAlive.destroy();
      await svc.close();
    }
  });

  it('ends the record of a request whose client gave up at the close, marked aborted, and keeps the next one on a kept-alive socket apart', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const svc = await service(async (req, res) => {
      if (req.url === '/slow') await held; // answers only after the client has gone
      res.end('done');
    });
    const agent = await startAgent({ port: 0 });
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      // One kept-alive request first: its socket gets the agent's close listener, its record is whole.
      const first = await sendTraced(`${svc.url}/fast`, keepAlive);
      const t = newTrace();
      const sentAt = wallClockNs();
      const gaveUp = await new Promise<bigint>((resolve) => {
        const req = request(`${svc.url}/slow`, { headers: { traceparent: t.header } });
        req.on('error', () => resolve(wallClockNs()));
        req.end();
        setTimeout(() => req.destroy(), 100);
      });
      // The server sees the close a moment after the client destroys its socket.
      let got = await fetchAgentRecords(agent.url);
      for (let i = 0; i < 50 && !got.requests.some((r) => r.trace === t.trace); i++) {
        await sleep(20);
        got = await fetchAgentRecords(agent.url);
      }
      const aborted = byTrace(got.requests, t.trace);
      assert.equal(aborted.aborted, true);
      assert.equal(aborted.status, 0, 'no response was finished');
      assert.equal(aborted.bytes, -1);
      assert.ok(aborted.start >= sentAt && aborted.end >= gaveUp - 1_000_000n, `ends at the close (${aborted.end - gaveUp} ns from the client's destroy)`);
      const whole = byTrace(got.requests, first.trace);
      assert.equal(whole.aborted, undefined);
      assert.equal(whole.status, 200);
      // The handler answering later (into a closed socket) does not record the request twice.
      release();
      await sleep(50);
      const second = await sendTraced(`${svc.url}/fast`, keepAlive);
      got = await fetchAgentRecords(agent.url);
      assert.equal(got.requests.filter((r) => r.trace === t.trace).length, 1);
      assert.equal(byTrace(got.requests, second.trace).aborted, undefined);
      assert.equal(got.recorded, 3);
    } finally {
      release();
      keepAlive.destroy();
      await agent.close();
      await svc.close();
    }
  });

  it('says 0 body bytes for a HEAD request, whatever the handler wrote (Node sends none), as the Go companion does', async () => {
    const svc = await service((_req, res) => res.end('hello'));
    const agent = await startAgent({ port: 0 });
    try {
      for (const method of ['HEAD', 'GET']) {
        await new Promise<void>((resolve, reject) => {
          request(`${svc.url}/h`, { method }, (res) => res.resume().on('end', resolve)).on('error', reject).end();
        });
      }
      const got = await fetchAgentRecords(agent.url);
      assert.deepEqual(got.requests.map((r) => [r.method, r.bytes]), [['HEAD', 0], ['GET', 5]]);
    } finally {
      await agent.close();
      await svc.close();
    }
  });

  it('keeps the newest records in a bounded ring and counts the dropped ones', async () => {
    const svc = await service((_req, res) => res.end('ok'));
    const agent = await startAgent({ port: 0, requestHistory: 5 });
    try {
      const sent: Sent[] = [];
      for (let i = 0; i < 8; i++) sent.push(await sendTraced(`${svc.url}/n${i}`));
      const got = await fetchAgentRecords(agent.url);
      assert.equal(got.capacity, 5);
      assert.equal(got.recorded, 8);
      assert.equal(got.dropped, 3);
      assert.deepEqual(got.requests.map((r) => r.trace), sent.slice(3).map((s) => s.trace));
    } finally {
      await agent.close();
      await svc.close();
    }
  });

  it('streams a ring of thousands of records whole, in order, across its slices', async () => {
    const svc = await service((_req, res) => res.end('ok'));
    const agent = await startAgent({ port: 0 });
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 8 });
    try {
      const traces: string[] = [];
      for (let batch = 0; batch < 25; batch++) {
        const sent = await Promise.all(Array.from({ length: 100 }, () => sendTraced(`${svc.url}/many`, keepAlive)));
        traces.push(...sent.map((s) => s.trace));
      }
      const got = await fetchAgentRecords(agent.url);
      assert.equal(got.requests.length, 2500);
      assert.equal(got.recorded, 2500);
      assert.deepEqual(new Set(got.requests.map((r) => r.trace)), new Set(traces));
      for (let i = 1; i < got.requests.length; i++) assert.ok(got.requests[i - 1]!.start <= got.requests[i]!.start);
    } finally {
      keepAlive.destroy();
      await agent.close();
      await svc.close();
    }
  });

  it('reads traceparent as W3C says (lower-case hex, no all-zero ids, version ff invalid) and cuts long paths', async () => {
    const t = '4bf92f3577b34da6a3ce929d0e0e4736';
    const p = '00f067aa0ba902b7';
    assert.deepEqual(parseTraceparent(`00-${t}-${p}-01`), { traceId: t, parentId: p, flags: 1 });
    assert.deepEqual(parseTraceparent(`00-${t}-${p}-00`), { traceId: t, parentId: p, flags: 0 }, 'not sampled is still a trace');
    assert.deepEqual(parseTraceparent(`01-${t}-${p}-01-more`), { traceId: t, parentId: p, flags: 1 }, 'a future version may carry more after a dash');
    const invalid = [
      undefined,
      '',
      `00-${t.toUpperCase()}-${p}-01`,
      `00-${'0'.repeat(32)}-${p}-01`,
      `00-${t}-${'0'.repeat(16)}-01`,
      `ff-${t}-${p}-01`,
      `00-${t}-${p}-01-extra`,
      `01-${t}-${p}-01x`,
      `00-${t}-${p}-1`,
      `00_${t}-${p}-01`,
      `00-${t.slice(1)}g-${p}-01`,
      `0g-${t}-${p}-01`,
    ];
    for (const v of invalid) assert.equal(parseTraceparent(v), null, String(v));

    const svc = await service((_req, res) => res.end('ok'));
    const agent = await startAgent({ port: 0 });
    try {
      await send(`${svc.url}/bad`, { traceparent: `00-${'0'.repeat(32)}-${p}-01` });
      await send(`${svc.url}/upper`, { headers: { TraceParent: `00-${t}-${p}-01` } });
      const long = `/long?q=${'x'.repeat(1000)}`;
      await send(`${svc.url}${long}`);
      const got = await fetchAgentRecords(agent.url);
      assert.ok(got.requests.some((r) => r.path === long.slice(0, 256)), 'paths are cut to 256 characters');
      const bad = got.requests.find((r) => r.path === '/bad')!;
      assert.equal(bad.trace, '');
      assert.equal(bad.parent, '');
      assert.equal(got.requests.find((r) => r.path === '/upper')!.trace, t, 'header names are case-insensitive');
    } finally {
      await agent.close();
      await svc.close();
    }
  });

  it('serves the records overlapping [since, until] only', async () => {
    const svc = await service((_req, res) => res.end('ok'));
    const agent = await startAgent({ port: 0 });
    try {
      const batch = async () => Promise.all([0, 1, 2].map(() => sendTraced(`${svc.url}/x`)));
      const first = await batch();
      await sleep(5);
      const since = wallClockNs();
      const second = await batch();
      const until = wallClockNs();
      await sleep(5);
      const third = await batch();
      const got = await fetchAgentRecords(agent.url, since, until);
      assert.deepEqual(new Set(got.requests.map((r) => r.trace)), new Set(second.map((s) => s.trace)));
      const all = await fetchAgentRecords(agent.url);
      assert.equal(all.requests.length, 9);
      // A window that only touches a record's end still includes it (overlap, inclusive).
      const last = all.requests.find((r) => r.trace === third[2]!.trace)!;
      const edge = await fetchAgentRecords(agent.url, last.end, last.end);
      assert.ok(edge.requests.some((r) => r.trace === last.trace));
      assert.ok(first.every((s) => !edge.requests.some((r) => r.trace === s.trace)));
      const bad = await send(`${agent.url}/debug/tailprobe/requests?since=yesterday`);
      assert.equal(bad.status, 400);
      assert.match(bad.body, /^since\/until: expected epoch nanoseconds/);
    } finally {
      await agent.close();
      await svc.close();
    }
  });

  it("leaves out the agent's own requests when mounted on the service's server", async () => {
    const svc = await service((_req, res) => res.end('service'));
    const unmount = mountAgent(svc.server);
    try {
      await send(`${svc.url}/debug/tailprobe/`);
      await send(`${svc.url}/hello`);
      await send(`${svc.url}/debug/pprof/`);
      const got = await fetchAgentRecords(svc.url);
      assert.deepEqual(got.requests.map((r) => r.path), ['/hello']);
    } finally {
      unmount();
      await svc.close();
    }
  });

  it('turns off with requests: false or TAILPROBE_AGENT_REQUESTS=off, and obeys the token', async () => {
    assert.equal(requestsEnabled({}, {}), true);
    assert.equal(requestsEnabled({}, { TAILPROBE_AGENT_REQUESTS: 'off' }), false);
    assert.equal(requestsEnabled({ requests: true }, { TAILPROBE_AGENT_REQUESTS: 'off' }), true);
    // The lock-wait attribution (a store per request) has a switch of its own.
    assert.equal(lockWaitsEnabled({}, {}), true);
    assert.equal(lockWaitsEnabled({}, { TAILPROBE_AGENT_LOCK_WAITS: 'off' }), false);
    assert.equal(lockWaitsEnabled({ lockWaits: true }, { TAILPROBE_AGENT_LOCK_WAITS: 'off' }), true);
    const off = await startAgent({ port: 0, requests: false });
    try {
      const idx = await fetchAgentIndex(off.url);
      assert.equal(idx.format, 'tailprobe-records/1');
      assert.ok(!idx.features.includes('requests'));
      assert.ok(!idx.endpoints.includes('/debug/tailprobe/requests'));
      const r = await send(`${off.url}/debug/tailprobe/requests`);
      assert.equal(r.status, 404);
      assert.match(r.body, /per-request records are off/);
    } finally {
      await off.close();
    }
    const locked = await startAgent({ port: 0, token: 's3cret' });
    try {
      assert.equal((await send(`${locked.url}/debug/tailprobe/requests`)).status, 401);
      assert.equal((await send(`${locked.url}/debug/tailprobe/cpu?seconds=1`)).status, 401);
      const got = await fetchAgentRecords(locked.url, undefined, undefined, 's3cret');
      assert.equal(got.dropped, 0);
    } finally {
      await locked.close();
    }
  });
});

function burnCpuForTest(ms: number): number {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x += Math.sqrt(x + 1);
  return x;
}

describe('agent cpu samples', () => {
  it('stamps each sample with its wall-clock time, inside the window, naming the function that burned CPU during its request', async () => {
    const svc = await service((req, res) => {
      if (req.url === '/burn') burnCpuForTest(300);
      res.end('ok');
    });
    const agent = await startAgent({ port: 0 });
    try {
      const before = wallClockNs();
      const profile = fetchAgentCpuSamples(agent.url, 1.5);
      await sleep(300);
      const burn = await sendTraced(`${svc.url}/burn`);
      // One CPU profile at a time, whichever endpoint asks.
      const second = await send(`${agent.url}/debug/pprof/profile?seconds=1`);
      assert.equal(second.status, 409);
      const cpu = await profile;
      const after = wallClockNs();
      assert.ok(cpu.start >= before && cpu.end <= after && cpu.start < cpu.end, 'the window lies inside the request for it');
      assert.equal(cpu.intervalNs, 1_000_000);
      assert.ok(cpu.samples.length > 0);
      for (const s of cpu.samples) {
        assert.ok(s.t >= cpu.start && s.t <= cpu.end, `sample at ${s.t} inside [${cpu.start}, ${cpu.end}]`);
        assert.ok(s.stack >= 0 && s.stack < cpu.stacks.length);
      }
      for (const st of cpu.stacks) for (const f of st) assert.ok(f >= 0 && f < cpu.frames.length);
      const fn = cpu.frames.findIndex((f) => f.name === 'burnCpuForTest');
      assert.ok(fn >= 0, 'the hot function is a frame');
      assert.match(cpu.frames[fn]!.file, /requests\.test\.js$/);
      assert.ok(cpu.frames[fn]!.line > 0);
      const hot = cpu.samples.filter((s) => cpu.stacks[s.stack]!.includes(fn));
      assert.ok(hot.length > 0);
      // Every sample in the hot function lies inside the /burn request's record: the join explain makes.
      const rec = byTrace((await fetchAgentRecords(agent.url)).requests, burn.trace);
      for (const s of hot) assert.ok(s.t >= rec.start && s.t <= rec.end, `burn sample at ${s.t} inside its request [${rec.start}, ${rec.end}]`);
    } finally {
      await agent.close();
      await svc.close();
    }
  });
});
