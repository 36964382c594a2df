import type { ReportGate } from '../report/run.js';
import { sloAttackPlugin, sloReportGate } from '../slo/hooks.js';
import { parseSloFlags } from '../slo/slo.js';
import type { AttackExtension } from './attack-extension.js';
import type { FlagSpec, ParsedArgs } from './flags.js';

/**
 * The one `-slo` flag that attack, report and sweep all declare, so its spelling and help never drift.
 * Repeatable: `-slo 'p99<50ms' -slo 'success>=99.9%'` is the same as one comma-separated expression.
 * The flag is parsed when the command starts, so a typo fails before any load is sent or any file is read.
 */
export const SLO_FLAG: FlagSpec = {
  name: 'slo',
  type: 'strings',
  value: 'EXPR',
  help: "SLO gate, k6-like thresholds, e.g. 'p99<50ms,p99.9<200ms,success>=99.9%'; exit 99 when one fails (docs/slo.md)",
};

/** The entry `attack` lists in ATTACK_EXTENSIONS: the -slo flag and, when given, the plugin. */
export const SLO_ATTACK_EXTENSION: AttackExtension = {
  flags: [SLO_FLAG],
  create(args: ParsedArgs) {
    const slo = parseSloFlags(args.list('slo'));
    return slo ? sloAttackPlugin(slo) : null;
  },
};

/** The gate `report` runs on its final metrics, or undefined without -slo. */
export function sloReportGateFromArgs(args: ParsedArgs): ReportGate | undefined {
  const slo = parseSloFlags(args.list('slo'));
  return slo ? sloReportGate(slo) : undefined;
}
