import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ProfileBuilder, encodeProfile, type Frame } from '../../src/profile/builder.js';
import { parseProfile, parseV8Json } from '../../src/profile/parse.js';
import { headline, profileKind, runtimeShare, topFunction } from '../../src/profile/summary.js';
import { formatValue, functionTotals, topTable } from '../../src/profile/top.js';
import { cpuProfileToPprof, type V8CpuProfile } from '../../src/profile/v8.js';
import { contentionDelta, contentionToPprof } from '../../src/profile/contention.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';
import { GO_CANDIDATES, requireTool } from '../helpers/tools.js';

/** Reading profiles: top tables, the GC share, findings, and V8 JSON profiles converted. */

const f = (name: string, file = 'main.go', line = 1): Frame => ({ name, file, line });

/** A CPU profile from stacks written root first ("main;a;b") with their cpu ns. */
function cpu(stacks: Record<string, number>) {
  const b = new ProfileBuilder({ sampleTypes: [['samples', 'count'], ['cpu', 'nanoseconds']], periodType: ['cpu', 'nanoseconds'], period: 1e7, durationNanos: 1e9 });
  for (const [s, ns] of Object.entries(stacks)) {
    const ids = s.split(';').reverse().map((n) => b.location(f(n)));
    b.sample(ids, [ns / 1e7, ns]);
  }
  // Through the wire format and back, as every real profile comes.
  return parseProfile(encodeProfile(b.build()), 'test');
}

describe('top tables', () => {
  const p = cpu({ 'main.main;main.a;main.b': 600e6, 'main.main;main.a': 300e6, 'main.main;main.c': 100e6 });

  it('flat and cumulative per function, like go tool pprof -top', () => {
    const { rows, total } = functionTotals(p);
    assert.equal(total, 1e9);
    assert.deepEqual(rows.map((r) => [r.name, r.flat, r.cum]), [
      ['main.b', 600e6, 600e6],
      ['main.a', 300e6, 900e6],
      ['main.c', 100e6, 100e6],
      ['main.main', 0, 1e9],
    ]);
    const text = topTable(p);
    assert.match(text, /^Type: cpu$/m);
    assert.match(text, /^Duration: 1s, Total cpu = 1s$/m);
    assert.match(text, /^Showing nodes accounting for 1s, 100\.00% of 1s total$/m);
    assert.match(text, /^\s+flat\s+flat%\s+sum%\s+cum\s+cum%$/m);
    assert.match(text, /^\s+600ms\s+60\.00%\s+60\.00%\s+600ms\s+60\.00%\s+main\.b$/m);
    assert.match(text, /^\s+300ms\s+30\.00%\s+90\.00%\s+900ms\s+90\.00%\s+main\.a$/m);
  });

  it('-cum sorts by cumulative value; -n cuts', () => {
    const text = topTable(p, { cum: true, n: 2 });
    const names = text.trim().split('\n').slice(-2).map((l) => l.trim().split(/\s+/).at(-1));
    assert.deepEqual(names, ['main.main', 'main.a']);
    assert.match(text, /Showing top 2 nodes out of 4/);
  });

  it('a recursive function counts once per sample in its cumulative value', () => {
    const r = cpu({ 'main.f;main.f;main.f': 100 });
    assert.deepEqual(functionTotals(r).rows.map((x) => [x.name, x.flat, x.cum]), [['main.f', 100, 100]]);
  });

  it('same name in two files: the table says which file', () => {
    const b = new ProfileBuilder({ sampleTypes: [['cpu', 'nanoseconds']], periodType: ['cpu', 'nanoseconds'], period: 1 });
    b.sample([b.location(f('handler', '/srv/a.js'))], [5]);
    b.sample([b.location(f('handler', '/srv/b.js'))], [3]);
    const text = topTable(b.build());
    assert.match(text, /handler \(\/srv\/a\.js\)$/m);
    assert.match(text, /handler \(\/srv\/b\.js\)$/m);
  });

  it('formats values in their unit as pprof does', () => {
    assert.equal(formatValue(1_234_567_890, 'nanoseconds'), '1.23s');
    assert.equal(formatValue(350e6, 'nanoseconds'), '350ms');
    assert.equal(formatValue(0, 'nanoseconds'), '0');
    assert.equal(formatValue(1536, 'bytes'), '1.50kB');
    assert.equal(formatValue(3 * 1024 * 1024, 'bytes'), '3.00MB');
    assert.equal(formatValue(12, 'bytes'), '12B');
    assert.equal(formatValue(42, 'count'), '42');
    assert.equal(formatValue(-2048, 'bytes'), '-2.00kB');
  });

  it('negative values of delta profiles survive the wire (int64, not ~2^64)', () => {
    const b = new ProfileBuilder({ sampleTypes: [['inuse_space', 'bytes']], periodType: ['space', 'bytes'], period: 524288 });
    b.sample([b.location(f('main.shrink'))], [-3 * 1024 * 1024]);
    b.sample([b.location(f('main.grow'))], [5 * 1024 * 1024]);
    const p2 = parseProfile(encodeProfile(b.build()), 'delta');
    const rows = functionTotals(p2).rows;
    assert.deepEqual(rows.map((r) => [r.name, r.flat]), [['main.grow', 5 * 1024 * 1024], ['main.shrink', -3 * 1024 * 1024]]);
    assert.match(topTable(p2), /-3\.00MB/);
  });
});

