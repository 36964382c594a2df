import type { Result, RunMeta } from './result.js';
import type { ResultFormat } from './formats.js';
import { BinaryEncoder } from './binary-encoder.js';
import { BinaryDecoder } from './binary-decoder.js';
import { encodeJsonResult } from './vegeta-json.js';
import { encodeCsvResult } from './vegeta-csv.js';

/**
 * Streaming result writer. write() is synchronous and cheap: results are encoded into an internal
 * buffer that goes to the stream in large chunks, and at least every `flushIntervalMs` so a live
 * pipe (`tailprobe attack | tailprobe report -every=1s`) sees results promptly even at low rates.
 */
export interface ResultWriter {
  write(r: Result): void;
  /** Binary format only (no-op for vegeta json/csv): run info, generator health, agent events. */
  writeMeta(meta: Partial<RunMeta>): void;
  /**
   * Append bytes already encoded by BinaryEncoder.take() (used by worker threads). Copied as they are
   * into binary output; decoded and re-encoded for vegeta json/csv.
   */
  writeEncoded(chunk: Uint8Array): void;
  /** Hands what is buffered to the stream now. */
  flush(): void;
  /** Resolves once the stream has taken everything written so far (backpressure, for callers that can wait). */
  drained(): Promise<void>;
  /** Flush everything and end (or not end, for stdout) the stream. Rejects with the stream's error, if any. */
  close(): Promise<void>;
}

export interface ResultWriterOptions {
  /** End the stream on close(). Default: true, except for process.stdout and process.stderr. */
  end?: boolean;
  /** Buffered bytes that trigger a write to the stream. Default 64 KiB. */
  flushBytes?: number;
  /** Longest time a result waits in the buffer, ms. Default 200; 0 disables the timer. */
  flushIntervalMs?: number;
}

export function createResultWriter(
  out: NodeJS.WritableStream,
  format: ResultFormat,
  opts: ResultWriterOptions = {},
): ResultWriter {
  const sink = new Sink(out, opts);
  return format === 'binary' ? new BinaryResultWriter(sink, opts) : new TextResultWriter(sink, format, opts);
}

/** The stream end: error capture, timed flushes, drain and close. */
class Sink {
  error: Error | null = null;
  private closed = false;
  private readonly end: boolean;

  constructor(
    private readonly out: NodeJS.WritableStream,
    opts: ResultWriterOptions,
  ) {
    this.end = opts.end ?? !(out === process.stdout || out === process.stderr);
    out.on('error', (e: Error) => {
      this.error ??= e;
    });
  }

  write(chunk: Uint8Array | string): void {
    if (this.error || chunk.length === 0) return;
    this.out.write(chunk as never);
  }

  drained(): Promise<void> {
    const w = this.out as NodeJS.WritableStream & { writableNeedDrain?: boolean };
    if (this.error || !w.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        w.off('drain', done);
        w.off('error', done);
        resolve();
      };
      w.on('drain', done);
      w.on('error', done);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const w = this.out as NodeJS.WritableStream & { destroyed?: boolean };
    if (!this.error && !w.destroyed) {
      await new Promise<void>((resolve) => {
        const done = () => {
          w.off('error', done);
          resolve();
        };
        w.on('error', done);
        if (this.end) w.end(done);
        else w.write('', done); // resolves once everything before it has been handed to the OS
      });
    }
    if (this.error) throw this.error;
  }
}

abstract class TimedWriter {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    protected readonly sink: Sink,
    opts: ResultWriterOptions,
  ) {
    const every = opts.flushIntervalMs ?? 200;
    if (every > 0) {
      this.timer = setInterval(() => this.flush(), every);
      this.timer.unref();
    }
  }

  abstract flush(): void;

  drained(): Promise<void> {
    return this.sink.drained();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.flush();
    await this.sink.close();
  }
}

class BinaryResultWriter extends TimedWriter implements ResultWriter {
  private readonly enc: BinaryEncoder;
  private readonly flushBytes: number;

  constructor(sink: Sink, opts: ResultWriterOptions) {
    super(sink, opts);
    this.flushBytes = opts.flushBytes ?? 64 * 1024;
    this.enc = new BinaryEncoder(this.flushBytes + 4096);
    // The header goes out with the first flush, so even a run with no results leaves a valid file.
    this.sink.write(BinaryEncoder.header());
  }

  write(r: Result): void {
    this.enc.encode(r);
    if (this.enc.length >= this.flushBytes) this.flush();
  }

  writeMeta(meta: Partial<RunMeta>): void {
    this.enc.encodeMeta(meta);
  }

  writeEncoded(chunk: Uint8Array): void {
    this.flush();
    this.sink.write(chunk);
    // The chunk opened a segment of its own: our next result must open a new one.
    this.enc.newSegment();
  }

  flush(): void {
    if (this.enc.length > 0) this.sink.write(this.enc.takeContinuing());
  }
}

class TextResultWriter extends TimedWriter implements ResultWriter {
  private buffered = '';
  private readonly flushBytes: number;
  private readonly encode: (r: Result) => string;
  private readonly chunks = new BinaryDecoder('encoded results', { headerless: true });

  constructor(sink: Sink, format: 'json' | 'csv', opts: ResultWriterOptions) {
    super(sink, opts);
    this.flushBytes = opts.flushBytes ?? 64 * 1024;
    this.encode = format === 'json' ? encodeJsonResult : encodeCsvResult;
  }

  write(r: Result): void {
    this.buffered += this.encode(r);
    if (this.buffered.length >= this.flushBytes) this.flush();
  }

  /** vegeta's formats have no place for run metadata. */
  writeMeta(): void {}

  /** Worker chunks are binary records: decoded here and written as vegeta text. */
  writeEncoded(chunk: Uint8Array): void {
    const results: Result[] = [];
    this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength), results);
    for (const r of results) this.write(r);
  }

  flush(): void {
    if (this.buffered.length > 0) {
      this.sink.write(this.buffered);
      this.buffered = '';
    }
  }
}
