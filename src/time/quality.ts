import { execFile } from 'node:child_process';
import { sntpMeasure } from './sntp.js';

/**
 * How good is this machine's wall clock? Generators that share one schedule agree on its start
 * only as well as their wall clocks agree, so each shard records what it can learn about its own:
 * chrony's estimate when chrony runs (`chronyc -c tracking`: the offset from NTP time and the bound
 * on its error), else systemd's yes/no (`timedatectl show -p NTPSynchronized`), else nothing; or,
 * given a reference NTP server (`-clock-ref`), the offset it measured against it (SNTP, sntp.ts).
 * Never throws and never takes more than about a second: a missing tool is an answer ("none").
 */
export interface ClockEstimate {
  /** Where the estimate comes from. */
  source: 'chrony' | 'timedatectl' | 'reference' | 'none';
  /** Is the clock disciplined by NTP? null: unknown. */
  synchronized: boolean | null;
  /** This clock minus NTP time, ns (positive: this clock is ahead); null: unknown. */
  offsetNs: number | null;
  /** Bound on the clock's error, ns (chrony: |offset| + root dispersion + root delay / 2); null: unknown. */
  maxErrorNs: number | null;
  /** One line for people, e.g. "chrony: stratum 3, 12µs fast, error < 1.2ms". */
  detail: string;
}

const TIMEOUT_MS = 1000;

function run(cmd: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    try {
      execFile(cmd, args, { timeout: TIMEOUT_MS, encoding: 'utf8' }, (err, stdout) => resolve(err ? null : stdout));
    } catch {
      resolve(null);
    }
  });
}

/** Parses `chronyc -c tracking` (CSV: ref id, name, stratum, ref time, system time, last, rms, freq, resid, skew, root delay, root dispersion, interval, leap). */
export function parseChronyTracking(csv: string): ClockEstimate | null {
  const f = csv.trim().split(',');
  if (f.length < 14) return null;
  // chrony's "System time" is how far the system clock is *behind* NTP time (positive: slow).
  const slowS = Number(f[4]);
  const rootDelayS = Number(f[10]);
  const rootDispS = Number(f[11]);
  const leap = f[13]!.trim();
  if (![slowS, rootDelayS, rootDispS].every(Number.isFinite)) return null;
  const offsetNs = Math.round(-slowS * 1e9);
  const maxErrorNs = Math.round((Math.abs(slowS) + rootDispS + rootDelayS / 2) * 1e9);
  const synchronized = leap !== 'Not synchronised' && leap !== 'Not synchronized';
  return {
    source: 'chrony',
    synchronized,
    offsetNs,
    maxErrorNs,
    detail: `chrony: ${synchronized ? `stratum ${f[2]}, ref ${f[1]}` : 'not synchronised'}, offset ${offsetNs} ns, error < ${maxErrorNs} ns`,
  };
}

/** The estimate: against `reference` (an NTP server, host[:port]) when given, else from chrony or timedatectl. */
export async function clockEstimate(reference?: string): Promise<ClockEstimate> {
  if (reference) {
    try {
      const m = await sntpMeasure(reference);
      return {
        source: 'reference',
        synchronized: null,
        offsetNs: m.offsetNs,
        maxErrorNs: m.maxErrorNs,
        detail: `ntp ${reference}: offset ${m.offsetNs} ns, error < ${m.maxErrorNs} ns (stratum ${m.stratum}, best round trip ${m.delayNs} ns of ${m.samples})`,
      };
    } catch (e) {
      // Nothing measured is not a reason to lose the run: say so and carry on.
      return { source: 'reference', synchronized: null, offsetNs: null, maxErrorNs: null, detail: `ntp ${reference}: ${(e as Error).message}` };
    }
  }
  const chrony = await run('chronyc', ['-c', 'tracking']);
  const fromChrony = chrony ? parseChronyTracking(chrony) : null;
  if (fromChrony) return fromChrony;
  const td = await run('timedatectl', ['show', '-p', 'NTPSynchronized', '--value']);
  const v = td?.trim();
  if (v === 'yes' || v === 'no') {
    return {
      source: 'timedatectl',
      synchronized: v === 'yes',
      offsetNs: null,
      maxErrorNs: null,
      detail: `timedatectl: NTP ${v === 'yes' ? 'synchronized' : 'not synchronized'} (offset not known)`,
    };
  }
  return { source: 'none', synchronized: null, offsetNs: null, maxErrorNs: null, detail: 'no chrony or timedatectl: clock quality unknown' };
}
