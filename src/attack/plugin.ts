import type { Metrics } from '../metrics/metrics.js';
import type { GeneratorHealth, RunInfo, RunMeta } from '../results/result.js';

/**
 * Something that joins an attack at its start and end without the engine knowing what it is.
 * This is the seam for `-profile=URL -profile-types=...` (capture profiles from the target while
 * the load runs, add the agent's GC/stall events to the results file) and `-slo` (judge the run,
 * exit 99): each is a plugin, added to `plugins` by the CLI when its flags are given.
 */
export interface AttackPlugin {
  name: string;
  /** Called once the connections are open and the schedule clock has started. May start background work. */
  onStart?(ctx: { info: RunInfo; signal: AbortSignal }): void | Promise<void>;
  /** Called after the last result, before attack() resolves; awaits background work started in onStart. */
  onEnd?(run: AttackRun): PluginOutcome | void | Promise<PluginOutcome | void>;
}

export interface PluginOutcome {
  /** Written into the results file with the run's other metadata (e.g. agent events). */
  meta?: Partial<RunMeta>;
  /** A non-zero exit code the CLI should end with (e.g. EXIT_SLO_FAILED). The largest wins. */
  exitCode?: number;
  /** Lines for the user (stderr in the CLI). */
  messages?: string[];
}

export interface AttackRun {
  metrics: Metrics;
  info: RunInfo;
  health: GeneratorHealth;
  /** Workers that died, as one-line messages. */
  failures: string[];
}
