import { existsSync, statSync, writeFileSync } from 'node:fs';
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
export const TAILPROBE_CLI = join(REPO_ROOT, 'bin', 'tailprobe.js');

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
}): Promise<TailprobeRun> {
  const targets = join(opts.workDir, 'targets.txt');
  writeFileSync(targets, `GET ${opts.url}\n`);
  const out = join(opts.workDir, opts.outName ?? 'results.bin');
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
  });
  if (proc.code !== 0) {
    throw new Error(`tailprobe attack exited with ${proc.code ?? proc.signal}: ${proc.stderr.trim().split('\n').pop() ?? ''}`);
  }
  const fileBytes = statSync(out).size;
  const rep = await runProcess(process.execPath, [TAILPROBE_CLI, 'report', '-type=json', out], { timeoutMs: 300_000 });
  if (rep.code !== 0) throw new Error(`tailprobe report exited with ${rep.code ?? rep.signal}: ${rep.stderr.trim()}`);
  return { report: parseJsonReport(rep.stdout), proc, fileBytes, args: args.slice(args.indexOf(TAILPROBE_CLI) + 1) };
}
