/**
 * Where each of tailprobe/sync's shared-map strategies wins: Mutex vs RWMutex vs ShardedMap vs
 * CopyOnWriteMap, at read:write ratios from 1:1 to 10000:1, with critical sections from empty to
 * awaiting I/O, under concurrent async clients. The story's rule ("use an RWMutex" is a trade to
 * justify with the actual ratio in front of you) as a table.
 *
 *   npx tsc -p . && node dist/bench/sync-crossover.js            # about a minute
 *   node dist/bench/sync-crossover.js -quick                     # about 10 seconds
 *   node dist/bench/sync-crossover.js -clients=64 -keys=1000 -cell=500ms -json
 *
 * Each cell runs `clients` async clients in closed loops for `cell` time (in `rounds` interleaved
 * rounds, the median round reported) over a map of `keys` entries; an op is a read or (every
 * ratio+1-th op) a write of a random key:
 *
 * - empty:     the section is the map access alone (no await inside);
 * - immediate: the section holds the lock across one turn of the event loop (await setImmediate),
 *              like a read that consults something async before answering;
 * - timer-1ms: the section holds it across a 1 ms timer, like awaiting a backend call.
 *
 * Strategies: mutex (one Mutex for the map), rwmutex (one RWMutex), sharded (ShardedMap, 16 shards,
 * an RWMutex each), cow (CopyOnWriteMap: readers take a snapshot and never wait; writers copy the
 * map and swap, one at a time). For the empty section a reference column `none` shows a plain Map
 * with no lock at all: in one JS thread a synchronous section needs none; the others pay for async
 * locking that only sections with an await need.
 *
 * Reported per cell: throughput (ops/s, higher is better) and the p99 latency of an op (from asking
 * for the lock to releasing it), from an HDR histogram. Numbers vary with the machine and its load;
 * read the ratios between columns, and the winner of each row.
 */
import { DurationHistogram } from '../src/metrics/index.js';
import { CopyOnWriteMap, Mutex, RWMutex, ShardedMap } from '../src/sync/index.js';
import { formatNs } from '../src/bench/index.js';
import { parseDuration } from '../src/units/index.js';

type Strategy = 'none' | 'mutex' | 'rwmutex' | 'sharded' | 'cow';
type Section = 'empty' | 'immediate' | 'timer-1ms';

interface Cell {
  section: Section;
  ratio: number;
  strategy: Strategy;
  ops: number;
  opsPerSec: number;
  p99Ns: number;
  writes: number;
}

const args = new Map<string, string>();
for (const a of process.argv.slice(2)) {
  const m = /^--?([a-z]+)(?:=(.*))?$/.exec(a);
  if (!m) {
    process.stderr.write(`sync-crossover: unexpected argument ${a}\n`);
    process.exit(2);
  }
  args.set(m[1]!, m[2] ?? 'true');
}
const QUICK = args.get('quick') === 'true';
const CLIENTS = Number(args.get('clients') ?? 64);
const KEYS = Number(args.get('keys') ?? 1000);
const CELL_NS = parseDuration(args.get('cell') ?? (QUICK ? '100ms' : '800ms'));
const ROUNDS = Number(args.get('rounds') ?? 3);
/** Throughput differences under this fraction are treated as ties when naming the crossover. */
const TIE = 0.15;
const RATIOS = [1, 10, 100, 1000, 10000];
const SECTIONS: Section[] = ['empty', 'immediate', 'timer-1ms'];
const STRATEGIES: Strategy[] = ['mutex', 'rwmutex', 'sharded', 'cow'];

const immediate = () => new Promise<void>((resolve) => setImmediate(resolve));
const timer1ms = () => new Promise<void>((resolve) => setTimeout(resolve, 1));
const io: Record<Section, (() => Promise<void>) | null> = { empty: null, immediate, 'timer-1ms': timer1ms };

/** One read and one write of key k, for a strategy and a section. */
interface Target {
  read(k: string): Promise<unknown>;
  write(k: string, v: number): Promise<void>;
}

