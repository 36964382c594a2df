import { spawnSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { REPO_ROOT } from './tailprobe.js';

/**
 * What the numbers were measured on. Nothing is pinned (the machine is shared): instead every run
 * records the load average around it, so a reader can tell a quiet run from a noisy one.
 */
export interface Machine {
  cores: number;
  cpuModel: string;
  memoryBytes: number;
  kernel: string;
  node: string;
  commit: string;
  /** 1, 5 and 15-minute load averages when the bench started. */
  loadAvg: number[];
}

export function describeMachine(): Machine {
  const git = spawnSync('git', ['-C', REPO_ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  const dirty = spawnSync('git', ['-C', REPO_ROOT, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' });
  return {
    cores: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryBytes: totalmem(),
    kernel: release(),
    node: process.version,
    commit: (git.stdout ?? '').trim() + ((dirty.stdout ?? '').trim() ? '+dirty' : ''),
    loadAvg: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/** The 1-minute load average now. */
export function load1(): number {
  return Math.round(loadavg()[0]! * 100) / 100;
}
