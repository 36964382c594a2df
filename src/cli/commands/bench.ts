import { openOutput } from '../output.js';
import { UsageError } from '../../errors.js';
import { parseDuration } from '../../units/index.js';
import {
  compareSamples,
  formatComparison,
  headerLines,
  jsonResults,
  loadBenchFile,
  readBenchOutput,
  runBenchmarks,
  runLine,
  summaryTable,
  displayName,
  type BenchResult,
  type RunOptions,
} from '../../bench/index.js';
import type { CliIO, Command } from '../command.js';
import type { ParsedArgs } from '../flags.js';

export const command: Command = {
  spec: {
    name: 'bench',
    summary: 'Run benchmarks with ns/op, B/op and allocs/op (go test -bench -benchmem); compare runs (benchstat)',
    usage: '[flags] FILE | -compare OLD NEW',
    description: [
      "FILE registers benchmarks with tailprobe/bench's bench(name, fn) (.js/.mjs; a .ts runs as its compiled",
      'twin per tsconfig.json, or directly on a Node that strips types). Each benchmark is calibrated to',
      '-benchtime and measured -count times; lines are printed as go test -bench does (benchstat reads them),',
      'then median ± spread. Allocations come from V8: heap bytes counted in the timed run itself (used heap',
      'plus what each GC freed), allocs/op from its sampling heap profiler at a 1-byte interval (every',
      'allocation, in passes of their own), off-heap Buffer bytes over GC-free passes (see docs/bench.md).',
      '',
      '-compare OLD NEW reads two -json outputs (or go test -bench text) and prints each change with a',
      'Mann-Whitney U test, as benchstat: "~" when it is not significant at -alpha.',
    ].join('\n'),
    flags: [
      { name: 'run', type: 'string', default: '.', value: 'REGEX', aliases: ['bench'], help: 'Run only benchmarks whose name matches' },
      { name: 'count', type: 'int', default: 5, help: 'Measurements per benchmark (the spread and -compare need several)' },
      { name: 'benchtime', type: 'string', default: '1s', value: 'DURATION|Nx', help: 'Time per measurement, or a fixed op count like 1000x' },
      { name: 'benchmem', type: 'bool', default: true, help: 'Measure B/op and allocs/op (-benchmem=false: time only, faster)' },
      { name: 'json', type: 'bool', default: false, help: 'Print JSON: [{name, nsPerOp, bytesPerOp, allocsPerOp, runs: [...]}]' },
      { name: 'output', type: 'string', value: 'FILE', aliases: ['o'], help: 'Also write the JSON results to FILE (for -compare later)' },
      { name: 'compare', type: 'bool', default: false, help: 'Compare two result files: -compare OLD NEW' },
      { name: 'alpha', type: 'float', default: 0.05, help: 'Significance level of -compare' },
    ],
    examples: [
      'tailprobe bench bench/lookup.bench.ts',
      'tailprobe bench -run=Lookup -count=10 -json dist/bench/lookup.bench.js > new.json',
      'tailprobe bench -compare old.json new.json',
    ],
  },

  async run(args: ParsedArgs, io: CliIO): Promise<number> {
    const alpha = args.number('alpha');
    if (!(alpha > 0 && alpha < 1)) throw new UsageError(`bench: -alpha must be between 0 and 1, got ${alpha}`);
    if (args.bool('compare')) {
      if (args.positionals.length !== 2) throw new UsageError('bench: -compare needs two files: -compare OLD NEW');
      const [oldFile, newFile] = args.positionals as [string, string];
      const rows = compareSamples(await readBenchOutput(oldFile), await readBenchOutput(newFile), alpha);
      io.stdout.write(formatComparison(rows, alpha));
      return 0;
    }
    if (args.positionals.length !== 1) throw new UsageError('bench: expected one benchmark file (see tailprobe bench --help)');
    const file = args.positionals[0]!;
    const opts = runOptions(args);

    const loaded = await loadBenchFile(file);
    if (loaded.note) io.stderr.write(`bench: ${loaded.note}\n`);
    const selected = loaded.benchmarks.filter((b) => !opts.run || opts.run.test(b.name) || opts.run.test(displayName(b.name)));
    if (selected.length === 0) {
      io.stderr.write(`tailprobe: bench: no benchmarks in ${file} match -run=${args.string('run')}` +
        (loaded.benchmarks.length ? ` (it has: ${loaded.benchmarks.map((b) => b.name).join(', ')})` : ' (it registers none)') + '\n');
      return 1;
    }

    const json = args.bool('json');
    const width = Math.max(...selected.map((b) => displayName(b.name).length));
    if (!json) io.stdout.write(headerLines(file));
    let failed = false;
    // SIGINT/SIGTERM stop between measurements; what is measured is still printed.
    const ac = new AbortController();
    const stop = () => ac.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    let results: BenchResult[];
    try {
      results = await runBenchmarks(selected, {
        ...opts,
        signal: ac.signal,
        onRun: (b, run) => {
          if (!json) io.stdout.write(runLine(b.name, run, width) + '\n');
        },
        onError: (b, err) => {
          failed = true;
          const msg = err instanceof Error ? err.message : String(err);
          io.stderr.write(`--- FAIL: ${displayName(b.name)}: ${msg.split('\n')[0]}\n`);
        },
      });
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    const data = JSON.stringify(jsonResults(results), null, 2) + '\n';
    if (json) io.stdout.write(data);
    else io.stdout.write(summaryTable(results.filter((r) => r.runs.length > 1)));
    if (args.has('output')) {
      const out = await openOutput('bench', args.string('output'), io);
      out.stream.write(data);
      await out.close();
    }
    if (ac.signal.aborted) {
      io.stderr.write('bench: interrupted; results so far printed\n');
      return 130;
    }
    return failed ? 1 : 0;
  },
};

function runOptions(args: ParsedArgs): RunOptions {
  let run: RegExp;
  try {
    run = new RegExp(args.string('run'));
  } catch (e) {
    throw new UsageError(`bench: invalid -run regular expression: ${(e as Error).message}`);
  }
  const count = args.number('count');
  if (count < 1) throw new UsageError(`bench: -count must be at least 1, got ${count}`);
  const bt = args.string('benchtime').trim();
  const opts: RunOptions = { run, count, benchmem: args.bool('benchmem') };
  const fixed = /^(\d+)x$/.exec(bt);
  if (fixed) {
    const n = Number(fixed[1]);
    if (n < 1) throw new UsageError(`bench: invalid -benchtime "${bt}": at least 1x`);
    opts.iterations = n;
  } else {
    let ns: number;
    try {
      ns = parseDuration(bt, '-benchtime');
    } catch {
      throw new UsageError(`bench: invalid -benchtime "${bt}": expected a duration like 1s or 500ms, or a count like 1000x`);
    }
    if (ns <= 0) throw new UsageError(`bench: invalid -benchtime "${bt}": must be positive`);
    opts.benchtimeNs = ns;
  }
  return opts;
}
