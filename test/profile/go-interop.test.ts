import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { captureProfiles, CaptureError, type CapturedProfile } from '../../src/profile/capture.js';
import { fetchProfile, probeServer } from '../../src/profile/fetch.js';
import { runtimeShare, topFunction } from '../../src/profile/summary.js';
import { functionTotals } from '../../src/profile/top.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';
import { GO_CANDIDATES, requireTool } from '../helpers/tools.js';
import { buildGoService, startGoService, type RunningService } from './fixture-services.js';

/**
 * Interop with Go's real net/http/pprof (Go 1.19): tailprobe fetches and parses the fixture's
 * CPU, heap, allocs, block, mutex and goroutine profiles and finds the functions the fixture is
 * known to spend its time in.
 */
describe('profiles from a Go service (net/http/pprof)', () => {
  let service: RunningService | null = null;
  let captured: CapturedProfile[] = [];
  let setup: Promise<void> | null = null;
  const dirs: string[] = [];

  /** Builds and starts the fixture once, captures its profiles once; false when Go is missing (skipped). */
  async function ready(t: TestContext): Promise<boolean> {
    if (!requireTool(t, 'go', GO_CANDIDATES, 'golang-go')) return false;
    setup ??= (async () => {
      const built = buildGoService(t)!;
      dirs.push(built.dir);
      service = await startGoService(built.binary);
      // Let the fixture reach its steady state: Go's heap profile is as of the last completed GC,
      // and the fixture's live buffers take a second to fill.
      await new Promise((r) => setTimeout(r, 1500));
      captured = await captureProfiles({
        url: service.url,
        types: ['cpu', 'heap', 'allocs', 'block', 'mutex', 'goroutine'],
        seconds: 2,
        outDir: temp('tailprobe-goprof-'),
      });
    })();
    await setup;
    return true;
  }
  const temp = (prefix?: string) => {
    const d = tempDir(prefix);
    dirs.push(d);
    return d;
  };
  after(async () => {
    await service?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const get = (type: string) => {
    const c = captured.find((x) => x.type === type);
    assert.ok(c, `no ${type} profile captured`);
    return c;
  };
  const names = (c: CapturedProfile, sampleType?: string) => {
    const idx = sampleType ? c.profile.sampleType.findIndex((t) => c.profile.stringTable.strings[Number(t.type)] === sampleType) : undefined;
    return functionTotals(c.profile, { sampleIndex: idx }).rows;
  };

  it('probes the index as Go', async (t) => {
    if (!(await ready(t))) return;
    const info = await probeServer(service!.url);
    assert.equal(info.kind, 'go');
    assert.match(info.base, /\/debug\/pprof\/$/);
  });

  it('writes one gzipped file per type', async (t) => {
    if (!(await ready(t))) return;
    for (const c of captured) {
      assert.equal(c.file, join(c.file, '..', `${c.type}.pb.gz`));
      assert.ok(existsSync(c.file));
    }
    assert.equal(captured.length, 6);
  });

  it('CPU: main.burnCPU does much of the work; the runtime is recognised as Go', async (t) => {
    if (!(await ready(t))) return;
    const cpu = get('cpu');
    const rows = names(cpu);
    const burn = rows.find((r) => r.name === 'main.burnCPU');
    assert.ok(burn, `main.burnCPU not in ${rows.slice(0, 10).map((r) => r.name)}`);
    // Loose bounds: a busy shared machine shifts the shares, not the ranking of the fixture's own code.
    assert.equal(rows.find((r) => r.name.startsWith('main.'))?.name, 'main.burnCPU');
    const total = rows.reduce((s, r) => s + r.flat, 0);
    assert.ok(burn.cum / total > 0.15, `main.burnCPU cum ${burn.cum} of ${total}`);
    const share = runtimeShare(cpu.profile);
    assert.equal(share.runtime, 'go');
    assert.ok(share.gcFraction >= 0 && share.gcFraction < 1);
    assert.match(share.label, /^GC: \d+\.\d% of CPU/);
  });

  it('heap and allocs: main.allocateGarbage is the top allocating function', async (t) => {
    if (!(await ready(t))) return;
    assert.equal(topFunction(get('heap').profile)?.name, 'main.allocateGarbage');
    assert.equal(topFunction(get('heap').profile, 'alloc_space')?.name, 'main.allocateGarbage');
    const allocs = get('allocs');
    // The delta profile's default is set to alloc_space on capture (Go's merge drops it).
    assert.equal(allocs.profile.stringTable.strings[Number(allocs.profile.defaultSampleType)], 'alloc_space');
    const top = topFunction(allocs.profile);
    assert.equal(top?.name, 'main.allocateGarbage');
    assert.ok(top!.value > 0);
  });

  it('block and mutex: the contended lock shows at main.contendedLookup', async (t) => {
    if (!(await ready(t))) return;
    for (const type of ['block', 'mutex']) {
      const c = get(type);
      const st = c.profile.sampleType.map((x) => c.profile.stringTable.strings[Number(x.type)]);
      assert.deepEqual(st, ['contentions', 'delay']);
      assert.ok(names(c).some((r) => r.name === 'main.contendedLookup'), `${type}: main.contendedLookup missing`);
      // The finding names the caller of Lock, not the lock's own frames or pprof's handlers.
      assert.equal(topFunction(c.profile)?.name, 'main.contendedLookup', type);
    }
  });

  it('goroutine: the fixture goroutines are there', async (t) => {
    if (!(await ready(t))) return;
    assert.ok(names(get('goroutine')).some((r) => r.name.startsWith('main.')));
  });

  it('a second concurrent CPU profile is refused by Go, and said so in one line', async (t) => {
    if (!(await ready(t))) return;
    const first = fetchProfile(`${service!.url}/debug/pprof/profile?seconds=2`);
    await new Promise((r) => setTimeout(r, 300));
    await assert.rejects(fetchProfile(`${service!.url}/debug/pprof/profile?seconds=1`), /another CPU profile is already running/);
    await first;
  });

  it('the CLI prints top tables and the GC share, and writes the files', async (t) => {
    if (!(await ready(t))) return;
    const out = temp('tailprobe-goprof-cli-');
    const r = await runCli(['profile', `-url=${service!.url}`, '-types=cpu,heap,block,mutex', '-seconds=1', `-out=${out}`, '-n=5']);
    const stdout = r.stdout.toString();
    assert.equal(r.code, 0, r.stderr);
    assert.match(stdout, /== cpu: .*cpu\.pb\.gz/);
    assert.match(stdout, /flat\s+flat%\s+sum%\s+cum\s+cum%/);
    assert.match(stdout, /GC: \d+\.\d% of CPU/);
    assert.match(stdout, /top allocating function: main\.allocateGarbage/);
    assert.match(stdout, /call site: main\.contendedLookup/);
    for (const f of ['cpu', 'heap', 'block', 'mutex']) assert.ok(existsSync(join(out, `${f}.pb.gz`)), f);
  });

  it('capture errors keep the profiles that succeeded', async (t) => {
    if (!(await ready(t))) return;
    // cpu while another CPU profile runs (refused), and heap (fine): the heap is kept.
    const busy = fetchProfile(`${service!.url}/debug/pprof/profile?seconds=2`);
    await new Promise((r) => setTimeout(r, 300));
    const err = await captureProfiles({ url: service!.url, types: ['cpu', 'heap'], seconds: 1, outDir: temp() }).then(
      () => null,
      (e: unknown) => e,
    );
    await busy;
    assert.ok(err instanceof CaptureError);
    assert.deepEqual(err.captured.map((c) => c.type), ['heap']);
    assert.deepEqual(err.failures.map((f) => f.type), ['cpu']);
  });
});
