import type { Metrics } from '../metrics/metrics.js';
import type { AttackProgress } from './options.js';
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
  onStart?(ctx: PluginStart): void | Promise<void>;
  /** Called after the last result, before attack() resolves; awaits background work started in onStart. */
  onEnd?(run: AttackRun): PluginOutcome | void | Promise<PluginOutcome | void>;
}

export interface PluginStart {
  info: RunInfo;
  /** Aborted when the attack ends (its schedule is over, it was interrupted, or it failed). */
  signal: AbortSignal;
  /**
   * The run so far, whenever the plugin asks (the numbers onProgress gets): cumulative Metrics over
   * all workers, requests in flight, sent and scheduled. For exporters that sample the run while it
   * goes (the Prometheus endpoint, the HdrHistogram interval log); valid until onEnd. attack()
   * always provides it (it is optional only so that a plugin can be driven without an attack).
   */
  live?(): AttackProgress;
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
