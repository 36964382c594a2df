import { open } from 'node:fs/promises';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { RuntimeError } from '../errors.js';
import { emptyMeta, type Result, type RunMeta } from './result.js';
import type { ResultFormat } from './formats.js';
import { BinaryDecoder } from './binary-decoder.js';
import { CsvDecoder, JsonLinesDecoder, type ChunkDecoder } from './text-decoders.js';

/**
 * Reading results: any number of files or stdin, each in tailprobe's binary format or vegeta's JSON
 * lines or CSV, gzipped or not, detected from the first bytes. Everything streams in batches, so a
 * file of tens of millions of results is read in bounded memory (one chunk plus one batch at a time).
 */
export interface ResultSource {
  /** File path, or "stdin". */
  name: string;
  /** Detected format (of the decompressed bytes when gzipped); 'hlog': an HdrHistogram interval log. */
  format: ResultFormat | 'hlog';
  /**
   * Set for an input that holds aggregates, not results (an HdrHistogram interval log): its text,
   * known once batches() has ended (it yields no results); src/metrics reads it (readHlog).
   */
  hlogText?: string | null;
  /** True when the input was gzip-compressed. */
  gzip: boolean;
  /** Run metadata, filled in as meta records are read (complete once batches() has ended). */
  meta: RunMeta;
  /** Bytes of a cut-off final record (0 if the input ended whole); known once batches() has ended. */
  truncatedBytes: number;
  /** True when the input was cut off: a partial final record, or a gzip stream that ends early. */
  truncated: boolean;
  /** The results, in file order, in batches. Can be iterated once. */
  batches(): AsyncIterable<Result[]>;
  /** Releases the input without reading it (reading to the end releases it too). */
  close(): void;
}

/** Read size: large chunks keep the per-chunk overhead small next to the per-result work. */
const CHUNK = 1 << 20;

/**
 * Opens one input and detects its format. `path` '-' (or "stdin") reads `stdin` (process.stdin by
 * default). A missing file, a directory or an unknown format is a one-line RuntimeError.
 */
export async function openResults(path: string, stdin?: NodeJS.ReadableStream): Promise<ResultSource> {
  let name: string;
  let stream: Readable;
  if (path === '-' || path === 'stdin') {
    name = 'stdin';
    stream = (stdin ?? process.stdin) as Readable;
  } else {
    name = path;
    const fh = await open(path, 'r').catch((e: NodeJS.ErrnoException) => {
      throw new RuntimeError(`${path}: ${fileProblem(e)}`);
    });
    stream = fh.createReadStream({ highWaterMark: CHUNK });
  }

  let bytes = new Peekable(name, stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>, () => stream.destroy());
  const head = await bytes.peek(2);
  const gzip = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  if (gzip) {
    const gz = createGunzip({ chunkSize: 256 * 1024 });
    pipeline(Readable.from(bytes), gz, () => {
      /* errors surface through gz's iterator */
    });
    bytes = new Peekable(name, gz[Symbol.asyncIterator]() as AsyncIterator<Buffer>, () => {
      gz.destroy();
      stream.destroy();
    });
  }
  const format = await detect(bytes);
  if (format === 'hlog') return new HlogSource(name, gzip, bytes);
  if (format === null) {
    bytes.close();
    throw new RuntimeError(
      `${name}: unrecognized results format (want tailprobe binary, vegeta JSON lines or vegeta CSV, or an HdrHistogram log; ` +
        `convert vegeta's default gob output with "vegeta encode -to=json")`,
    );
  }
  const decoder: ChunkDecoder =
    format === 'binary' ? new BinaryDecoder(name) : format === 'json' ? new JsonLinesDecoder(name) : new CsvDecoder(name);
  return new StreamSource(name, format, gzip, bytes, decoder);
}

function fileProblem(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return e.message;
  }
}

/** Looks at the first meaningful bytes. null: not a results format we know. */
async function detect(bytes: Peekable): Promise<ResultFormat | 'hlog' | null> {
  for (let want = 1; ; ) {
    const head = await bytes.peek(want);
    let i = 0;
    if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) i = 3; // UTF-8 byte-order mark
    while (i < head.length && (head[i] === 0x20 || head[i] === 0x0a || head[i] === 0x0d || head[i] === 0x09)) i++;
    if (i >= head.length) {
      if (head.length < want) return 'json'; // empty (or blank) input: no results; blank lines are valid JSON lines
      want = head.length + 1;
      continue;
    }
    const c = head[i]!;
    if (c === 0x89 && i === 0) {
      if (head.length < 4 && !bytes.ended) {
        want = 4;
        continue;
      }
      return head.length < 4 || (head[1] === 0x54 && head[2] === 0x50 && head[3] === 0x52) ? 'binary' : null;
    }
    if (c === 0x7b) return 'json'; // '{'
    if (c === 0x23 || c === 0x22 || c === 0x54) return 'hlog'; // '#', '"StartTimestamp"', 'Tag=': HdrHistogram log
    if ((c >= 0x30 && c <= 0x39) || c === 0x2d) return 'csv'; // a digit or '-': unix-ns timestamp
    return null;
  }
}

