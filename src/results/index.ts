export * from './result.js';
export { type ResultFormat, RESULT_FORMATS, parseResultFormat } from './formats.js';
export { BinaryEncoder } from './binary-encoder.js';
export { BinaryDecoder } from './binary-decoder.js';
export { FORMAT_VERSION } from './binary-format.js';
export { createResultWriter, type ResultWriter, type ResultWriterOptions } from './writer.js';
export { openResults, readMetrics, type ResultSource, type ReadMetricsOptions } from './reader.js';
export { encodeJsonResult, decodeJsonResult } from './vegeta-json.js';
export { encodeCsvResult, decodeCsvFields, splitCsvRecord } from './vegeta-csv.js';
export { formatRfc3339Nano, parseRfc3339 } from './timestamp.js';
export { headerWireForm, parseHeaderWire } from './http-headers.js';
export { encodeResults } from './convert.js';
export {
  planId, digest, expandInputs, checkShardSet, shardSetLines, shardNotes, loadShards, groupRuns, readHeadInfo,
  type ShardEntry, type ShardSet, type ShardStart, type RunGroup,
} from './shards.js';
