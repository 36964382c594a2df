import { UsageError } from '../../errors.js';
import { compareRuns, comparisonJson, formatComparison, loadRun, loadRunGroup, parseFailOn, type RunData } from '../../compare/index.js';
import { groupRuns } from '../../metrics/shards.js';
import type { Command } from '../command.js';
import { openOutput } from '../output.js';

/** `tailprobe compare`: a thin shell over loadRun + compareRuns (src/compare). */
export const command: Command = {
  spec: {
    name: 'compare',
    summary: 'Compare runs: percentile changes with bootstrap confidence intervals and verdicts',
    usage: '[flags] BEFORE AFTER [MORE...]',
    description: [
      'Reads two or more runs (results files in any format tailprobe reads, or saved',
      '`report -type=json` outputs) and prints, for p50, p90, p99, p99.9, max, mean, success and',
      'throughput: before, after, the change, a confidence interval on the change and a verdict',
      '(improved, regressed, no significant change). The interval is a block bootstrap over the',
      "requests' HDR histograms with a seeded RNG, so the same files print the same intervals.",
      'Max gets no interval (one request), nor does anything compared with a JSON report (no',
      'per-request data). With more than two runs each is compared with the first (-against=previous:',
      'with the one before it). Warnings (stderr) say when runs are not comparable. See docs/compare.md.',
    ].join('\n'),
    flags: [
      { name: 'fail-on', type: 'string', value: 'WHAT', help: "Exit 1 on a significant regression: 'regression' (any row) or rows like 'p99,p99.9'" },
      { name: 'json', type: 'bool', help: 'Print the comparison as JSON (latencies in ns)' },
      { name: 'confidence', type: 'float', default: 0.95, help: 'Confidence level of the intervals' },
      { name: 'resamples', type: 'int', default: 1000, help: 'Bootstrap resamples per run' },
      { name: 'seed', type: 'int', default: 1, help: 'Seed of the bootstrap RNG' },
      { name: 'block', type: 'duration', default: '100ms', help: 'Block length of the block bootstrap [0 = bootstrap single requests]' },
      { name: 'against', type: 'string', default: 'first', help: 'With more than two runs, compare each with the first or the previous' },
      { name: 'min-change', type: 'string', default: '0%', value: 'PCT', help: 'Smaller changes are never a verdict, however certain (e.g. 2%)' },
    ],
    examples: [
      'tailprobe compare before.bin after.bin',
      'tailprobe compare -fail-on=p99,p99.9 main.bin branch.bin',
      'tailprobe compare broken.bin pool.bin rwmutex.bin',
      'tailprobe compare -json vegeta-before.json after.csv.gz',
    ],
  },
  async run(args, io) {
    const paths = args.positionals;
    if (paths.length < 2) throw new UsageError('compare: need two or more runs (BEFORE AFTER [MORE...])');
    if (paths.filter((p) => p === '-' || p === 'stdin').length > 1) throw new UsageError('compare: stdin ("-") can be only one of the runs');
    const against = args.string('against');
    if (against !== 'first' && against !== 'previous') throw new UsageError(`compare: invalid -against "${against}" (want first or previous)`);
    const blockNs = args.number('block');
    if (blockNs < 0) throw new UsageError('compare: -block cannot be negative');
    const failOn = parseFailOn(args.string('fail-on'));
    const minChange = parsePercent(args.string('min-change'), 'min-change');

    // A directory of shard files, or consecutive shard files of one plan, is one run (docs/distributed.md).
    const runs: RunData[] = [];
    for (const g of await groupRuns(paths, io.stdin)) {
      const o = { blockNs: blockNs || undefined, stdin: io.stdin };
      runs.push(g.files.length === 1 && g.files[0] === g.label ? await loadRun(g.label, o) : await loadRunGroup(g, o));
    }
    if (runs.length < 2) throw new UsageError('compare: need two or more runs (the files given are the shards of one run)');
    const res = compareRuns(runs, {
      confidence: args.number('confidence'),
      resamples: args.number('resamples'),
      seed: args.number('seed'),
      mode: blockNs === 0 ? 'request' : 'block',
      against,
      minChange,
      failOn,
    });
    for (const w of res.warnings) io.stderr.write(`tailprobe: compare: warning: ${w}\n`);
    const out = await openOutput('compare', 'stdout', io);
    out.stream.write(args.bool('json') ? `${JSON.stringify(comparisonJson(res), null, 2)}\n` : formatComparison(res));
    await out.close();
    return res.failed ? 1 : 0;
  },
};

/** "2%" or "0.02" as a fraction. */
function parsePercent(text: string, flag: string): number {
  const t = text.trim();
  const pct = t.endsWith('%');
  const n = Number(pct ? t.slice(0, -1) : t);
  if (t === '' || t === '%' || !Number.isFinite(n) || n < 0) throw new UsageError(`compare: invalid value "${text}" for flag -${flag} (e.g. 2% or 0.02)`);
  return pct ? n / 100 : n;
}
