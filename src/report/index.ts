export { textReport } from './text.js';
export { jsonReport } from './json.js';
export { histReport, parseHistBuckets, LatencyBuckets } from './hist.js';
export { hdrplotReport } from './hdrplot.js';
export { tabwrite } from './tabwriter.js';
export { roundDuration } from './format.js';
export {
  generatorVerdict, reportWarnings, truncationNotes, type GeneratorVerdict, type SourceSummary,
  GENERATOR_LATE_RATIO_LIMIT, GENERATOR_LAG_P99_LIMIT_NS, GENERATOR_CPU_SATURATION, GENERATOR_LOOP_P99_LIMIT_NS,
} from './health.js';
export {
  runReport, renderReport, parseReportType,
  type ReportType, type ReportGate, type RunReportOptions, type RunReportResult,
} from './run.js';
