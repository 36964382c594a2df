import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { wallClockNs } from '../../src/time/wall.js';
import { captureProfiles, type CapturedProfile } from '../../src/profile/capture.js';
import { fetchAgentEvents } from '../../src/profile/events.js';
import { probeServer } from '../../src/profile/fetch.js';
import { labelTotals } from '../../src/profile/top.js';
import { runtimeShare, topFunction } from '../../src/profile/summary.js';
import { functionTotals } from '../../src/profile/top.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';
import { GO_CANDIDATES, requireTool } from '../helpers/tools.js';
import { startNodeService, type RunningService } from '../profile/fixture-services.js';

/**
 * The agent in a real Node service (`node --import tailprobe/agent`), with a known hot function,
 * a known allocating function and a contended tailprobe/sync lock: its profiles rank them first,
 * and Go's own `go tool pprof` reads every profile it writes.
 */
describe('agent in a Node service', () => {
  let service: RunningService;
  let captured: CapturedProfile[] = [];
  let windowStart = 0n;
  let windowEnd = 0n;
  const outDir = tempDir('tailprobe-agentprof-');
  let setup: Promise<void> | null = null;

  function ready(): Promise<void> {
    setup ??= (async () => {
      service = await startNodeService();
      // Let the fixture's work reach a steady state before the window.
      await new Promise((r) => setTimeout(r, 300));
      windowStart = wallClockNs();
      captured = await captureProfiles({ url: service.url, types: ['cpu', 'heap', 'allocs', 'block', 'mutex'], seconds: 2, outDir });
      windowEnd = wallClockNs();
    })();
    return setup;
  }
  after(async () => {
    await service?.stop();
    rmSync(outDir, { recursive: true, force: true });
  });
  const get = (type: string) => {
    const c = captured.find((x) => x.type === type);
    assert.ok(c, `no ${type} profile`);
    return c;
  };

  it('is recognised as the agent', async () => {
    await ready();
    const info = await probeServer(service.url);
    assert.equal(info.kind, 'agent');
  });

  it('CPU: spinHotLoop is the top JavaScript function; GC is seen as V8 GC', async () => {
    await ready();
    const cpu = get('cpu').profile;
    const rows = functionTotals(cpu).rows;
    const js = rows.filter((r) => !r.name.startsWith('('));
    assert.equal(js[0]?.name, 'spinHotLoop', `top JS functions: ${js.slice(0, 5).map((r) => r.name)}`);
    const total = rows.reduce((s, r) => s + r.flat, 0);
    assert.ok(js[0]!.flat / total > 0.2, `spinHotLoop has ${((100 * js[0]!.flat) / total).toFixed(1)}% of CPU`);
    assert.ok(js[0]!.file.endsWith(join('nodeservice', 'server.mjs')), js[0]!.file);
    const share = runtimeShare(cpu);
    assert.equal(share.runtime, 'v8');
    assert.ok(share.gcFraction > 0, 'the fixture allocates: some GC must show');
    assert.match(share.label, /^GC: \d+\.\d% of CPU in V8's \(garbage collector\)/);
    // Idle time is not CPU: a service idle half the time must not show (idle).
    assert.ok(!rows.some((r) => r.name === '(idle)'));
  });

  it('heap and allocs: allocateRecords is the top allocating function', async () => {
    await ready();
    assert.equal(topFunction(get('allocs').profile)?.name, 'allocateRecords');
    assert.equal(topFunction(get('heap').profile)?.name, 'allocateRecords');
    const st = (c: CapturedProfile) => c.profile.sampleType.map((t) => c.profile.stringTable.strings[Number(t.type)]);
    assert.deepEqual(st(get('heap')), ['samples', 'inuse_space']);
    assert.deepEqual(st(get('allocs')), ['samples', 'alloc_space']);
  });

  it('block and mutex: readSharedCache on "cacheLock" is where the contention is', async () => {
    await ready();
    for (const type of ['block', 'mutex']) {
      const p = get(type).profile;
      assert.equal(topFunction(p)?.name, 'readSharedCache', type);
      assert.equal(labelTotals(p, 'lock')[0]?.value, 'cacheLock', type);
      const st = p.sampleType.map((t) => p.stringTable.strings[Number(t.type)]);
      assert.deepEqual(st, ['contentions', 'delay']);
    }
  });

  it('GC pauses and stalls come back as RunEvents inside the window', async () => {
    await ready();
    const events = await fetchAgentEvents(service.url, windowStart, windowEnd);
    const gc = events.filter((e) => e.kind === 'gc');
    assert.ok(gc.length > 0, 'the fixture allocates steadily: GC pauses expected');
    for (const e of events) {
      assert.ok(e.start + BigInt(e.duration) >= windowStart && e.start <= windowEnd, 'event outside the window');
      assert.ok(e.duration >= 0);
    }
    assert.ok(gc.every((e) => /scavenge|mark-sweep-compact|incremental-marking|weak-callbacks/.test(e.detail)));
  });

  it('go tool pprof -top reads every profile the agent wrote, with the JS names', async (t: TestContext) => {
    await ready();
    const go = requireTool(t, 'go', GO_CANDIDATES, 'golang-go');
    if (!go) return;
    const expect: Record<string, string> = {
      cpu: 'spinHotLoop',
      heap: 'allocateRecords',
      allocs: 'allocateRecords',
      block: 'readSharedCache',
      mutex: 'readSharedCache',
    };
    for (const [type, name] of Object.entries(expect)) {
      const r: SpawnSyncReturns<string> = spawnSync(go, ['tool', 'pprof', '-top', join(outDir, `${type}.pb.gz`)], {
        encoding: 'utf8',
        env: { ...process.env, HOME: outDir, PPROF_TMPDIR: outDir },
        timeout: 60_000,
      });
      assert.equal(r.status, 0, `${type}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`\\s${name}\\s*$`, 'm'), `${type}:\n${r.stdout}`);
      assert.match(r.stdout, /^Type: /m);
    }
  });

  it('the CLI summarises the agent\'s GC pauses and stalls after the tables', async () => {
    await ready();
    const out = tempDir('tailprobe-agentprof-cli-');
    try {
      const r = await runCli(['profile', `-url=${service.url}`, '-types=cpu', '-seconds=1', `-out=${out}`, '-n=3']);
      assert.equal(r.code, 0, r.stderr);
      const stdout = r.stdout.toString();
      assert.match(stdout, /spinHotLoop/);
      assert.match(stdout, /^agent: (\d+ GC pauses|no GC pauses)/m);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
