import { existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findTool } from '../../support/tools.js';
import { REPO_ROOT } from '../../support/paths.js';
import { runProcess, type ProcessRun } from './proc.js';
import { parseJsonReport, type ReportSummary } from './report-json.js';

/**
 * Where vegeta is looked for when `-vegeta=PATH` is not given: the shared tools directory beside
 * the repository (`../shared/tools/vegeta`, a reference build with its README), the usual install
 * places, then the PATH. It is not a Debian package; the bench reports it "absent" otherwise.
 */
export const VEGETA_CANDIDATES = [join(REPO_ROOT, '..', 'shared', 'tools', 'vegeta'), '/usr/local/bin/vegeta', `${process.env.HOME ?? ''}/go/bin/vegeta`];

/**
 * vegeta: the explicit path (which must exist), else the first candidate, else the PATH's.
 * Max mode in vegeta is -rate=0 with a fixed pool of -max-workers; "1 worker" is GOMAXPROCS=1.
 */
export function findVegeta(explicit = ''): string | null {
  if (explicit) return existsSync(explicit) ? explicit : null;
  return findTool('vegeta', VEGETA_CANDIDATES);
}

export interface VegetaRun {
  report: ReportSummary;
  proc: ProcessRun;
  /** Size of vegeta's results file (its gob encoding), bytes. */
  fileBytes: number;
  args: string[];
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
  // At a fixed rate vegeta adds workers when it falls behind and, with -connections bounding only
  // the *idle* ones, opens a connection per extra worker and closes it after one request: at 50k
  // req/s that is ~22k connections in TIME_WAIT within 5 s, the loopback's ephemeral ports run out
  // and the next tool measured cannot connect. -max-connections holds it to the same connections
  // as every other tool here.
  else args.push(`-max-connections=${opts.connections}`);
  const proc = await runProcess(opts.binary, args, { timeoutMs: (opts.durationSec + 60) * 1000, env });
  if (proc.code !== 0) throw new Error(`vegeta attack exited with ${proc.code ?? proc.signal}: ${proc.stderr.trim()}`);
  const fileBytes = statSync(out).size;
  const rep = await runProcess(opts.binary, ['report', '-type=json', out], { timeoutMs: 300_000 });
  rmSync(out, { force: true });
  if (rep.code !== 0) throw new Error(`vegeta report exited with ${rep.code ?? rep.signal}: ${rep.stderr.trim()}`);
  return { report: parseJsonReport(rep.stdout), proc, fileBytes, args };
}
