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
  create(args: ParsedArgs, io: CliIO): AttackPlugin | ExtensionRun | null | Promise<AttackPlugin | ExtensionRun | null>;
}

/** A plugin with something to do once the results file is complete (`-explain` explains it). */
export interface ExtensionRun {
  plugin: AttackPlugin;
  /** Called after the results are written and closed; `file` is null when they went to stdout. Lines for stderr. */
  afterResults(file: string | null): Promise<string[]>;
}

export function isExtensionRun(x: AttackPlugin | ExtensionRun): x is ExtensionRun {
  return 'plugin' in x && 'afterResults' in x;
}
