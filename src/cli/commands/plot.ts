import { UsageError } from '../../errors.js';
import { openOutput } from '../output.js';
import { parseThreshold } from '../../explain/index.js';
import { plotHtml } from '../../plot/plot.js';
import type { Command } from '../command.js';

/** `tailprobe plot`: a thin shell over plotHtml (src/plot). */
export const command: Command = {
  spec: {
    name: 'plot',
    summary: 'Draw results (and sweep output) as one self-contained HTML page',
    usage: '[flags] [FILE...]',
    description: [
      'Reads results files (tailprobe binary, vegeta JSON or CSV, gzipped or not; "-" or none: stdin)',
      'and `tailprobe sweep` output (sweep.json), and writes one HTML file that needs no network:',
      'latency of every request over time (downsampled keeping the slowest of every pixel cell) with',
      'per-second p50/p99/p99.9, agent GC pauses and event-loop stalls under it, throughput and status',
      'codes over time, latency by percentile (several files overlaid: before/after), and latency',
      'against offered rate for a sweep, with the knee and the SLO. Each results file is one run.',
      'With -explain=CAPTURE (the agent capture attack -explain or explain -save-capture writes), a lane',
      "under the latency chart draws each slow request as a bar of its parts (docs/plot.md, docs/explain.md);",
      'repeat -explain for several runs: the i-th capture goes with the i-th results run.',
    ].join('\n'),
    flags: [
      { name: 'output', aliases: ['o'], type: 'string', default: 'stdout', value: 'FILE', help: 'Write the page to FILE' },
      { name: 'title', type: 'string', help: 'Page title (default: the run name)' },
      { name: 'bucket', type: 'duration', default: '1s', help: 'Width of the rolling percentile and throughput buckets' },
      { name: 'points', aliases: ['threshold'], type: 'int', default: 100000, value: 'N', help: 'Draw every request while a run has at most N; beyond, the slowest per pixel cell' },
      { name: 'columns', type: 'int', default: 2000, value: 'N', help: 'Time columns of the downsampled scatter (about one per pixel)' },
      { name: 'y', type: 'string', default: 'log', value: 'log|linear', help: 'Initial latency axis' },
      { name: 'explain', type: 'strings', value: 'CAPTURE', help: "An agent capture to explain a run's slow requests with (repeat: one per run, in order; '' skips a run)" },
      { name: 'explain-above', type: 'string', default: 'p99', value: 'Pxx|DURATION', help: 'With -explain: slow requests are at or above a percentile (p99, p99.9) or above a latency (50ms)' },
    ],
    examples: [
      'tailprobe attack -rate=500 -duration=60s -targets=t.txt -output=before.bin',
      'tailprobe plot before.bin -o before.html',
      'tailprobe plot before.bin after.bin -o compare.html',
      'tailprobe plot sweep.json -o sweep.html',
      'tailprobe plot r.bin -explain=agent-capture.json -o r.html',
    ],
  },
  async run(args, io) {
    const y = args.string('y');
    if (y !== 'log' && y !== 'linear') throw new UsageError(`plot: invalid value "${y}" for flag -y (want log or linear)`);
    if (args.number('bucket') < 1e6) throw new UsageError('plot: -bucket must be at least 1ms');
    if (args.number('points') < 0) throw new UsageError('plot: -points cannot be negative');
    if (args.number('columns') < 10) throw new UsageError('plot: -columns must be at least 10');
    const captures = args.list('explain');
    if (args.has('explain-above') && captures.length === 0) throw new UsageError('plot: -explain-above needs -explain=CAPTURE');
    const above = parseThreshold(args.string('explain-above'));
    if (args.positionals.length === 0 && (io.stdin as { isTTY?: boolean }).isTTY) {
      throw new UsageError('plot: no input (name results files, or pipe them: tailprobe attack ... | tailprobe plot -o report.html)');
    }
    const html = await plotHtml(args.positionals, {
      stdin: io.stdin,
      title: args.has('title') ? args.string('title') : undefined,
      bucketNs: args.number('bucket'),
      exactLimit: args.number('points'),
      columns: args.number('columns'),
      yScale: y,
      explain: captures.length ? { captures, above } : undefined,
    });
    const output = await openOutput('plot', args.string('output'), io);
    output.stream.write(html);
    await output.close();
    return 0;
  },
};
