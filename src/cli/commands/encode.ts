import { openOutput } from '../output.js';
import { UsageError } from '../../errors.js';
import { encodeResults } from '../../results/convert.js';
import { writeHlogOutput } from '../hlog-output.js';
import { parseResultFormat } from '../../results/formats.js';
import { truncationNotes } from '../../report/health.js';
import type { Command } from '../command.js';

/** `tailprobe encode`: a thin shell over encodeResults (src/results). */
export const command: Command = {
  spec: {
    name: 'encode',
    summary: "Convert results between tailprobe's binary format and vegeta's JSON lines and CSV",
    usage: '[flags] [FILE...]',
    description: [
      'Reads results in any format tailprobe reads (binary, vegeta JSON lines or CSV, gzipped or not)',
      'from the FILEs in order, or stdin, and writes them in the -to format. vegeta\'s formats have no',
      'place for send lag or run metadata: converting to json/csv drops them (binary keeps both).',
    ].join('\n'),
    flags: [
      { name: 'to', type: 'string', default: 'json', value: 'FORMAT', help: 'Output format: binary, json, csv or hlog (HdrHistogram interval log)' },
      { name: 'hlog-interval', type: 'duration', default: '1s', help: 'Interval of the histograms for -to=hlog' },
      { name: 'output', aliases: ['o'], type: 'string', default: 'stdout', value: 'FILE', help: 'Write to FILE' },
    ],
    examples: [
      'tailprobe encode -to=json results.bin > results.json',
      'tailprobe encode -to=binary vegeta-results.csv -output results.bin',
      'vegeta attack ... | vegeta encode -to=json | tailprobe encode -to=binary > results.bin',
      'tailprobe encode -to=hlog -hlog-interval=1s results.bin > latency.hlog',
    ],
  },
  async run(args, io) {
    const hlog = args.string('to').trim().toLowerCase() === 'hlog';
    const to = hlog ? 'binary' : parseResultFormat(args.string('to'), 'to', 'encode');
    if (args.has('hlog-interval') && !hlog) throw new UsageError('encode: -hlog-interval is for -to=hlog');
    if (hlog) return writeHlogOutput('encode', args, io);
    const outPath = args.string('output');
    const output = await openOutput('encode', outPath, io);
    let sources;
    try {
      sources = await encodeResults(args.positionals, output.stream, to, { stdin: io.stdin, end: false });
    } catch (err) {
      // A write failure is the output's one line (the writer rethrows the raw stream error).
      await output.close().catch(() => {});
      throw output.failure() ?? err;
    }
    await output.close();
    for (const note of truncationNotes(sources)) io.stderr.write(`tailprobe: ${note}\n`);
    return 0;
  },
};
