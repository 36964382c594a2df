import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startAgent, wallClockNs } from '../../src/agent/index.js';
import { profileAttackPlugin } from '../../src/profile/attack-plugin.js';
import { profileWindow } from '../../src/profile/during-attack.js';
import { probeServer } from '../../src/profile/fetch.js';
import type { RunInfo } from '../../src/results/result.js';
import { openResults } from '../../src/results/reader.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';
import { busyWait } from '../helpers/servers.js';
import { startNodeService } from './fixture-services.js';

/** Profiling during an attack: the window, and the plugin's start/end as the attack drives it. */
describe('profiling during an attack', () => {
  const dir = tempDir('tailprobe-during-');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('profiles the steady part: after 20% warm-up, done before the last 10%', () => {
    assert.deepEqual(profileWindow(10e9), { delayMs: 2000, seconds: 7 });
    assert.deepEqual(profileWindow(60e9), { delayMs: 12000, seconds: 42 });
    // Whole seconds, centred in what is left.
    assert.deepEqual(profileWindow(15e9), { delayMs: 3250, seconds: 10 });
    // Too short to have a steady part: one second, still after the warm-up.
    assert.deepEqual(profileWindow(1e9), { delayMs: 200, seconds: 1 });
    // Until interrupted: warm up 5 s, profile 30 s.
    assert.deepEqual(profileWindow(0), { delayMs: 5000, seconds: 30 });
    for (const d of [3e9, 10e9, 45e9, 120e9]) {
      const w = profileWindow(d);
      assert.ok(w.delayMs >= 0.2 * d / 1e6 - 1, `${d}: starts after the warm-up`);
      assert.ok(w.delayMs + w.seconds * 1000 <= 0.9 * d / 1e6 + 1, `${d}: ends before the tail`);
    }
  });

  it('as an attack plugin: profiles in the window, then hands back the agent events as run metadata', async () => {
    const agent = await startAgent({ port: 0, stallThresholdMs: 20 });
    try {
      const outDir = join(dir, 'p1');
      const server = await probeServer(agent.url);
      const plugin = profileAttackPlugin({ url: agent.url, types: ['cpu', 'allocs'], outDir, server });
      const startedAt = wallClockNs();
      const info = { startedAt, duration: 2e9 } as RunInfo;
      const ac = new AbortController();
      await plugin.onStart!({ info, signal: ac.signal });
      // The "attack": two seconds of work with garbage (GC pauses) and one stall.
      const until = Date.now() + 2000;
      let keep: unknown[] = [];
      while (Date.now() < until) {
        for (let i = 0; i < 20_000; i++) keep.push({ i });
        if (keep.length > 100_000) keep = [];
        await new Promise((r) => setTimeout(r, 5));
      }
      busyWait(60);
      const outcome = (await plugin.onEnd!({} as never))!;
      assert.equal(outcome.exitCode, 0, outcome.messages?.join('\n'));
      assert.ok(existsSync(join(outDir, 'cpu.pb.gz')));
      assert.ok(existsSync(join(outDir, 'allocs.pb.gz')));
      const msgs = outcome.messages!.join('\n');
      assert.match(msgs, /^profile: cpu -> .*cpu\.pb\.gz: GC: \d+\.\d% of CPU/m);
      assert.match(msgs, /^profile: allocs -> .*allocs\.pb\.gz: top allocating function: /m);
      assert.match(msgs, /^agent: \d+ GC pauses/m);
      const events = outcome.meta?.events ?? [];
      assert.ok(events.some((e) => e.kind === 'gc'));
      assert.ok(events.some((e) => e.kind === 'stall' && e.duration >= 40e6));
      assert.ok(events.every((e) => e.start + BigInt(e.duration) >= startedAt));
    } finally {
      await agent.close();
    }
  });

  it('an interrupted attack cancels the capture; the failure is a message and exit 1, never a throw', async () => {
    const agent = await startAgent({ port: 0 });
    try {
      const server = await probeServer(agent.url);
      const plugin = profileAttackPlugin({ url: agent.url, types: ['cpu'], outDir: join(dir, 'p2'), server });
      const ac = new AbortController();
      await plugin.onStart!({ info: { startedAt: wallClockNs(), duration: 4e9 } as RunInfo, signal: ac.signal });
      await new Promise((r) => setTimeout(r, 1200)); // inside the capture window (0.8 s .. 3.8 s)
      ac.abort();
      const outcome = (await plugin.onEnd!({} as never))!;
      assert.equal(outcome.exitCode, 1);
      assert.match(outcome.messages!.join('\n'), /tailprobe: profile: .*cancelled/);
    } finally {
      await agent.close();
    }
  });

  it('tailprobe attack -profile: load and profiles in one command, agent events in the results file', async () => {
    const svc = await startNodeService();
    try {
      const profDir = join(dir, 'attack-prof');
      const results = join(dir, 'run.bin');
      const r = await runCli(
        ['attack', '-rate=50', '-duration=3s', `-profile=${svc.url}`, '-profile-types=cpu,allocs,block', `-profile-out=${profDir}`, `-output=${results}`, '-quiet'],
        { input: `GET ${svc.serviceUrl}/lookup\n`, timeoutMs: 60_000 },
      );
      assert.equal(r.code, 0, r.stderr);
      for (const t of ['cpu', 'allocs', 'block']) assert.ok(existsSync(join(profDir, `${t}.pb.gz`)), t);
      assert.match(r.stderr, /^profile: cpu -> .*: GC: \d+\.\d% of CPU/m);
      assert.match(r.stderr, /^profile: allocs -> .*: top allocating function: allocateRecords/m);
      assert.match(r.stderr, /^profile: block -> .*: top waiting call site: readSharedCache/m);
      assert.match(r.stderr, /^agent: \d+ GC pauses/m);
      const src = await openResults(results);
      let n = 0;
      for await (const batch of src.batches()) n += batch.length;
      assert.ok(n >= 100, `${n} results`);
      const gc = src.meta.events.filter((e) => e.kind === 'gc');
      assert.ok(gc.length > 0, 'GC pauses of the attack window in the results file');
      const t0 = src.meta.info!.startedAt;
      assert.ok(gc.every((e) => e.start + BigInt(e.duration) >= t0), 'events from the attack window only');
    } finally {
      await svc.stop();
    }
  });

  it('attack -profile at a URL that is not pprof fails before any load is sent', async () => {
    const r = await runCli(['attack', '-rate=50', '-duration=2s', '-profile=http://127.0.0.1:1', '-output=/dev/null'], { input: 'GET http://127.0.0.1:1/\n' });
    assert.equal(r.code, 1);
    assert.match(r.stderr.trim(), /^tailprobe: http:\/\/127\.0\.0\.1:1\/debug\/pprof\/: connection refused/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    const u = await runCli(['attack', '-rate=50', '-duration=2s', '-profile-types=cpu', '-output=/dev/null'], { input: 'GET http://127.0.0.1:1/\n' });
    assert.equal(u.code, 2);
    assert.match(u.stderr, /-profile-types needs -profile=URL/);
  });
});
