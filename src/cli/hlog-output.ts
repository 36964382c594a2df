import { UsageError } from '../errors.js';
import { encodeHlog } from '../metrics/hlog-encode.js';
import { truncationNotes } from '../report/health.js';
import type { CliIO } from './command.js';
import type { ParsedArgs } from './flags.js';
import { openOutput } from './output.js';

/**
 * `report -type=hlog` and `encode -to=hlog`: the inputs' results as an HdrHistogram interval log
 * (one histogram per -hlog-interval), written to -output through the one output helper.
 */
export async function writeHlogOutput(command: string, args: ParsedArgs, io: CliIO): Promise<number> {
  const intervalNs = args.number('hlog-interval');
  if (!(intervalNs >= 1e6)) throw new UsageError(`${command}: -hlog-interval must be at least 1ms`);
  const output = await openOutput(command, args.string('output'), io);
  let r;
  try {
    r = await encodeHlog(args.positionals, (t) => output.stream.write(t), { stdin: io.stdin, intervalNs });
  } catch (err) {
    await output.close().catch(() => {});
    throw output.failure() ?? err;
  }
  await output.close();
  for (const note of truncationNotes(r.sources)) io.stderr.write(`tailprobe: ${note}\n`);
  if (r.late > 0) io.stderr.write(`tailprobe: ${command}: ${r.late} results completed more than 10s out of order and were logged in a later interval\n`);
  return 0;
}
