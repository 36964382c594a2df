import type { AttackPlugin } from '../attack/plugin.js';
import type { ReportGate } from '../report/run.js';
import { judgeSlo } from './gate.js';
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
      const j = judgeSlo(slo, metrics);
      return { exitCode: j.exitCode, messages: j.text.trimEnd().split('\n') };
    },
  };
}

/** The gate `report` runs on its final metrics (see ReportGate in src/report/run.ts). */
export function sloReportGate(slo: Slo): ReportGate {
  return (m) => {
    const j = judgeSlo(slo, m);
    return { text: j.text, failed: !j.passed };
  };
}
