import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { describe, it } from 'node:test';
import { autoStartAddress, loadedByImportFlag, mountAgent, parseAgentAddress, startAgent } from '../../src/agent/index.js';
import { isLoopbackHost } from '../../src/agent/security.js';
import { fetchProfile } from '../../src/profile/fetch.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { listen } from '../helpers/servers.js';

/** Safe by default: loopback, opt-in, tokens enforced, bounded windows, one CPU profile at a time. */

delete process.env.TAILPROBE_AGENT_TOKEN;

interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(url: string, headers: Record<string, string> = {}, opts: { localAddress?: string; signal?: AbortSignal } = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, localAddress: opts.localAddress, signal: opts.signal }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A non-loopback IPv4 address of this machine, if it has one (to be a "remote" client). */
function externalAddress(): string | null {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return null;
}

describe('agent safety', () => {
  it('refuses to listen beyond loopback without a token, with a clear reason', async () => {
    await assert.rejects(startAgent({ host: '0.0.0.0', port: 0 }), (err: Error) => {
      assert.match(err.message, /^tailprobe agent: refusing to listen on 0\.0\.0\.0:0 without a token/);
      assert.match(err.message, /TAILPROBE_AGENT_TOKEN/);
      return true;
    });
    await assert.rejects(startAgent({ host: '::', port: 0 }), /refusing to listen on \[::\]:0/);
  });

  it('with a token, listens anywhere and demands the token (header or query)', async () => {
    const agent = await startAgent({ host: '0.0.0.0', port: 0, token: 's3cret' });
    try {
      const base = `http://127.0.0.1:${agent.port}/debug/pprof/`;
      const none = await get(base);
      assert.equal(none.status, 401);
      assert.match(none.body, /a token is required/);
      assert.equal(none.headers['x-go-pprof'], '1', 'go tool pprof shows the text of errors marked so');
      assert.equal((await get(base, { authorization: 'Bearer nope' })).status, 401);
      assert.equal((await get(`${base}?token=nope`)).status, 401);
      assert.equal((await get(base, { authorization: 'Bearer s3cret' })).status, 200);
      assert.equal((await get(`${base}?token=s3cret`)).status, 200);
      const ext = externalAddress();
      if (ext) {
        const remote = await get(`http://${ext}:${agent.port}/debug/pprof/?token=s3cret`, {}, { localAddress: ext });
        assert.equal(remote.status, 200, 'a token-bearing client from another address is served');
      }
    } finally {
      await agent.close();
    }
  });

  it('a second concurrent CPU profile gets a 409, as Go refuses it', async () => {
    const agent = await startAgent({ port: 0 });
    try {
      const first = get(`${agent.url}/debug/pprof/profile?seconds=1`);
      await new Promise((r) => setTimeout(r, 150));
      const second = await get(`${agent.url}/debug/pprof/profile?seconds=1`);
      assert.equal(second.status, 409);
      assert.match(second.body, /^Could not enable CPU profiling: cpu profiling already in use/);
      assert.equal((await first).status, 200);
      // Heap and allocs share V8's sampler the same way.
      const heap = get(`${agent.url}/debug/pprof/heap?seconds=1`);
      await new Promise((r) => setTimeout(r, 150));
      const allocs = await get(`${agent.url}/debug/pprof/allocs?seconds=1`);
      assert.equal(allocs.status, 409);
      assert.equal((await heap).status, 200);
    } finally {
      await agent.close();
    }
  });

  it('bounds seconds', async () => {
    const agent = await startAgent({ port: 0, maxSeconds: 60 });
    try {
      for (const q of ['profile?seconds=61', 'profile?seconds=0', 'profile?seconds=-1', 'profile?seconds=abc', 'heap?seconds=1e9', 'block?seconds=NaN']) {
        const r = await get(`${agent.url}/debug/pprof/${q}`);
        assert.equal(r.status, 400, q);
        assert.match(r.body, /seconds/, q);
      }
    } finally {
      await agent.close();
    }
  });

  it('a client that goes away frees the CPU profiler at once', async () => {
    const agent = await startAgent({ port: 0 });
    try {
      const ac = new AbortController();
      const long = get(`${agent.url}/debug/pprof/profile?seconds=60`, {}, { signal: ac.signal }).catch(() => null);
      await new Promise((r) => setTimeout(r, 200));
      ac.abort();
      await long;
      await new Promise((r) => setTimeout(r, 100));
      const t0 = Date.now();
      const next = await get(`${agent.url}/debug/pprof/profile?seconds=1`);
      assert.equal(next.status, 200);
      assert.ok(Date.now() - t0 < 20_000);
    } finally {
      await agent.close();
    }
  });

  it('mountAgent serves /debug/ on the service\'s server and leaves the rest to the service', async () => {
    const svc = await listen((_req, res) => res.end('service'));
    const unmount = mountAgent(svc.server);
    try {
      const idx = await get(`${svc.url}/debug/pprof/`);
      assert.equal(idx.status, 200);
      assert.ok(idx.headers['x-tailprobe-agent']);
      assert.match(idx.body, /<title>\/debug\/pprof\/<\/title>/);
      assert.equal((await get(`${svc.url}/api/lookup`)).body, 'service');
      assert.equal((await get(`${svc.url}/debugger`)).body, 'service');
      // DNS rebinding and proxies: a loopback peer is not enough without a token.
      const rebound = await get(`${svc.url}/debug/pprof/`, { host: 'evil.example:80' });
      assert.equal(rebound.status, 403);
      assert.match(rebound.body, /not a loopback name/);
      assert.equal((await get(`${svc.url}/debug/pprof/`, { 'x-forwarded-for': '203.0.113.9' })).status, 403);
      assert.equal((await get(`${svc.url}/debug/pprof/`, { host: 'localhost' })).status, 200);
    } finally {
      unmount();
    }
    assert.equal((await get(`${svc.url}/debug/pprof/`)).body, 'service', 'unmounted');
    await svc.close();
  });

  it('mountAgent on a server open to the network answers only loopback clients without a token', async (t) => {
    const ext = externalAddress();
    if (!ext) return t.skip('no non-loopback interface on this machine');
    const svc = await listen((_req, res) => res.end('service'), '0.0.0.0');
    const unmount = mountAgent(svc.server);
    try {
      const r = await get(`http://${ext}:${svc.port}/debug/pprof/`, {}, { localAddress: ext });
      assert.equal(r.status, 403);
      assert.match(r.body, /only loopback clients without a token/);
      assert.equal((await get(`http://${ext}:${svc.port}/x`, {}, { localAddress: ext })).body, 'service');
    } finally {
      unmount();
      await svc.close();
    }
  });

  it('profiles Node has not (goroutine) are a clear 404 that tailprobe passes on', async () => {
    const agent = await startAgent({ port: 0 });
    try {
      const r = await get(`${agent.url}/debug/pprof/goroutine`);
      assert.equal(r.status, 404);
      await assert.rejects(
        fetchProfile(`${agent.url}/debug/pprof/goroutine`),
        /goroutine: HTTP 404: the service has no such profile \(server said: "Unknown profile: Node\.js has no goroutines/,
      );
      const text = await get(`${agent.url}/debug/pprof/block?debug=1`);
      assert.equal(text.status, 200);
      assert.match(text.body, /^Type: delay/);
    } finally {
      await agent.close();
    }
  });

  it('parses addresses and decides when to start by itself', () => {
    assert.deepEqual(parseAgentAddress('127.0.0.1:6060'), { host: '127.0.0.1', port: 6060 });
    assert.deepEqual(parseAgentAddress(':7070'), { host: '127.0.0.1', port: 7070 });
    assert.deepEqual(parseAgentAddress('7070'), { host: '127.0.0.1', port: 7070 });
    assert.deepEqual(parseAgentAddress('[::1]:6060'), { host: '::1', port: 6060 });
    assert.throws(() => parseAgentAddress('127.0.0.1:http'), /invalid TAILPROBE_AGENT/);
    assert.throws(() => parseAgentAddress('127.0.0.1:99999'), /invalid TAILPROBE_AGENT/);
    assert.equal(autoStartAddress({}, false), null, 'imported from code without env: nothing starts');
    assert.equal(autoStartAddress({}, true), '127.0.0.1:6060', '--import alone: loopback default');
    assert.equal(autoStartAddress({ TAILPROBE_AGENT: '0.0.0.0:7000' }, false), '0.0.0.0:7000');
    assert.equal(autoStartAddress({ TAILPROBE_AGENT: 'off' }, true), null);
    assert.equal(loadedByImportFlag(['--import', 'tailprobe/agent'], ''), true);
    assert.equal(loadedByImportFlag(['--import=tailprobe/agent'], ''), true);
    assert.equal(loadedByImportFlag([], '--import tailprobe/agent'), true);
    assert.equal(loadedByImportFlag(['--import', './dist/src/agent/index.js'], ''), true);
    assert.equal(loadedByImportFlag(['--import', 'tsx'], ''), false);
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) assert.ok(isLoopbackHost(h), h);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1']) assert.ok(!isLoopbackHost(h), h);
  });

  it('node --import tailprobe/agent: on by itself, never fatal, never keeps the process alive', async () => {
    const run = (env: NodeJS.ProcessEnv) =>
      new Promise<{ code: number | null; stderr: string; stdout: string; ms: number }>((resolve) => {
        const t0 = Date.now();
        const child = spawn(process.execPath, ['--import', 'tailprobe/agent', '-e', 'console.log("service ran")'], {
          cwd: REPO_ROOT,
          env: { ...process.env, TAILPROBE_AGENT: undefined, TAILPROBE_AGENT_TOKEN: undefined, ...env },
        });
        let stderr = '';
        let stdout = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d));
        child.stdout.on('data', (d: Buffer) => (stdout += d));
        const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.on('close', (code) => {
          clearTimeout(kill);
          resolve({ code, stderr, stdout, ms: Date.now() - t0 });
        });
      });
    // No environment: the default address (or a clear line if someone else holds it).
    const dflt = await run({});
    assert.equal(dflt.code, 0);
    assert.match(dflt.stdout, /service ran/);
    assert.match(dflt.stderr, /tailprobe agent: (profiling endpoints on http:\/\/127\.0\.0\.1:6060\/debug\/pprof\/|127\.0\.0\.1:6060 is already in use)/);
    assert.ok(dflt.ms < 10_000, 'the agent must not keep a finished service alive');
    // Off.
    const off = await run({ TAILPROBE_AGENT: 'off' });
    assert.equal(off.code, 0);
    assert.equal(off.stderr, '');
    // Refused bind: one line, and the service still runs.
    const open = await run({ TAILPROBE_AGENT: '0.0.0.0:0' });
    assert.equal(open.code, 0);
    assert.match(open.stdout, /service ran/);
    assert.match(open.stderr, /^tailprobe agent: refusing to listen on 0\.0\.0\.0:0 without a token/);
    assert.equal(open.stderr.trim().split('\n').length, 1);
  });
});
