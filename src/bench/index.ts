/**
 * tailprobe/bench: `go test -bench -benchmem` for Node. Register benchmarks with bench(name, fn)
 * in a file, run them with `tailprobe bench FILE` (or runBenchmarks), compare two runs with
 * `tailprobe bench -compare old.json new.json`. See docs/bench.md.
 */
export { bench, blackhole, registered, type B, type BenchOptions, type Benchmark, type OpFn, type LoopFn } from './registry.js';
export { runBenchmarks, displayName, summarize, type RunOptions, type BenchRun, type BenchResult } from './runner.js';
export { loadBenchFile, compiledTwin, type LoadedBenchFile } from './load.js';
export { median, spread, mannWhitneyU, type UTestResult } from './stats.js';
export { goNumber, headerLines, runLine, summaryTable, jsonResults, formatNs } from './format.js';
export {
  parseBenchOutput,
  readBenchOutput,
  compareSamples,
  formatComparison,
  benchKey,
  type Samples,
  type ComparisonRow,
} from './compare.js';
export { AllocMeter, SAMPLING_INTERVAL, type AllocCounts } from './alloc.js';
