import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { isUtf8 } from 'node:buffer';
import { UsageError, at } from '../errors.js';
import { parseTargets } from './parse.js';
import type { Target, TargetFormat } from './target.js';

/**
 * Reads targets from `-targets FILE`, or from stdin when no file is given (the vegeta pipeline,
 * `echo "GET http://..." | tailprobe attack`). An interactive stdin with no file is a usage error
 * rather than a silent wait.
 */
export async function readTargets(opts: { file?: string; format: TargetFormat; stdin?: Readable & { isTTY?: boolean } }): Promise<Target[]> {
  if (opts.file && opts.file !== '-' && opts.file !== 'stdin') {
    let bytes: Buffer;
    try {
      bytes = await readFile(opts.file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UsageError(`${opts.file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
    return parseTargets(decodeTargets(bytes, opts.file), opts.format, opts.file);
  }
  const stdin = opts.stdin ?? process.stdin;
  if (stdin.isTTY) throw new UsageError('no targets: pipe them on stdin (echo "GET http://127.0.0.1:8080/" | tailprobe attack) or use -targets FILE');
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return parseTargets(decodeTargets(Buffer.concat(chunks), 'stdin'), opts.format, undefined);
}

/**
 * Targets are UTF-8 text. Bytes that are not UTF-8 are refused, with where they are, rather than
 * silently replaced by U+FFFD (a different URL than the user wrote); percent-encode them (%FF).
 */
export function decodeTargets(bytes: Buffer, name: string): string {
  if (isUtf8(bytes)) return bytes.toString('utf8');
  let start = 0;
  for (let line = 1; ; line++) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const l = bytes.subarray(start, end);
    if (!isUtf8(l)) {
      let col = 0;
      while (col < l.length && isUtf8(l.subarray(0, col + 1))) col++;
      // col: the first byte that does not start (or continue) a valid sequence here
      const b = l[col] ?? l[l.length - 1]!;
      throw new UsageError(
        at(name, line, `not UTF-8 text (byte 0x${b.toString(16).padStart(2, '0')} at column ${col + 1}): write such bytes percent-encoded, e.g. %${b.toString(16).toUpperCase().padStart(2, '0')}`),
      );
    }
    if (end >= bytes.length) break;
    start = end + 1;
  }
  return bytes.toString('utf8');
}
