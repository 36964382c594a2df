import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/**
 * Child processes for the benchmark: run a tool with a time bound, watch its memory (VmRSS from
 * /proc, summed over the process and its descendants, sampled while it runs) and account its CPU
 * exactly (the children's user+system time the kernel adds to us when we reap it).
 *
 * Every child is registered so that an interrupted or crashed benchmark never leaves a load
 * generator or a server running on a machine other engineers share.
 */

const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = parseInt(r.stdout ?? '', 10);
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

const live = new Set<ChildProcess>();
/** Extra cleanups (e.g. killing nginx's workers), run on exit. Must be synchronous. */
const exitHooks = new Set<() => void>();

/** Kills every child still running, synchronously (safe in an 'exit' handler). */
export function killAllChildren(): void {
  for (const hook of exitHooks) {
    try {
      hook();
    } catch {
      /* best effort */
    }
  }
  for (const c of live) {
    try {
      c.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  live.clear();
}
process.on('exit', killAllChildren);

export function onExitCleanup(hook: () => void): () => void {
  exitHooks.add(hook);
  return () => exitHooks.delete(hook);
}

/** Starts a child and tracks it until it exits. */
export function spawnTracked(cmd: string, args: string[], opts: Parameters<typeof spawn>[2] = {}): ChildProcess {
  const child = spawn(cmd, args, opts);
  live.add(child);
  child.on('exit', () => live.delete(child));
  child.on('error', () => live.delete(child));
  return child;
}

/** Fields of /proc/PID/stat after the command name (field 3 = state is index 0). */
function statFields(pid: number | 'self'): string[] | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** User+system CPU seconds a live process has used so far (all its threads). */
export function processCpuSec(pid: number): number {
  const f = statFields(pid);
  return f ? (parseInt(f[11]!, 10) + parseInt(f[12]!, 10)) / CLK_TCK : NaN;
}

/** CPU seconds of our reaped children (cutime + cstime): grows when a child exits and is waited for. */
export function reapedChildrenCpuSec(): number {
  const f = statFields('self');
  return f ? (parseInt(f[13]!, 10) + parseInt(f[14]!, 10)) / CLK_TCK : NaN;
}

/** CPU seconds of each thread of a live process so far (thread id -> seconds). */
export function threadCpuSec(pid: number): Array<{ tid: number; cpuSec: number }> {
  const out: Array<{ tid: number; cpuSec: number }> = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const s = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
        out.push({ tid: +tid, cpuSec: (parseInt(f[11]!, 10) + parseInt(f[12]!, 10)) / CLK_TCK });
      } catch {
        /* thread ended */
      }
    }
  } catch {
    /* process gone */
  }
  return out;
}

/** Resident memory now and at its peak (VmHWM), bytes; null when the process is gone. */
export function processMemory(pid: number): { rss: number; hwm: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+) kB/.exec(s);
    const hwm = /VmHWM:\s+(\d+) kB/.exec(s);
    if (!rss) return null;
    return { rss: +rss[1]! * 1024, hwm: hwm ? +hwm[1]! * 1024 : 0 };
  } catch {
    return null;
  }
}

/** The process and all its descendants (worker processes, if a tool forks). */
export function processTree(root: number): number[] {
  const parent = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(+name);
    if (!f) continue;
    const ppid = parseInt(f[1]!, 10);
    const kids = parent.get(ppid);
    if (kids) kids.push(+name);
    else parent.set(ppid, [+name]);
  }
  const out: number[] = [];
  const todo = [root];
  while (todo.length) {
    const p = todo.pop()!;
    out.push(p);
    todo.push(...(parent.get(p) ?? []));
  }
  return out;
}

export interface MemorySample {
  /** ms since the child started. */
  t: number;
  /** Sum of VmRSS over the process tree, bytes. */
  rss: number;
  /** performance.now() of the sample (the clock of the server-side rate samples). */
  at?: number;
  /** User+system CPU seconds of the live process tree so far. */
  cpu?: number;
}

/**
 * CPU cores a process used between two instants (performance.now() ms), from its samples: the
 * steady-state cost of generating load, without the start-up (a Node process spends most of a
 * CPU-second loading before its first request) and the final flush.
 */