function makeTarget(strategy: Strategy, section: Section): Target {
  const wait = io[section];
  const initial: Array<[string, number]> = Array.from({ length: KEYS }, (_, i) => [`k${i}`, i]);
  switch (strategy) {
    case 'none': {
      const map = new Map(initial);
      return {
        read: async (k) => map.get(k),
        write: async (k, v) => {
          map.set(k, v);
        },
      };
    }
    case 'mutex': {
      const map = new Map(initial);
      const m = new Mutex('crossover');
      return {
        async read(k) {
          const release = await m.lock();
          try {
            const v = map.get(k);
            if (wait) await wait();
            return v;
          } finally {
            release();
          }
        },
        async write(k, v) {
          const release = await m.lock();
          try {
            if (wait) await wait();
            map.set(k, v);
          } finally {
            release();
          }
        },
      };
    }
    case 'rwmutex': {
      const map = new Map(initial);
      const rw = new RWMutex('crossover');
      return {
        async read(k) {
          const release = await rw.rlock();
          try {
            const v = map.get(k);
            if (wait) await wait();
            return v;
          } finally {
            release();
          }
        },
        async write(k, v) {
          const release = await rw.lock();
          try {
            if (wait) await wait();
            map.set(k, v);
          } finally {
            release();
          }
        },
      };
    }
    case 'sharded': {
      const map = new ShardedMap<string, number>({ shards: 16, name: 'crossover' });
      for (const [k, v] of initial) map.write(k, (m) => m.set(k, v));
      return {
        read: (k) => map.read(k, async (v) => {
          if (wait) await wait();
          return v;
        }),
        write: (k, v) => map.write(k, async (m) => {
          if (wait) await wait();
          m.set(k, v);
        }),
      };
    }
    case 'cow': {
      const map = new CopyOnWriteMap<string, number>(initial, { name: 'crossover' });
      return {
        async read(k) {
          const snap = map.snapshot(); // a consistent view, held across the await without a lock
          const v = snap.get(k);
          if (wait) await wait();
          return v;
        },
        write: (k, v) => map.update(async (draft) => {
          if (wait) await wait();
          draft.set(k, v);
        }),
      };
    }
  }
}

