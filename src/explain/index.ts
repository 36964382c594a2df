/** `tailprobe explain`: which slow request was slowed by what (docs/explain.md). */
export { explain, parseThreshold, ClientRequests, VERDICT_SHARE, type Explanation, type ExplainOptions, type Threshold, type CauseRow, type SlowRequest, type LockSiteRow, type CpuRow } from './explain.js';
export { estimateClockOffset, type ClockOffset } from './clock-offset.js';
export { breakdown, describeKey, isNamedCause, type Breakdown, type RequestTimes } from './breakdown.js';
export { fetchCapture, probeAgent, readCapture, writeCapture, encodeCapture, decodeCapture, CAPTURE_FORMAT, type AgentCapture, type ServerRequest, type ServerPause, type LockWait, type CpuSamples } from './capture.js';
export { loadClientRequests } from './load.js';
export { formatExplanation, explanationJson } from './format.js';
export { explainAttackPlugin, type ExplainPluginOptions } from './attack-plugin.js';
