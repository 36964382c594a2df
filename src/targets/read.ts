import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { UsageError } from '../errors.js';
import { parseTargets } from './parse.js';
import type { Target, TargetFormat } from './target.js';

/**
 * Reads targets from `-targets FILE`, or from stdin when no file is given (the vegeta pipeline,
 * `echo "GET http://..." | tailprobe attack`). An interactive stdin with no file is a usage error
 * rather than a silent wait.
 */
export async function readTargets(opts: { file?: string; format: TargetFormat; stdin?: Readable & { isTTY?: boolean } }): Promise<Target[]> {
  if (opts.file && opts.file !== '-' && opts.file !== 'stdin') {
    let text: string;
    try {
      text = await readFile(opts.file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UsageError(`${opts.file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
    return parseTargets(text, opts.format, opts.file);
  }
  const stdin = opts.stdin ?? process.stdin;
  if (stdin.isTTY) throw new UsageError('no targets: pipe them on stdin (echo "GET http://127.0.0.1:8080/" | tailprobe attack) or use -targets FILE');
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return parseTargets(Buffer.concat(chunks).toString('utf8'), opts.format, undefined);
}
