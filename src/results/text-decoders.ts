import { StringDecoder } from 'node:string_decoder';
import { RuntimeError, at } from '../errors.js';
import { emptyMeta, type Result, type RunMeta } from './result.js';
import { decodeJsonResult } from './vegeta-json.js';
import { decodeCsvFields, splitCsvRecord } from './vegeta-csv.js';

/** What the reader needs of a format's streaming decoder (BinaryDecoder has the same shape). */
export interface ChunkDecoder {
  readonly meta: RunMeta;
  /** Decodes whatever whole results the chunk completes, appending them to `out`. */
  push(chunk: Buffer, out: Result[]): void;
  /** Input ended: decodes a final unterminated result if it is whole; returns the bytes cut off (0 if none). */
  finish?(out: Result[]): number;
  end(): number;
}

/**
 * Splits a byte stream into lines, counting them (1-based) for error messages. A final line with
 * no newline is held back: at the end of input it is either a result written without a trailing
 * newline or the remains of one cut off mid-write, and only then can we tell which.
 */
abstract class LineDecoder implements ChunkDecoder {
  readonly meta = emptyMeta();
  private readonly text = new StringDecoder('utf8');
  private partial = '';
  protected line = 0;
  private cut = 0;
  private started = false;

  constructor(readonly name: string) {}

  push(chunk: Buffer, out: Result[]): void {
    let s = this.text.write(chunk);
    if (!this.started && s.length > 0) {
      this.started = true;
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1); // a byte-order mark, as some editors write
    }
    if (this.partial !== '') {
      s = this.partial + s;
      this.partial = '';
    }
    let from = 0;
    for (;;) {
      const nl = s.indexOf('\n', from);
      if (nl < 0) break;
      const end = nl > from && s.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      this.line++;
      this.onLine(s.slice(from, end), out);
      from = nl + 1;
    }
    this.partial = from === 0 ? s : s.slice(from);
  }

  finish(out: Result[]): number {
    const rest = this.partial + this.text.end();
    this.partial = '';
    this.cut = this.onEnd(rest, out);
    return this.cut;
  }

  end(): number {
    return this.cut;
  }

  protected fail(line: number, message: string): never {
    throw new RuntimeError(at(this.name, line, message));
  }

  protected abstract onLine(line: string, out: Result[]): void;
  /** Handles the unterminated remainder; returns the bytes that were cut off (not a whole result). */
  protected abstract onEnd(rest: string, out: Result[]): number;
}

/** vegeta JSON lines. Blank lines are skipped. */
export class JsonLinesDecoder extends LineDecoder {
  protected onLine(line: string, out: Result[]): void {
    if (isBlank(line)) return;
    try {
      out.push(decodeJsonResult(line));
    } catch (e) {
      this.fail(this.line, (e as Error).message);
    }
  }

  protected onEnd(rest: string, out: Result[]): number {
    if (isBlank(rest)) return 0;
    try {
      out.push(decodeJsonResult(rest));
      return 0;
    } catch {
      return Buffer.byteLength(rest, 'utf8');
    }
  }
}

/** vegeta CSV. A record may span lines when a quoted field (an error text, say) holds a newline. */
export class CsvDecoder extends LineDecoder {
  private record = '';
  private recordLine = 0;

  protected onLine(line: string, out: Result[]): void {
    if (this.record === '') {
      if (isBlank(line)) return;
      this.record = line;
      this.recordLine = this.line;
    } else {
      this.record += `\n${line}`;
    }
    let fields: string[] | null;
    try {
      fields = splitCsvRecord(this.record);
    } catch (e) {
      this.fail(this.recordLine, `invalid CSV result: ${(e as Error).message}`);
    }
    if (fields === null) return; // inside a quoted field: wait for the next line
    this.record = '';
    try {
      out.push(decodeCsvFields(fields));
    } catch (e) {
      this.fail(this.recordLine, (e as Error).message);
    }
  }

  protected onEnd(rest: string, out: Result[]): number {
    const text = this.record === '' ? rest : rest === '' ? this.record : `${this.record}\n${rest}`;
    const cut = Buffer.byteLength(rest, 'utf8') + (this.record === '' ? 0 : Buffer.byteLength(this.record, 'utf8') + 1);
    this.record = '';
    if (isBlank(text)) return 0;
    try {
      const fields = splitCsvRecord(text);
      if (fields !== null) {
        out.push(decodeCsvFields(fields));
        return 0;
      }
    } catch {
      // fall through: an unfinished record
    }
    return cut;
  }
}

function isBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 0xfeff) return false;
  }
  return true;
}
