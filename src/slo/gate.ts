import type { Writable } from 'node:stream';
import type { Metrics } from '../metrics/metrics.js';
import { evaluateSlo, formatSloVerdicts, sloExitCode, type SloVerdict } from './evaluate.js';
import type { Slo } from './slo.js';

/**
 * What a command does with its SLO after a run: print each threshold with its measured value and
 * pass/fail to `out` (stderr in attack and report, whose stdout carries results or a report), and
 * return the exit code: 0 when every threshold held or no SLO was given, EXIT_SLO_FAILED (99) otherwise.
 */
export function sloGate(slo: Slo | null, m: Metrics, out: Pick<Writable, 'write'>): number {
  if (!slo) return 0;
  const verdicts: SloVerdict[] = evaluateSlo(slo, m);
  out.write(formatSloVerdicts(verdicts));
  return sloExitCode(verdicts);
}
