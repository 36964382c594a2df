export { DurationHistogram } from './histogram.js';
export { Metrics, type LatencySummary, type ScheduleSummary } from './metrics.js';
export { metricsToWire, metricsFromWire, type MetricsWire } from './wire.js';
export { readMetrics, type ReadMetricsOptions } from './read.js';
export {
  planId, digest, expandInputs, checkShardSet, shardSetLines, shardNotes, loadShards, groupRuns, readHeadInfo,
  type ShardEntry, type ShardSet, type ShardStart, type RunGroup,
} from './shards.js';
export { RollingWindow, everyInterval, type WindowInterval } from './window.js';
export { HlogWriter, readHlog, SEND_LAG_TAG, type HlogWriterOptions } from './hlog.js';
export { encodeHlog, intervalOf, type HlogEncodeOptions, type HlogEncodeResult } from './hlog-encode.js';
