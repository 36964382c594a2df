import type { AttackPlugin } from '../attack/plugin.js';
import type { ReportGate } from '../report/run.js';
import { evaluateSlo, formatSloVerdicts, sloExitCode, sloPassed } from './evaluate.js';
import type { Slo } from './slo.js';

/**
 * Where an SLO joins the commands other parts of tailprobe own, through the seams they left for it:
 * a plugin for `attack` (judges the run once it ends; its lines go to stderr, stdout carries the
 * results) and a gate for `report` (judges the metrics once every input is read). The `-slo` flag
 * that builds them lives in src/cli/slo-flags.ts.
 */
export function sloAttackPlugin(slo: Slo): AttackPlugin {
  return {
    name: 'slo',
    onEnd: ({ metrics }) => {
      const verdicts = evaluateSlo(slo, metrics);
      return { exitCode: sloExitCode(verdicts), messages: formatSloVerdicts(verdicts).trimEnd().split('\n') };
    },
  };
}

/** The gate `report` runs on its final metrics (see ReportGate in src/report/run.ts). */
export function sloReportGate(slo: Slo): ReportGate {
  return (m) => {
    const verdicts = evaluateSlo(slo, m);
    return { text: formatSloVerdicts(verdicts), failed: !sloPassed(verdicts) };
  };
}
