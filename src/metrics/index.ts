export { DurationHistogram } from './histogram.js';
export { Metrics, type LatencySummary, type ScheduleSummary } from './metrics.js';
export { metricsToWire, metricsFromWire, type MetricsWire } from './wire.js';
export { readMetrics, type ReadMetricsOptions } from './read.js';
export {
  planId, digest, expandInputs, checkShardSet, shardSetLines, shardNotes, loadShards, groupRuns, readHeadInfo,
  type ShardEntry, type ShardSet, type ShardStart, type RunGroup,
} from './shards.js';
