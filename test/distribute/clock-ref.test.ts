import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket as createUdp } from 'node:dgram';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sntpMeasure } from '../../src/time/index.js';
import { openResults } from '../../src/results/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';
import { listen } from '../helpers/servers.js';
import { requireTool } from '../helpers/tools.js';

/** A free UDP port on loopback (bound, read, released). */
async function freeUdpPort(): Promise<number> {
  const s = createUdp('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A real NTP server: chronyd on loopback serving its local clock, with -x (it never sets the system clock). */
async function chronyd(t: TestContext, dir: string): Promise<{ server: string; stop: () => Promise<void> } | null> {
  const bin = requireTool(t, 'chronyd', ['/usr/sbin/chronyd'], 'chrony');
  if (!bin) return null;
  const port = await freeUdpPort();
  const conf = join(dir, 'chrony.conf');
  writeFileSync(conf, [`port ${port}`, 'bindaddress 127.0.0.1', 'cmdport 0', 'local stratum 8', 'allow 127.0.0.1', `pidfile ${join(dir, 'chronyd.pid')}`, ''].join('\n'));
  const child: ChildProcess = spawn(bin, ['-x', '-d', '-f', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  const server = `127.0.0.1:${port}`;
  // Ready when it answers.
  for (let i = 0; i < 50; i++) {
    if (await sntpMeasure(server, { samples: 1, timeoutMs: 100 }).then(() => true, () => false)) break;
    if (child.exitCode !== null) throw new Error('chronyd exited at start');
  }
  return {
    server,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.on('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

test('SNTP against a real NTP server (chronyd on loopback): the offset it measures is within its own error bound of zero', { timeout: 60_000 }, async (t) => {
  const dir = tempDir();
  const ntp = await chronyd(t, dir);
  if (!ntp) return rmSync(dir, { recursive: true, force: true });
  try {
    const m = await sntpMeasure(ntp.server);
    // One machine, one clock: the true offset is 0, so |measured| must not exceed the bound it claims.
    assert.ok(Math.abs(m.offsetNs) <= m.maxErrorNs, `offset ${m.offsetNs} ns, bound ${m.maxErrorNs} ns`);
    assert.equal(m.stratum, 8, 'chronyd serving its local clock at "local stratum 8"');
    assert.equal(m.samples, 8);
    t.diagnostic(`offset ${m.offsetNs} ns, error bound ${m.maxErrorNs} ns, best round trip ${m.delayNs} ns`);

    // A shard given -clock-ref records what it measured in its results file.
    const srv = await listen((_req, res) => res.end('ok'));
    try {
      const targets = join(dir, 't.txt');
      writeFileSync(targets, `GET ${srv.url}/\n`);
      for (const [ref, want] of [[ntp.server, /^ntp 127\.0\.0\.1:\d+: offset -?\d+ ns, error < \d+ ns/], ['127.0.0.1:9', /did not answer/]] as const) {
        const out = join(dir, 'shard.bin');
        const r = await runCli(['attack', `-targets=${targets}`, '-rate=20', '-duration=500ms', '-shard=1/2', '-start-at=+3s', `-clock-ref=${ref}`, `-output=${out}`], { timeoutMs: 30_000 });
        assert.equal(r.code, 0, r.stderr);
        const src = await openResults(out);
        for await (const _ of src.batches()) {
          /* read to the end: the last info record carries the whole shard info */
        }
        const clock = src.meta.info!.shard!.clock;
        assert.equal(clock.source, 'reference');
        assert.match(clock.detail, want);
        if (ref === ntp.server) assert.ok(clock.offsetNs !== null && Math.abs(clock.offsetNs) <= clock.maxErrorNs!, clock.detail);
        assert.ok(clock.firstSendLagNs !== undefined && clock.firstSendLagNs >= 0);
      }
    } finally {
      await srv.close();
    }
  } finally {
    await ntp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a reference server that stops answering after its first reply costs the measurement\'s timeout once, not one per sample', { timeout: 30_000 }, async () => {
  // An NTP server on loopback that answers the first request only (as a server that starts
  // dropping, or rate-limits, would): mode 4, stratum 2, our transmit time echoed as the origin.
  const server = createUdp('udp4');
  let answered = 0;
  server.on('message', (req, rinfo) => {
    if (answered++ > 0) return;
    const res = Buffer.alloc(48);
    res[0] = (4 << 3) | 4;
    res[1] = 2;
    req.copy(res, 24, 40, 48); // origin = the client's transmit timestamp
    req.copy(res, 32, 40, 48); // receive and transmit: the client's own time (one machine, one clock)
    req.copy(res, 40, 40, 48);
    server.send(res, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
  try {
    const t0 = performance.now();
    const m = await sntpMeasure(`127.0.0.1:${server.address().port}`, { timeoutMs: 500 });
    const elapsed = performance.now() - t0;
    assert.equal(m.samples, 1);
    assert.equal(m.stratum, 2);
    // Seven more 500 ms timeouts would be at least 3.5 s; the whole measurement is bounded by 500 ms (plus a loaded machine's delays).
    assert.ok(elapsed < 3000, `took ${elapsed.toFixed(0)} ms`);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});
