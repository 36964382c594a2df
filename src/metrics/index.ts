export { DurationHistogram } from './histogram.js';
export { Metrics, type LatencySummary, type ScheduleSummary } from './metrics.js';
