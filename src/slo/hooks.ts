import type { AttackPlugin } from '../attack/plugin.js';
import type { AttackExtension } from '../cli/commands/attack.js';
import type { ParsedArgs } from '../cli/flags.js';
import type { ReportGate } from '../report/run.js';
import { evaluateSlo, formatSloVerdicts, sloExitCode, sloPassed } from './evaluate.js';
import { SLO_FLAG } from './gate.js';
import { parseSloFlags, type Slo } from './slo.js';

/**
 * Where `-slo` joins the commands other parts of tailprobe own, through the seams they left for it:
 * a plugin for `attack` (judges the run once it ends; its lines go to stderr, stdout carries the
 * results) and a gate for `report` (judges the metrics once every input is read). The flag is parsed
 * when the command starts, so a typo fails before any load is sent or any file is read.
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

/** The entry `attack` lists in ATTACK_EXTENSIONS: the -slo flag and, when given, the plugin. */
export const SLO_ATTACK_EXTENSION: AttackExtension = {
  flags: [SLO_FLAG],
  create(args: ParsedArgs) {
    const slo = parseSloFlags(args.list('slo'));
    return slo ? sloAttackPlugin(slo) : null;
  },
};

/** The gate `report` runs on its final metrics, or undefined without -slo. */
export function sloReportGate(args: ParsedArgs): ReportGate | undefined {
  const slo = parseSloFlags(args.list('slo'));
  if (!slo) return undefined;
  return (m) => {
    const verdicts = evaluateSlo(slo, m);
    return { text: formatSloVerdicts(verdicts), failed: !sloPassed(verdicts) };
  };
}
