export { DurationHistogram } from './histogram.js';
export { Metrics, type LatencySummary, type ScheduleSummary } from './metrics.js';
export { metricsToWire, metricsFromWire, type MetricsWire } from './wire.js';
export { RollingWindow, everyInterval, type WindowInterval } from './window.js';
