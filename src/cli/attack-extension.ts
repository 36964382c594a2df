import type { AttackPlugin } from '../attack/plugin.js';
import type { CliIO } from './command.js';
import type { FlagSpec, ParsedArgs } from './flags.js';

/**
 * Extensions of `tailprobe attack` owned by other parts of tailprobe: each brings its flags and,
 * when they are used, a plugin that joins the run (see src/attack/plugin.ts). `-profile=URL
 * -profile-types=...` (src/cli/profile-flags.ts) and `-slo=...` (src/cli/slo-flags.ts) are one
 * entry each. The plugins themselves are plain library factories (`profileAttackPlugin`,
 * `sloAttackPlugin`); only these flag adapters know about the CLI.
 */
export interface AttackExtension {
  flags: FlagSpec[];
  /** The plugin for this run, or null when the extension's flags are absent. */
  create(args: ParsedArgs, io: CliIO): AttackPlugin | null | Promise<AttackPlugin | null>;
}
