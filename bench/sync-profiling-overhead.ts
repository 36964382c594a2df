/**
 * What contention profiling costs, on and off: the number behind "cheap enough to leave on".
 *
 *   npx tsc -p . && node dist/bench/sync-profiling-overhead.js [-rounds=15] [-quick]
 *
 * Measured in CPU time per op (process.cpuUsage), not wall time: on a shared machine the wall clock
 * mostly measures the neighbours. Variants run interleaved, round after round, and each is
 * compared with profiling off by a Mann-Whitney U test (as `tailprobe bench -compare` does).
 *
 * - uncontended: lock + release of a free Mutex, the fast path (records nothing either way);
 * - contended:   each op is one hand-off to a queued waiter (one block and one mutex event), with
 *                profiling off, on without stacks (the timestamps and counters alone), on with the
 *                default stack budget (100/s), and on with a stack for every event.
 */
import { Mutex, setContentionProfiling } from '../src/sync/index.js';
import { mannWhitneyU, median } from '../src/bench/index.js';

const argv = process.argv.slice(2);
const QUICK = argv.includes('-quick') || argv.includes('--quick');
const ROUNDS = Number(/^--?rounds=(\d+)$/.exec(argv.find((a) => /rounds=/.test(a)) ?? '')?.[1] ?? (QUICK ? 5 : 15));

interface Variant {
  name: string;
  ops: number;
  profiling: boolean;
  maxStacksPerSecond?: number;
  contended: boolean;
}

const VARIANTS: Variant[] = [
  { name: 'uncontended, off', ops: 100_000, profiling: false, contended: false },
  { name: 'uncontended, on', ops: 100_000, profiling: true, contended: false },
  { name: 'contended, off', ops: 20_000, profiling: false, contended: true },
  { name: 'contended, on (no stacks)', ops: 20_000, profiling: true, maxStacksPerSecond: 0, contended: true },
  { name: 'contended, on (100 stacks/s)', ops: 20_000, profiling: true, maxStacksPerSecond: 100, contended: true },
  { name: 'contended, on (every stack)', ops: 2_000, profiling: true, maxStacksPerSecond: Infinity, contended: true },
];

async function cpuNsPerOp(v: Variant): Promise<number> {
  setContentionProfiling(false);
  setContentionProfiling(v.profiling, { maxStacksPerSecond: v.maxStacksPerSecond ?? 100 });
  const m = new Mutex('overhead');
  const before = process.cpuUsage();
  if (v.contended) {
    for (let i = 0; i < v.ops; i++) {
      const hold = await m.lock();
      const waiter = m.lock();
      hold();
      (await waiter)();
    }
  } else {
    for (let i = 0; i < v.ops; i++) (await m.lock())();
  }
  const d = process.cpuUsage(before);
  setContentionProfiling(false);
  return ((d.user + d.system) * 1000) / v.ops;
}

const samples = new Map<string, number[]>(VARIANTS.map((v) => [v.name, []]));
for (const v of VARIANTS) await cpuNsPerOp({ ...v, ops: Math.min(v.ops, 5000) }); // warm-up
for (let r = 0; r < ROUNDS; r++) {
  for (const v of VARIANTS) samples.get(v.name)!.push(await cpuNsPerOp(v));
  process.stderr.write('.');
}
process.stderr.write('\n');

const rows = [['variant', 'CPU ns/op (median)', 'vs off', 'p']];
for (const v of VARIANTS) {
  const xs = samples.get(v.name)!;
  const base = samples.get(v.contended ? 'contended, off' : 'uncontended, off')!;
  const self = xs === base;
  const { p } = mannWhitneyU(base, xs);
  const delta = median(xs) - median(base);
  rows.push([
    v.name,
    median(xs).toFixed(0),
    self ? '' : `${delta >= 0 ? '+' : ''}${delta.toFixed(0)} ns (${((100 * delta) / median(base)).toFixed(0)}%)`,
    self ? '' : p <= 0.05 ? p.toFixed(3) : `${p.toFixed(3)} ~`,
  ]);
}
const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
process.stdout.write(`${ROUNDS} interleaved rounds, node ${process.version} ("~": not significant at 0.05)\n`);
process.stdout.write(rows.map((r) => r.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd()).join('\n') + '\n');