/** An async byte iterator that can look ahead without consuming. */
class Peekable implements AsyncIterable<Buffer> {
  private readonly head: Buffer[] = [];
  private headLen = 0;
  ended = false;

  constructor(
    readonly name: string,
    private readonly it: AsyncIterator<Buffer>,
    readonly close: () => void,
  ) {}

  /** At least n bytes from the start (fewer only at the end of input), without consuming them. */
  async peek(n: number): Promise<Buffer> {
    while (this.headLen < n && !this.ended) {
      const next = await this.pull();
      if (next === null) break;
      this.head.push(next);
      this.headLen += next.length;
    }
    return Buffer.concat(this.head, this.headLen);
  }

  private async pull(): Promise<Buffer | null> {
    try {
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        return null;
      }
      return typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    } catch (e) {
      throw readProblem(this.name, e);
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    while (this.head.length > 0) {
      this.headLen -= this.head[0]!.length;
      yield this.head.shift()!;
    }
    for (;;) {
      const next = await this.pull();
      if (next === null) return;
      yield next;
    }
  }
}

/**
 * A gzip stream that ends early is a truncated input, not a failure, once results were read; one
 * that ends before its format could even be told is a failure, and says why.
 */
class TruncatedGzip extends RuntimeError {
  constructor(name: string) {
    super(`${name}: truncated gzip data (the compressed stream ends before the first result)`);
  }
}

function readProblem(name: string, e: unknown): Error {
  const err = e as NodeJS.ErrnoException;
  if (err instanceof RuntimeError) return err;
  if (err?.code === 'Z_BUF_ERROR') return new TruncatedGzip(name);
  if (typeof err?.code === 'string' && err.code.startsWith('Z_')) {
    return new RuntimeError(`${name}: corrupt gzip data (${err.message})`);
  }
  if (err?.code) return new RuntimeError(`${name}: ${fileProblem(err)}`);
  return new RuntimeError(`${name}: ${err?.message ?? String(e)}`);
}

class StreamSource implements ResultSource {
  truncatedBytes = 0;
  truncated = false;
  private used = false;

  constructor(
    readonly name: string,
    readonly format: ResultFormat,
    readonly gzip: boolean,
    private readonly bytes: Peekable,
    private readonly decoder: ChunkDecoder,
  ) {}

  get meta(): RunMeta {
    return this.decoder.meta;
  }

  close(): void {
    this.bytes.close();
  }

  async *batches(): AsyncIterable<Result[]> {
    if (this.used) throw new Error(`${this.name}: results can be read only once`);
    this.used = true;
    let out: Result[] = [];
    try {
      try {
        for await (const chunk of this.bytes) {
          this.decoder.push(chunk, out);
          if (out.length > 0) {
            yield out;
            out = [];
          }
        }
      } catch (e) {
        if (!(e instanceof TruncatedGzip)) throw e;
        this.truncated = true;
      }
      this.decoder.finish?.(out);
      if (out.length > 0) yield out;
      this.truncatedBytes = this.decoder.end();
      if (this.truncatedBytes > 0) this.truncated = true;
    } finally {
      this.bytes.close();
    }
  }
}

/**
 * An HdrHistogram interval log: histograms, not results. Read whole (logs are small: ~1 KB an
 * interval) and kept as text; src/metrics turns it into Metrics (readMetrics, via readHlog), since
 * the formats here know nothing of what is computed from them.
 */
class HlogSource implements ResultSource {
  readonly format = 'hlog' as const;
  readonly meta: RunMeta = emptyMeta();
  truncatedBytes = 0;
  truncated = false;
  hlogText: string | null = null;
  private used = false;

  constructor(
    readonly name: string,
    readonly gzip: boolean,
    private readonly bytes: Peekable,
  ) {}

  close(): void {
    this.bytes.close();
  }

  async *batches(): AsyncIterable<Result[]> {
    if (this.used) throw new Error(`${this.name}: results can be read only once`);
    this.used = true;
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of this.bytes) chunks.push(chunk);
    } finally {
      this.bytes.close();
    }
    this.hlogText = Buffer.concat(chunks).toString('utf8');
  }
}
