import { UsageError } from '../errors.js';

/** The result formats tailprobe reads and writes: its own binary format and vegeta's JSON lines and CSV. */
export type ResultFormat = 'binary' | 'json' | 'csv';

export const RESULT_FORMATS: readonly ResultFormat[] = ['binary', 'json', 'csv'];

/** Validates a format named on the command line (`-to=json`, `-output-format=csv`). */
export function parseResultFormat(text: string, flag = 'format', command?: string): ResultFormat {
  const t = text.trim().toLowerCase();
  if ((RESULT_FORMATS as readonly string[]).includes(t)) return t as ResultFormat;
  const where = command ? `${command}: ` : '';
  throw new UsageError(`${where}invalid value "${text}" for flag -${flag} (want binary, json or csv)`);
}
