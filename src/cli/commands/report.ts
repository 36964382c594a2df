import { EXIT_SLO_FAILED, UsageError } from '../../errors.js';
import { isStdout, openOutput } from '../output.js';
import { parseReportType, runReport, type ReportGate } from '../../report/run.js';
import type { CliIO, Command } from '../command.js';
import { writeHlogOutput } from '../hlog-output.js';
import { truncationNotes } from '../../report/health.js';
import type { ParsedArgs } from '../flags.js';
import { SLO_FLAG, sloReportGateFromArgs } from '../slo-flags.js';

/**
 * SLO GATE: the `-slo` flag's place. Return a gate built from the parsed flags (see ReportGate in
 * src/report/run.ts), or undefined when no SLO was asked for. A failed gate exits 99.
 */
function gateFromArgs(args: ParsedArgs): ReportGate | undefined {
  return sloReportGateFromArgs(args);
}

/** `tailprobe report`: a thin shell over runReport (src/report). */
export const command: Command = {
  spec: {
    name: 'report',
    summary: 'Report on results: vegeta text/JSON/histogram plus the tail and the schedule',
    usage: '[flags] [FILE...]',
    description: [
      'Reads results (tailprobe binary, vegeta JSON lines or CSV, gzipped or not, detected from the',
      'first bytes) from the FILEs, merged, or from stdin when there are none or FILE is "-".',
      'The text report is vegeta\'s, plus a Tail line (p99.9, p99.99, max) and a Schedule line (requests',
      'the generator sent late, send lag), with warnings when the run was closed-loop or the generator',
      'itself was the bottleneck. Percentiles come from an HDR histogram (1µs..1h, 3 digits), so any',
      'number of results is reported in bounded memory.',
    ].join('\n'),
    flags: [
      {
        name: 'type',
        type: 'string',
        default: 'text',
        value: 'TYPE',
        help: "Report type: text, json, hist[BUCKETS] (e.g. 'hist[0,1ms,5ms,10ms,50ms]'), hdrplot or hlog (HdrHistogram interval log)",
      },
      {
        name: 'buckets',
        type: 'string',
        value: '[BUCKETS]',
        help: "Histogram buckets, e.g. '[0,1ms,10ms]': for -type=hist, or added to the json report",
      },
      { name: 'hlog-interval', type: 'duration', default: '1s', help: 'Interval of the histograms for -type=hlog' },
      { name: 'every', type: 'duration', default: '0', help: 'Print a report of everything so far at this interval while reading (0: at the end only)' },
      { name: 'output', aliases: ['o'], type: 'string', default: 'stdout', value: 'FILE', help: 'Write the report to FILE' },
      SLO_FLAG,
    ],
    examples: [
      'tailprobe attack -rate=500 -duration=60s < targets.txt | tailprobe report',
      'tailprobe report -type=json results.bin',
      "tailprobe report -type='hist[0,1ms,5ms,10ms,50ms]' results.bin",
      'tailprobe report -type=hdrplot results.bin > latency.hgrm',
      'tailprobe report -type=hlog results.bin > latency.hlog; tailprobe report latency.hlog',
      'tailprobe attack -rate=500 -duration=5m < targets.txt | tailprobe report -every=1s',
    ],
  },
  async run(args, io) {
    if (args.string('type').trim() === 'hlog') return writeHlogOutput('report', args, io);
    if (args.has('hlog-interval')) throw new UsageError('report: -hlog-interval is for -type=hlog');
    const type = parseReportType(args.string('type'), args.string('buckets'));
    const everyNs = args.number('every');
    if (everyNs < 0) throw new UsageError('report: -every cannot be negative');
    const gate = gateFromArgs(args);

    const outPath = args.string('output');
    const toFile = !isStdout(outPath);
    const output = await openOutput('report', outPath, io);
    const out = output.stream;

    // Ctrl-C: in `attack | report` the attack is interrupted too and flushes what it measured, so the
    // first interrupt keeps reading a pipe to its end; a second one (or any, for files and terminals)
    // stops and reports what was read.
    const stop = new AbortController();
    const readingPipe = args.positionals.length === 0 || args.positionals.every((p) => p === '-' || p === 'stdin');
    let interrupts = 0;
    const onSigint = () => {
      interrupts++;
      if (!readingPipe || (io.stdin as { isTTY?: boolean }).isTTY || interrupts > 1) stop.abort();
    };
    process.on('SIGINT', onSigint);
    // Nothing more can be written: stop reading.
    output.onFailure(() => stop.abort());
    let closed = false;
    try {
      const { failed } = await runReport({
        inputs: args.positionals,
        stdin: io.stdin,
        out,
        err: io.stderr,
        type,
        everyNs,
        clearScreen: !toFile && (io.stdout as { isTTY?: boolean }).isTTY === true,
        signal: stop.signal,
        gate,
      });
      closed = true;
      await output.close();
      return failed ? EXIT_SLO_FAILED : 0;
    } finally {
      process.off('SIGINT', onSigint);
      // On an error, the error is the message; the output still closes (and the file is complete so far).
      if (!closed) await output.close().catch(() => {});
    }
  },
};
