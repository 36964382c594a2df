import { cpSync, existsSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess, type ProcessRun } from './proc.js';
import { parseJsonReport, type ReportSummary } from './report-json.js';

/**
 * tailprobe itself, driven only through its CLI (`attack` then `report -type=json`), in a separate
 * process like the peers, so the bench measures what a user runs and depends on nothing but flags.
 */
/** The repository root: this file is compiled to dist/bench/lib/. */
export const REPO_ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
let cli = join(REPO_ROOT, 'bin', 'tailprobe.js');

/** The CLI the bench runs: the repository's, or the snapshot's after snapshotBuild(). */
export function tailprobeCli(): string {
  return cli;
}

/**
 * Copies the build under test (bin/, dist/src/, package.json; node_modules linked) to `dir` and
 * makes the bench run that copy. Several engineers rebuild dist/ in this repository while a long
 * bench runs; without a snapshot a run could load a half-written module, or measure two different
 * builds in one table. Returns the snapshot's CLI path.
 */
export function snapshotBuild(dir: string): string {
  mkdirSync(join(dir, 'dist'), { recursive: true });
  cpSync(join(REPO_ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
  cpSync(join(REPO_ROOT, 'dist', 'src'), join(dir, 'dist', 'src'), { recursive: true });
  cpSync(join(REPO_ROOT, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  cli = join(dir, 'bin', 'tailprobe.js');
  return cli;
}

/** True once the attack command exists in the build (it is built by another team, concurrently). */
export function tailprobeAttackAvailable(): boolean {
  return existsSync(join(REPO_ROOT, 'dist', 'src', 'cli', 'commands', 'attack.js'));
}

export interface TailprobeRun {
  report: ReportSummary;
  /** The attack process (CPU, memory samples, stderr). */
  proc: ProcessRun;
  /** Size of the binary results file, bytes. */
  fileBytes: number;
  args: string[];
}

export async function runTailprobe(opts: {
  url: string;
  /** req/s; 0 = max mode (closed loop, as fast as the connections allow). */
  rate: number;
  durationSec: number;
  connections: number;
  workers: number;
  workDir: string;
  /** Results file name inside workDir. */
  outName?: string;
  /** Extra node flags, e.g. ['--cpu-prof', '--cpu-prof-dir=DIR'] to profile the attack. */
  nodeArgs?: string[];
  /** Extra attack flags (e.g. -output-format=json). */
  extraArgs?: string[];
  sampleMs?: number;
  /** Environment of the attack process (e.g. TAILPROBE_HTTP1=undici). */
  env?: NodeJS.ProcessEnv;
}): Promise<TailprobeRun> {
  const targets = join(opts.workDir, 'targets.txt');
  writeFileSync(targets, `GET ${opts.url}\n`);
  const out = join(opts.workDir, opts.outName ?? 'results.bin');
  const TAILPROBE_CLI = tailprobeCli();
  const args = [
    ...(opts.nodeArgs ?? []),
    TAILPROBE_CLI,
    'attack',
    `-targets=${targets}`,
    `-rate=${opts.rate}`,
    `-duration=${opts.durationSec}s`,
    `-connections=${opts.connections}`,
    `-workers=${opts.workers}`,
    `-output=${out}`,
    ...(opts.extraArgs ?? []),
  ];
  const proc = await runProcess(process.execPath, args, {
    timeoutMs: (opts.durationSec + 60) * 1000,
    sampleMs: opts.sampleMs,
    ...(opts.env ? { env: opts.env } : {}),
  });
  if (proc.code !== 0) {
    throw new Error(`tailprobe attack exited with ${proc.code ?? proc.signal}: ${proc.stderr.trim().split('\n').pop() ?? ''}`);
  }
  const fileBytes = statSync(out).size;
  const rep = await runProcess(process.execPath, [TAILPROBE_CLI, 'report', '-type=json', out], { timeoutMs: 300_000 });
  if (rep.code !== 0) throw new Error(`tailprobe report exited with ${rep.code ?? rep.signal}: ${rep.stderr.trim()}`);
  return { report: parseJsonReport(rep.stdout), proc, fileBytes, args: args.slice(args.indexOf(TAILPROBE_CLI) + 1) };
}
