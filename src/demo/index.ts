/**
 * `tailprobe demo` as a library: the user story's investigation, end to end, on the bundled lookup
 * service (examples/lookup). See docs/demo.md.
 */
export { runDemo, defaultOutDir, DemoInterrupted, DEFAULT_TIMING, QUICK_TIMING, type DemoOptions, type DemoTiming } from './demo.js';
export { calibrateRate, LOAD_FRACTION, type Calibration, type CalibrateOptions, type Probe } from './calibrate.js';
export {
  tailShape,
  eventSummary,
  gcFinding,
  allocCulprit,
  lockCulprit,
  improvement,
  runNumbers,
  isExpectedAllocator,
  isExpectedLockSite,
  TAIL_P50_FACTOR,
  TAIL_MEAN_FACTOR,
  FIX_FACTOR,
  GC_LOUD_FRACTION,
  type Culprit,
  type RunNumbers,
  type TailShape,
  type GcFinding,
  type EventSummary,
} from './findings.js';
export { lookupTargets, measuredRun, profiledRun, warmUp, type MeasuredRun, type ProfiledRun, type DemoLoadOptions } from './load.js';
export { startLookup, killAllServices, parseReadyLine, LOOKUP_SERVER_JS, type LookupConfig, type LookupProcess, type AllocMode, type LockMode } from './service.js';
export type { DemoSummary, DemoSweep, DemoSweepService, SummaryRun, SummaryCulprit, SummaryCheck } from './summary.js';