export function cpuCoresBetween(samples: readonly MemorySample[], fromAt: number, toAt: number): number {
  let a: MemorySample | undefined;
  let b: MemorySample | undefined;
  for (const s of samples) {
    if (s.at === undefined || s.cpu === undefined) continue;
    if (s.at >= fromAt && !a) a = s;
    if (s.at <= toAt) b = s;
  }
  if (!a || !b || b.at! - a.at! < 200) return NaN;
  return (b.cpu! - a.cpu!) / ((b.at! - a.at!) / 1000);
}

/** RSS of the sample nearest to tMs (NaN without samples). */
export function rssAt(samples: readonly MemorySample[], tMs: number): number {
  let best: MemorySample | undefined;
  for (const s of samples) if (!best || Math.abs(s.t - tMs) < Math.abs(best.t - tMs)) best = s;
  return best ? best.rss : NaN;
}

/** RSS of the last sample taken while the attack was still running (before `endMs`). */
export function rssAtEnd(samples: readonly MemorySample[], endMs: number): number {
  let last: MemorySample | undefined;
  for (const s of samples) if (s.t <= endMs) last = s;
  return last ? last.rss : NaN;
}

/**
 * RSS at about ten evenly spaced points of a `durationSec` run, as "10s 124 | 20s 131 | ..." (MiB),
 * so a reader sees at a glance whether memory grows with the number of requests.
 */
export function rssTrajectory(series: ReadonlyArray<readonly [number, number]>, durationSec: number, points = 10): string {
  const samples = series.map(([t, rss]) => ({ t, rss }));
  const step = Math.max(1, Math.round(durationSec / points));
  const out: string[] = [];
  for (let s = step; s <= durationSec; s += step) {
    const rss = rssAt(samples, s * 1000);
    if (Number.isFinite(rss)) out.push(`${s}s ${(rss / 2 ** 20).toFixed(0)}`);
  }
  return out.join(' | ');
}

export interface ProcessRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  wallMs: number;
  /** User+system CPU seconds of the child and its reaped descendants. */
  cpuSec: number;
  samples: MemorySample[];
  /** Peak resident memory: the larger of the sampled tree sum and the root's VmHWM, bytes. */
  peakRss: number;
  pid: number;
  /** CPU seconds per thread of the root process at the last sample (a profile's "busy" is wall time, this is CPU). */
  threads: Array<{ tid: number; cpuSec: number }>;
}

const MAX_CAPTURE = 16 * 1024 * 1024;

/**
 * Runs a command to completion (killed after timeoutMs), sampling its memory every sampleMs.
 * Resolves even on a non-zero exit: callers decide what a failure means for their figure.
 */
export function runProcess(
  cmd: string,
  args: string[],
  opts: { timeoutMs: number; sampleMs?: number; env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = { timeoutMs: 60_000 },
): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const cpuBefore = reapedChildrenCpuSec();
    const started = performance.now();
    const child = spawnTracked(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const pid = child.pid ?? -1;
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => {
      if (stdout.length < MAX_CAPTURE) stdout += d.toString();
    });
    child.stderr!.on('data', (d: Buffer) => {
      if (stderr.length < MAX_CAPTURE) stderr += d.toString();
    });
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => {});
      child.stdin!.end(opts.input);
    }
    const samples: MemorySample[] = [];
    let hwm = 0;
    let threads: Array<{ tid: number; cpuSec: number }> = [];
    const sample = () => {
      const t = threadCpuSec(pid);
      if (t.length) threads = t;
      let rss = 0;
      let cpu = 0;
      for (const p of processTree(pid)) {
        const m = processMemory(p);
        if (!m) continue;
        rss += m.rss;
        cpu += processCpuSec(p) || 0;
        if (p === pid) hwm = Math.max(hwm, m.hwm);
      }
      const at = performance.now();
      if (rss > 0) samples.push({ t: Math.round(at - started), rss, at, cpu });
    };
    const sampler = setInterval(sample, opts.sampleMs ?? 500);
    const killer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', (err) => {
      clearInterval(sampler);
      clearTimeout(killer);
      reject(new Error(`cannot run ${cmd}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearInterval(sampler);
      clearTimeout(killer);
      const peakSampled = samples.reduce((m, s) => Math.max(m, s.rss), 0);
      resolve({
        code,
        signal,
        stdout,
        stderr,
        wallMs: performance.now() - started,
        cpuSec: reapedChildrenCpuSec() - cpuBefore,
        samples,
        peakRss: Math.max(peakSampled, hwm),
        pid,
        threads,
      });
    });
  });
}
