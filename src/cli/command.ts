import type { Readable, Writable } from 'node:stream';
import type { CommandSpec, ParsedArgs } from './flags.js';

/** Where a command reads and writes; the real process streams in the CLI, buffers in tests. */
export interface CliIO {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  /** Environment variables (process.env by default). */
  env: NodeJS.ProcessEnv;
}

/**
 * A CLI command: a spec (flags, help) and a run function that is a thin shell over the library.
 * `run` returns the exit code; it throws UsageError/RuntimeError for one-line failures.
 */
export interface Command {
  spec: CommandSpec;
  run(args: ParsedArgs, io: CliIO): Promise<number>;
}
