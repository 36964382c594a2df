import { openOutput } from '../output.js';
import { encodeResults } from '../../results/convert.js';
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
      { name: 'to', type: 'string', default: 'json', value: 'FORMAT', help: 'Output format: binary, json or csv' },
      { name: 'output', aliases: ['o'], type: 'string', default: 'stdout', value: 'FILE', help: 'Write to FILE' },
    ],
    examples: [
      'tailprobe encode -to=json results.bin > results.json',
      'tailprobe encode -to=binary vegeta-results.csv -output results.bin',
      'vegeta attack ... | vegeta encode -to=json | tailprobe encode -to=binary > results.bin',
    ],
  },
  async run(args, io) {
    const to = parseResultFormat(args.string('to'), 'to', 'encode');
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