async function runCell(strategy: Strategy, section: Section, ratio: number, cellNs = CELL_NS): Promise<Cell> {
  const target = makeTarget(strategy, section);
  await new Promise((r) => setImmediate(r)); // let a sharded map's initial writes land
  const hist = new DurationHistogram();
  let op = 0;
  let writes = 0;
  let seed = 0x9e3779b9 ^ ratio;
  const rand = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 4294967296;
  };
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(cellNs));
  const client = async () => {
    while (process.hrtime.bigint() < deadline) {
      const k = `k${Math.floor(rand() * KEYS)}`;
      const isWrite = op++ % (ratio + 1) === ratio;
      const t0 = process.hrtime.bigint();
      if (isWrite) {
        writes++;
        await target.write(k, op);
      } else await target.read(k);
      hist.record(Number(process.hrtime.bigint() - t0));
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  const elapsed = Number(process.hrtime.bigint() - start);
  return { section, ratio, strategy, ops: hist.count, opsPerSec: (hist.count / elapsed) * 1e9, p99Ns: hist.percentile(99), writes };
}

function fmtRate(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M/s`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k/s`;
  return `${x.toFixed(0)}/s`;
}

function table(rows: string[][]): string {
  const w: number[] = [];
  for (const r of rows) r.forEach((c, i) => (w[i] = Math.max(w[i] ?? 0, [...c].length)));
  return rows.map((r) => r.map((c, i) => c + ' '.repeat(w[i]! - [...c].length)).join('  ').trimEnd()).join('\n');
}

async function main(): Promise<void> {
  const cells: Cell[] = [];
  const t0 = Date.now();
  process.stderr.write(`sync-crossover: ${CLIENTS} clients, ${KEYS} keys, ${formatNs(CELL_NS)} per cell, node ${process.version}\n`);
  // Warm-up, not reported: the first cells would otherwise also measure the JIT compiling the locks.
  for (const strategy of ['none', ...STRATEGIES] as Strategy[]) {
    for (const section of ['empty', 'immediate'] as Section[]) await runCell(strategy, section, 10, QUICK ? 20e6 : 60e6);
  }
  for (const section of SECTIONS) {
    const strategies = section === 'empty' ? ['none' as const, ...STRATEGIES] : STRATEGIES;
    for (const ratio of RATIOS) {
      // Rounds interleave the strategies, so that a burst of load from elsewhere on the machine
      // hits all of them rather than one; each cell reports its median round.
      const rounds = new Map<Strategy, Cell[]>(strategies.map((s) => [s, []]));
      for (let r = 0; r < ROUNDS; r++) {
        for (const strategy of strategies) rounds.get(strategy)!.push(await runCell(strategy, section, ratio, CELL_NS / ROUNDS));
      }
      for (const strategy of strategies) {
        const rs = rounds.get(strategy)!.sort((a, b) => a.opsPerSec - b.opsPerSec);
        cells.push(rs[rs.length >> 1]!);
      }
      process.stderr.write('.');
    }
  }
  process.stderr.write(` ${((Date.now() - t0) / 1000).toFixed(0)}s\n`);

  if (args.get('json') === 'true') {
    process.stdout.write(JSON.stringify(cells, null, 2) + '\n');
    return;
  }
  const out: string[] = [];
  for (const section of SECTIONS) {
    const strategies = section === 'empty' ? (['none', ...STRATEGIES] as Strategy[]) : STRATEGIES;
    out.push(`\ncritical section: ${section}  (ops/s and p99 of an op, median of ${ROUNDS} rounds; * = most ops/s among the locks)`);
    const rows = [['read:write', ...strategies, 'winner', 'best/mutex', 'rwmutex/mutex']];
    for (const ratio of RATIOS) {
      const row = cells.filter((c) => c.section === section && c.ratio === ratio);
      const contenders = row.filter((c) => c.strategy !== 'none');
      const best = contenders.reduce((a, b) => (b.opsPerSec > a.opsPerSec ? b : a));
      const mutex = row.find((c) => c.strategy === 'mutex')!;
      rows.push([
        `${ratio}:1`,
        ...strategies.map((s) => {
          const c = row.find((x) => x.strategy === s)!;
          return `${fmtRate(c.opsPerSec)} ${formatNs(c.p99Ns)}${c === best ? '*' : ''}`;
        }),
        best.strategy,
        `${(best.opsPerSec / mutex.opsPerSec).toFixed(1)}x`,
        `${(row.find((c) => c.strategy === 'rwmutex')!.opsPerSec / mutex.opsPerSec).toFixed(2)}x`,
      ]);
    }
    out.push(table(rows));
    // The crossover: where the leader changes. A leader keeps its place while it stays within
    // TIE of the row's best: differences smaller than that are this machine's noise, not a verdict.
    let leader: Strategy | null = null;
    const changes: string[] = [];
    for (const ratio of RATIOS) {
      const row = cells.filter((c) => c.section === section && c.ratio === ratio && c.strategy !== 'none');
      const best = row.reduce((a, b) => (b.opsPerSec > a.opsPerSec ? b : a));
      const held = row.find((c) => c.strategy === leader);
      if (leader === null) leader = best.strategy;
      else if (!held || held.opsPerSec < best.opsPerSec * (1 - TIE)) {
        changes.push(`${leader} -> ${best.strategy} at ${ratio}:1`);
        leader = best.strategy;
      }
    }
    const first = cells.filter((c) => c.section === section && c.ratio === RATIOS[0] && c.strategy !== 'none').reduce((a, b) => (b.opsPerSec > a.opsPerSec ? b : a));
    out.push(changes.length
      ? `crossover (ignoring differences under ${TIE * 100}%): ${first.strategy} first; ${changes.join('; ')}`
      : `no crossover (beyond ${TIE * 100}%): ${first.strategy} leads at every ratio`);
  }
  process.stdout.write(out.join('\n') + '\n');
}

await main();
