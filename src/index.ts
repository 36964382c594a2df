/**
 * tailprobe's library API: what `import … from 'tailprobe'` offers, named one by one. The CLI
 * (`tailprobe <command>`) is a thin shell over these exports. Everything else under src/ is
 * internal and may change without notice; docs/architecture.md says where each part lives.
 * Subpath exports: `tailprobe/agent` (profile a Node service), `tailprobe/sync` (pool, locks),
 * `tailprobe/bench` (benchmarks with bytes/op).
 */

// Failures: one clear line, and the exit code the CLI ends with (2 usage, 1 runtime, 99 SLO failed).
export { TailprobeError, UsageError, RuntimeError, EXIT_SLO_FAILED } from './errors.js';
export { parseDuration, formatDuration, parseBytes, formatBytes } from './units/index.js';

// The schedule. A pacer is any object with offsetOf(i) and describe(); these are the built-in ones.
export {
  constantPacer,
  linearPacer,
  sinePacer,
  parseRate,
  formatRate,
  rateOf,
  countBefore,
  type Pacer,
  type BuiltinPacer,
  type PacerSpec,
} from './pacer/index.js';

// What to send: vegeta's http and json targets formats.
export { parseTargets, readTargets, parseHeaderFlag, type Target, type TargetFormat } from './targets/index.js';

// The attack: open-model load, every request recorded, latency from the scheduled time.
export {
  attack,
  defaultWorkers,
  formatProgress,
  ATTACK_DEFAULTS,
  type AttackOptions,
  type AttackOutcome,
  type AttackProgress,
  type AttackPlugin,
  type AttackRun,
  type PluginOutcome,
} from './attack/index.js';

// Results: reading and writing tailprobe's binary format and vegeta's JSON lines and CSV.
export {
  createResultWriter,
  openResults,
  parseResultFormat,
  isSuccess,
  BinaryEncoder,
  BinaryDecoder,
  RESULT_FORMATS,
  type Result,
  type RunInfo,
  type RunMeta,
  type RunEvent,
  type GeneratorHealth,
  type ResultFormat,
  type ResultSource,
  type ResultWriter,
  type ResultWriterOptions,
} from './results/index.js';

// Metrics: HDR-histogram percentiles of latency and send lag, and results files read into them.
export {
  Metrics,
  DurationHistogram,
  readMetrics,
  type LatencySummary,
  type ScheduleSummary,
  type ReadMetricsOptions,
} from './metrics/index.js';

// Reports: vegeta's text, JSON and histogram reports, hdrplot, and whether the generator kept up.
export {
  textReport,
  jsonReport,
  histReport,
  hdrplotReport,
  parseHistBuckets,
  LatencyBuckets,
  generatorVerdict,
  reportWarnings,
  runReport,
  renderReport,
  parseReportType,
  type GeneratorVerdict,
  type SourceSummary,
  type ReportType,
  type ReportGate,
  type RunReportOptions,
  type RunReportResult,
} from './report/index.js';

// SLOs: k6-like thresholds, verdicts, exit 99; the plugin and gate attack and report take.
export {
  parseSlo,
  parseSloFlags,
  evaluateSlo,
  formatSloVerdicts,
  sloPassed,
  sloExitCode,
  sloGate,
  judgeSlo,
  sloAttackPlugin,
  sloReportGate,
  type Slo,
  type SloThreshold,
  type SloVerdict,
  type SloJudgement,
} from './slo/index.js';

// compare: two runs, bootstrap confidence intervals, a verdict per statistic.
export {
  loadRun,
  compareRuns,
  formatComparison,
  comparisonJson,
  runFromMetrics,
  type RunData,
  type CompareOptions,
  type CompareResult,
  type CompareRow,
  type Comparison,
  type LoadOptions,
} from './compare/index.js';

// sweep: step the rate up, find the knee.
export {
  sweep,
  parseRates,
  formatSweep,
  sweepJson,
  type SweepOptions,
  type SweepResult,
  type SweepStep,
  type RatePlan,
} from './sweep/index.js';

// Profiles under load (docs/profile.md).
export {
  captureProfiles,
  fetchProfile,
  probeServer,
  parseProfile,
  topTable,
  runtimeShare,
  topFunction,
  headline,
  fetchAgentEvents,
  flameGraphHtml,
  cpuProfileToPprof,
  heapProfileToPprof,
  profileDuringAttack,
  profileAttackPlugin,
  type ProfileType,
  type ServerInfo,
  type CapturedProfile,
  type CaptureOptions,
  type ProfilePluginOptions,
} from './profile/index.js';

// Where users already look: a Prometheus endpoint during the attack, HdrHistogram interval logs (docs/export.md).
export { prometheusAttackPlugin, hlogAttackPlugin, type PrometheusOptions, type PrometheusPlugin, type HlogPluginOptions } from './export/index.js';
export {
  HlogWriter, readHlog, encodeHlog, RollingWindow, everyInterval,
  type HlogWriterOptions, type HlogEncodeOptions, type HlogEncodeResult, type WindowInterval,
} from './metrics/index.js';

// explain: which slow request was slowed by what, from the agent's per-request records (docs/explain.md).
export { explain, fetchCapture, readCapture, formatExplanation, explainAttackPlugin, ClientRequests, type Explanation, type AgentCapture } from './explain/index.js';

// plot: one self-contained HTML page of the tail.
export { plotHtml, aggregateRun, renderPlotHtml, type PlotOptions, type PlotRunInput, type PlotRenderOptions, type PlotExplainOptions } from './plot/index.js';

// One schedule on many generators: shard sets merged exactly, a Kubernetes Indexed Job (docs/distributed.md).
export { loadShards, checkShardSet, groupRuns, shardSetLines, type ShardSet, type ShardEntry, type RunGroup } from './metrics/index.js';
export { shareOf, type Shard } from './pacer/index.js';
export { k8sJobManifest, type K8sJobOptions } from './distribute/index.js';

// The demo, as `tailprobe demo` runs it (docs/demo.md).
export { runDemo, type DemoOptions, type DemoSummary } from './demo/index.js';