describe('runtime share (is the GC eating the tail?)', () => {
  it('Go: GC work anywhere on the stack, named by its outermost GC function; mallocgc apart', () => {
    const p = cpu({
      'runtime.gcBgMarkWorker;runtime.gcDrain;runtime.scanobject': 20,
      'main.handler;runtime.mallocgc;runtime.gcAssistAlloc;runtime.gcDrainN': 10,
      'main.handler;runtime.mallocgc;runtime.memclrNoHeapPointers': 5,
      'main.handler;main.work': 65,
    });
    const s = runtimeShare(p);
    assert.equal(s.runtime, 'go');
    assert.equal(s.gcFraction, 0.3);
    assert.equal(s.allocFraction, 0.05);
    assert.deepEqual(s.breakdown.map((b) => [b.name, b.fraction]), [['runtime.gcBgMarkWorker', 0.2], ['runtime.gcAssistAlloc', 0.1]]);
    assert.equal(
      s.label,
      'GC: 30.0% of CPU (runtime.gcBgMarkWorker 20.0%, runtime.gcAssistAlloc 10.0%); allocation (runtime.mallocgc, outside GC): 5.0% -- allocation pressure: look at the heap/allocs profile',
    );
  });

  it("V8: the (garbage collector) frame", () => {
    const p = cpu({ '(garbage collector)': 25, 'handler;spin': 70, '(program)': 5 });
    const s = runtimeShare(p);
    assert.equal(s.runtime, 'v8');
    assert.equal(s.gcFraction, 0.25);
    assert.match(s.label, /^GC: 25\.0% of CPU in V8's \(garbage collector\) -- allocation pressure/);
  });

  it('quiet GC gets no alarm; a non-CPU profile has no GC share', () => {
    assert.equal(runtimeShare(cpu({ '(garbage collector)': 2, 'x': 98 })).label, "GC: 2.0% of CPU in V8's (garbage collector)");
    const b = new ProfileBuilder({ sampleTypes: [['alloc_space', 'bytes']], periodType: ['space', 'bytes'], period: 1 });
    b.sample([b.location(f('x'))], [1]);
    const s = runtimeShare(b.build());
    assert.ok(Number.isNaN(s.gcFraction));
    assert.match(s.label, /n\/a \(a alloc_space profile, not CPU\)/);
  });
});

describe('contention profiles', () => {
  const rec = (fn: string, count: number, delayNs: number, lockName = 'cacheLock') => ({
    stack: [{ functionName: fn, file: 'file:///srv/app.js', line: 10, column: 3 }, { functionName: 'main', file: 'file:///srv/app.js', line: 50, column: 1 }],
    lockName,
    count,
    delayNs,
    mode: 'write' as const,
  });

  it('Go layout: contentions/count and delay/nanoseconds, period 1; lock name as a label', () => {
    const p = parseProfile(encodeProfile(contentionToPprof([rec('readCache', 4, 8e6)], { kind: 'block' })), 'block');
    const s = (i: unknown) => p.stringTable.strings[Number(i)];
    assert.deepEqual(p.sampleType.map((t) => [s(t.type), s(t.unit)]), [['contentions', 'count'], ['delay', 'nanoseconds']]);
    assert.deepEqual([s(p.periodType!.type), s(p.periodType!.unit), Number(p.period)], ['contentions', 'count', 1]);
    assert.equal(topFunction(p)?.name, 'readCache');
    assert.equal(functionTotals(p).rows[0]!.file, '/srv/app.js', 'file URLs become paths');
    assert.match(headline(p, 'block'), /^top waiting call site: readCache, 8ms \(100\.0% of delay\); most contended lock: "cacheLock"$/);
    assert.equal(profileKind(parseProfile(encodeProfile(contentionToPprof([], { kind: 'mutex' })), 'm')), 'mutex');
  });

  it('an empty profile explains itself', () => {
    const p = contentionToPprof([], { kind: 'block', emptyReason: 'no contention on tailprobe/sync locks yet' });
    assert.equal(p.sample.length, 0);
    assert.equal(headline(p, 'block'), 'empty: no contention on tailprobe/sync locks yet');
  });

  it('windows are differences of cumulative snapshots', () => {
    const d = contentionDelta([rec('a', 2, 10), rec('b', 1, 5)], [rec('a', 5, 40), rec('b', 1, 5), rec('c', 1, 7)]);
    assert.deepEqual(d.map((r) => [r.stack[0]!.functionName, r.count, r.delayNs]), [['a', 3, 30], ['c', 1, 7]]);
  });
});

describe('V8 JSON profiles', () => {
  const dir = tempDir('tailprobe-v8json-');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('converts a CPU profile: stacks, idle dropped, weights from time deltas', () => {
    const cf = (functionName: string, lineNumber = 0) => ({ functionName, scriptId: '1', url: 'file:///srv/app.js', lineNumber, columnNumber: 0 });
    const prof: V8CpuProfile = {
      nodes: [
        { id: 1, callFrame: { ...cf('(root)'), url: '', lineNumber: -1, columnNumber: -1 }, children: [2, 4, 5] },
        { id: 2, callFrame: cf('handler', 9), children: [3] },
        { id: 3, callFrame: cf('', 19) },
        { id: 4, callFrame: { ...cf('(idle)'), url: '' } },
        { id: 5, callFrame: { ...cf('(garbage collector)'), url: '' } },
      ],
      startTime: 0,
      endTime: 10_000,
      samples: [3, 3, 2, 4, 4, 5],
      timeDeltas: [0, 1000, 1000, 1000, 1000, 1000],
    };
    const p = cpuProfileToPprof(prof, { intervalNs: 1e6 });
    const rows = functionTotals(p).rows;
    assert.deepEqual(rows.map((r) => [r.name, r.flat, r.cum]), [
      ['(anonymous) app.js:20', 2e6, 2e6],
      ['handler', 1e6, 3e6],
      ['(garbage collector)', 1e6, 1e6],
    ]);
    assert.equal(rows[1]!.file, '/srv/app.js');
    assert.ok(!rows.some((r) => r.name === '(idle)'));
  });

  it('reads real `node --cpu-prof` and DevTools heap sampling files, and converts them for go tool pprof', async (t) => {
    const script = join(dir, 'work.js');
    // The heap profile is saved the way DevTools saves "Allocation sampling" (HeapProfiler's JSON):
    // `node --heap-prof` writes at exit, when the script's objects are already gone.
    writeFileSync(script, `
      const { Session } = require('node:inspector');
      const s = new Session(); s.connect();
      function burnTheCpu() { let x = 1; const end = Date.now() + 300; while (Date.now() < end) for (let i = 0; i < 1e5; i++) x = (x * 31 + i) | 0; return x; }
      const kept = [];
      function makeGarbage() { for (let i = 0; i < 200000; i++) kept.push({ i, s: 'v' + i }); }
      burnTheCpu();
      s.post('HeapProfiler.startSampling', { samplingInterval: 16384 }, () => {
        makeGarbage();
        s.post('HeapProfiler.getSamplingProfile', (err, r) => {
          require('node:fs').writeFileSync(${JSON.stringify(join(dir, 'work.heapprofile'))}, JSON.stringify(r.profile));
        });
      });
    `);
    const r = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const cpuFile = join(dir, readdirSync(dir).find((n) => n.endsWith('.cpuprofile'))!);
    const heapFile = join(dir, readdirSync(dir).find((n) => n.endsWith('.heapprofile'))!);
    assert.equal(functionTotals(parseV8Json(readFileSync(cpuFile), cpuFile)).rows.filter((x) => !x.name.startsWith('('))[0]?.name, 'burnTheCpu');

    const top = await runCli(['pprof', 'top', cpuFile, '-n=5']);
    assert.equal(top.code, 0, top.stderr);
    assert.match(top.stdout.toString(), /burnTheCpu/);
    assert.match(top.stdout.toString(), /^GC: /m);
    const heapTop = await runCli(['pprof', 'top', heapFile, '-n=5']);
    assert.equal(heapTop.code, 0, heapTop.stderr);
    assert.match(heapTop.stdout.toString(), /top allocating function: makeGarbage/);

    const out = join(dir, 'cpu.pb.gz');
    const conv = await runCli(['pprof', 'convert', cpuFile, '-o', out]);
    assert.equal(conv.code, 0, conv.stderr);
    const back = parseProfile(readFileSync(out), out);
    assert.equal(profileKind(back), 'cpu');
    const go = requireTool(t, 'go', GO_CANDIDATES, 'golang-go');
    if (!go) return;
    const gp: SpawnSyncReturns<string> = spawnSync(go, ['tool', 'pprof', '-top', out], { encoding: 'utf8', env: { ...process.env, HOME: dir } });
    assert.equal(gp.status, 0, gp.stderr);
    assert.match(gp.stdout, /burnTheCpu/);
  });
});
