import { TailprobeError } from '../errors.js';
import type { CliIO, Command } from './command.js';
import { formatHelp, parseArgs } from './flags.js';

/**
 * The command table. Each command lives in ./commands/<name>.js and is loaded only when used, so
 * `tailprobe report` does not pay for loading the HTTP client or the profiler.
 */
export const COMMANDS: readonly string[] = [
  'attack', 'report', 'encode', 'plot', 'compare', 'sweep', 'profile', 'pprof', 'explain', 'bench', 'demo', 'k8s',
];

export async function loadCommand(name: string): Promise<Command> {
  const modulePath = `./commands/${name}.js`;
  const mod = (await import(modulePath)) as { command: Command };
  return mod.command;
}

function processIO(): CliIO {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };
}

export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  // `tailprobe report | head` must end quietly, not with an EPIPE stack trace.
  io.stdout.on?.('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
  });
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
      if (name === 'help' && rest[0] && COMMANDS.includes(rest[0])) {
        io.stdout.write(formatHelp((await loadCommand(rest[0])).spec));
        return 0;
      }
      io.stdout.write(await topLevelHelp());
      return name === undefined ? 2 : 0;
    }
    if (name === '-version' || name === '--version' || name === 'version') {
      io.stdout.write(`tailprobe ${await version()}\n`);
      return 0;
    }
    if (!COMMANDS.includes(name)) {
      io.stderr.write(`tailprobe: unknown command "${name}" (see 'tailprobe --help')\n`);
      return 2;
    }
    const command = await loadCommand(name);
    const args = parseArgs(command.spec, rest);
    if (args.help) {
      io.stdout.write(formatHelp(command.spec));
      return 0;
    }
    return await command.run(args, io);
  } catch (err) {
    return reportError(err, io);
  }
}

/** One line, never a stack trace (unless TAILPROBE_DEBUG is set, for us). */
export function reportError(err: unknown, io: Pick<CliIO, 'stderr' | 'env'>): number {
  if (err instanceof TailprobeError) {
    io.stderr.write(`tailprobe: ${err.message}\n`);
    return err.exitCode;
  }
  const e = err as NodeJS.ErrnoException;
  if (io.env.TAILPROBE_DEBUG) io.stderr.write(`${e?.stack ?? String(err)}\n`);
  const msg = e?.code === 'ENOENT' && e.path ? `no such file: ${e.path}` : (e?.message ?? String(err));
  io.stderr.write(`tailprobe: ${msg.split('\n')[0]}\n`);
  return 1;
}

async function topLevelHelp(): Promise<string> {
  const rows: string[] = [];
  for (const name of COMMANDS) {
    try {
      rows.push(`  ${name.padEnd(10)}${(await loadCommand(name)).spec.summary}`);
    } catch {
      // A command module that fails to load is not listed; running it reports the error.
    }
  }
  return [
    'tailprobe: find and fix tail latency in HTTP services.',
    '',
    'Usage: tailprobe <command> [flags]',
    '',
    'Commands:',
    ...rows,
    '',
    "Flags are Go-style or GNU-style: -rate=500, -rate 500 and --rate 500 are the same.",
    "Run 'tailprobe <command> --help' for a command's flags and their defaults.",
    '',
    'The investigation, in order:',
    '  echo "GET http://127.0.0.1:8080/api/lookup" | tailprobe attack -rate=500 -duration=60s | tailprobe report',
    '  tailprobe profile -url=http://127.0.0.1:6060 -types=cpu,heap,block -seconds=30 -out=prof/',
    '  tailprobe explain results.bin -agent=http://127.0.0.1:6060',
    '  tailprobe compare before.bin after.bin',
    '',
  ].join('\n');
}

async function version(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
