import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findTool } from '../../support/tools.js';
import { runProcess, type ProcessRun } from './proc.js';
import { parseJsonReport, type ReportSummary } from './report-json.js';

/**
 * vegeta, where installed (it is not a Debian package; the bench reports it "absent" otherwise).
 * Max mode in vegeta is -rate=0 with a fixed pool of -max-workers; "1 worker" is GOMAXPROCS=1.
 */
export function findVegeta(): string | null {
  return findTool('vegeta', ['/usr/local/bin/vegeta', `${process.env.HOME ?? ''}/go/bin/vegeta`]);
}

export interface VegetaRun {
  report: ReportSummary;
  proc: ProcessRun;
}

export async function runVegeta(opts: {
  binary: string;
  url: string;
  rate: number;
  durationSec: number;
  connections: number;
  /** OS threads (GOMAXPROCS). */
  cores: number;
  workDir: string;
}): Promise<VegetaRun> {
  const targets = join(opts.workDir, 'vegeta-targets.txt');
  writeFileSync(targets, `GET ${opts.url}\n`);
  const out = join(opts.workDir, 'vegeta-results.bin');
  const env = { ...process.env, GOMAXPROCS: String(opts.cores) };
  const args = ['attack', `-targets=${targets}`, `-rate=${opts.rate}`, `-duration=${opts.durationSec}s`, `-connections=${opts.connections}`, `-output=${out}`];
  if (opts.rate === 0) args.push(`-max-workers=${opts.connections}`, `-workers=${opts.connections}`);
  const proc = await runProcess(opts.binary, args, { timeoutMs: (opts.durationSec + 60) * 1000, env });
  if (proc.code !== 0) throw new Error(`vegeta attack exited with ${proc.code ?? proc.signal}: ${proc.stderr.trim()}`);
  const rep = await runProcess(opts.binary, ['report', '-type=json', out], { timeoutMs: 300_000 });
  rmSync(out, { force: true });
  if (rep.code !== 0) throw new Error(`vegeta report exited with ${rep.code ?? rep.signal}: ${rep.stderr.trim()}`);
  return { report: parseJsonReport(rep.stdout), proc };
}
