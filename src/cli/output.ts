import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { RuntimeError } from '../errors.js';
import type { CliIO } from './command.js';

/**
 * Where a command writes its output: a file or stdout, opened one way for every command, with one
 * way of failing. An open failure (EACCES, ENOENT, EISDIR...) and a write failure (ENOSPC on a full
 * disk or /dev/full, EIO...) are one line, `tailprobe: report: cannot write out.txt: no space left
 * on device (ENOSPC)`, and exit status 1. A closed pipe (`tailprobe report | head`) is not an error:
 * the reader has what it wanted, so the process stops quietly with status 0, as vegeta and the
 * Unix tools do (they die of SIGPIPE without a word).
 */
export interface Output {
  /** Write here. */
  readonly stream: Writable;
  /** "stdout" or the file's path, for messages. */
  readonly name: string;
  readonly isFile: boolean;
  /** The first write failure so far, as the one-line error (null: none). */
  failure(): RuntimeError | null;
  /** Called once, at the first write failure (e.g. to stop an attack that can no longer save anything). */
  onFailure(cb: (err: RuntimeError) => void): void;
  /** Flushes and (files) closes; throws the one-line error if any write failed. */
  close(): Promise<void>;
}

/** True for the names that mean stdout: "", "stdout", "-". */
export function isStdout(path: string): boolean {
  return path === '' || path === 'stdout' || path === '-';
}

/** Opens `path` (or stdout, see isStdout) for `command`'s output; rejects with a one-line RuntimeError. */
export async function openOutput(command: string, path: string, io: Pick<CliIO, 'stdout'>): Promise<Output> {
  if (isStdout(path)) return new StreamOutput(command, 'stdout', io.stdout, false);
  const file = createWriteStream(path);
  await new Promise<void>((resolve, reject) => {
    file.once('open', () => resolve());
    file.once('error', (e: NodeJS.ErrnoException) => reject(writeError(command, path, e)));
  });
  return new StreamOutput(command, path, file, true);
}

/** `report: cannot write out.txt: permission denied (EACCES)`. */
export function writeError(command: string, name: string, e: NodeJS.ErrnoException): RuntimeError {
  const what = name === 'stdout' ? 'to stdout' : name;
  return new RuntimeError(`${command}: cannot write ${what}: ${describeErrno(e)}`);
}

const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  EISDIR: 'is a directory',
  ENOTDIR: 'a parent is not a directory',
  EROFS: 'read-only file system',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  EIO: 'input/output error',
  EBADF: 'not open for writing',
};

function describeErrno(e: NodeJS.ErrnoException): string {
  const code = e?.code;
  if (code && REASONS[code]) return `${REASONS[code]} (${code})`;
  return code ? code : (e?.message ?? String(e));
}

class StreamOutput implements Output {
  private err: RuntimeError | null = null;
  private readonly listeners: Array<(err: RuntimeError) => void> = [];

  constructor(
    private readonly command: string,
    readonly name: string,
    readonly stream: Writable,
    readonly isFile: boolean,
  ) {
    stream.on('error', (e: NodeJS.ErrnoException) => this.fail(e));
  }

  private fail(e: NodeJS.ErrnoException): void {
    if (!this.isFile && e?.code === 'EPIPE') {
      // The reader is gone (`| head`): a quiet stop, not an error.
      process.exit(0);
    }
    if (this.err) return;
    this.err = writeError(this.command, this.name, e);
    for (const cb of this.listeners) cb(this.err);
  }

  failure(): RuntimeError | null {
    return this.err;
  }

  onFailure(cb: (err: RuntimeError) => void): void {
    if (this.err) cb(this.err);
    else this.listeners.push(cb);
  }

  async close(): Promise<void> {
    const s = this.stream;
    // A failed write destroys the stream before its 'error' event is emitted (on a later tick).
    const errored = () => {
      const e = (s as Writable & { errored?: Error | null }).errored;
      if (e) this.fail(e as NodeJS.ErrnoException);
    };
    errored();
    if (!this.err && !s.destroyed) {
      await new Promise<void>((resolve) => {
        const done = (e?: Error | null) => {
          s.off('error', done);
          if (e) this.fail(e as NodeJS.ErrnoException);
          resolve();
        };
        s.once('error', done);
        // A file is ended; stdout stays open (the process may still write to it) but is flushed:
        // an empty write calls back once everything before it was written, or failed.
        if (this.isFile) s.end(done);
        else s.write('', done);
      });
    }
    errored();
    if (this.err) throw this.err;
  }
}
