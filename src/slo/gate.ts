import type { Writable } from 'node:stream';
import type { Metrics } from '../metrics/metrics.js';
import { evaluateSlo, formatSloVerdicts, sloExitCode, sloPassed, type SloVerdict } from './evaluate.js';
import type { Slo } from './slo.js';

/**
 * What a command does with its SLO after a run: print each threshold with its measured value and
 * pass/fail to `out` (stderr in attack and report, whose stdout carries results or a report), and
 * return the exit code: 0 when every threshold held or no SLO was given, EXIT_SLO_FAILED (99) otherwise.
 */
export function sloGate(slo: Slo | null, m: Metrics, out: Pick<Writable, 'write'>): number {
  if (!slo) return 0;
  const j = judgeSlo(slo, m);
  out.write(j.text);
  return j.exitCode;
}

export interface SloJudgement {
  verdicts: SloVerdict[];
  /** One line per threshold, measured value and pass/fail (formatSloVerdicts). */
  text: string;
  passed: boolean;
  /** 0 when every threshold held, EXIT_SLO_FAILED (99) otherwise. */
  exitCode: number;
}

/** The one place a run is judged by an SLO: sloGate, the attack plugin and the report gate all ask it. */
export function judgeSlo(slo: Slo, m: Metrics): SloJudgement {
  const verdicts = evaluateSlo(slo, m);
  return { verdicts, text: formatSloVerdicts(verdicts), passed: sloPassed(verdicts), exitCode: sloExitCode(verdicts) };
}
