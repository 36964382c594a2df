/**
 * Profiles under load: fetching them from Go's net/http/pprof or tailprobe's Node agent, reading
 * pprof (and V8's JSON profiles), and saying what they show: top tables, the GC's share of the CPU,
 * the top allocating or contending function, and a flame graph page.
 */
export { ProfileBuilder, encodeProfile, type Frame, type ProfileShape } from './builder.js';
export { parseProfile, parseV8Json, isGzip, describeNonProfile } from './parse.js';
export {
  cpuProfileToPprof,
  heapProfileToPprof,
  v8Frame,
  V8_GC_FRAME,
  type V8CpuProfile,
  type V8HeapProfile,
  type V8CallFrame,
} from './v8.js';
export { contentionToPprof, contentionDelta, type ContentionEntry, type ContentionFrame } from './contention.js';
export {
  topTable,
  functionTotals,
  labelTotals,
  formatValue,
  sampleTypeInfo,
  defaultSampleIndex,
  type FunctionTotal,
  type TopOptions,
} from './top.js';
export { runtimeShare, topFunction, profileKind, headline, type RuntimeShare, type TopFunction } from './summary.js';
export {
  fetchProfile,
  probeServer,
  pprofBase,
  profileRequestPath,
  httpGet,
  PROFILE_TYPES,
  type ProfileType,
  type ServerInfo,
  type HttpOptions,
} from './fetch.js';
export { captureProfiles, parseProfileTypes, CaptureError, type CaptureOptions, type CapturedProfile } from './capture.js';
export { fetchAgentEvents } from './events.js';
export { fetchAgentIndex, fetchAgentRecords, fetchAgentRecordsIfAny, fetchAgentPauses, fetchAgentCpuSamples } from './records-fetch.js';
export { checkRecordsFormat, decodeCpuSamples, decodePauses, decodeRequestRecord, decodeRequestRecords, epochNs } from './records-decode.js';
export * from './records.js';
export { flameGraphHtml, type FlameOptions } from './flame.js';
export {
  profileDuringAttack,
  profileWindow,
  summarizeEvents,
  WARMUP_FRACTION,
  TAIL_FRACTION,
  type ProfileWindow,
  type ProfileDuringAttackOptions,
  type DuringAttackResult,
} from './during-attack.js';
export { profileAttackPlugin, type ProfilePluginOptions } from './attack-plugin.js';
