import type { Result } from './result.js';
import { headerWireForm, parseHeaderWire } from './http-headers.js';

/**
 * vegeta's CSV result format, as vegeta's NewCSVEncoder writes it with Go's encoding/csv: no header
 * row, one record a line, columns
 *
 *   timestamp (unix ns), code, latency (ns), bytes_out, bytes_in, error, body (base64),
 *   attack, seq, method, url, headers (base64 of the HTTP/1 wire form)
 *
 * Fields are quoted only when they must be (a comma, quote, CR or LF inside, or a leading space),
 * quotes doubled, as Go's csv.Writer does. Files from older vegeta versions with only the first 9
 * columns are read too. vegeta has no send-lag column: results read from CSV have sendLag -1.
 */

export const CSV_FIELDS = 12;
const CSV_FIELDS_OLD = 9;

function csvField(s: string): string {
  if (s === '') return s;
  if (s === '\\.' || /[",\r\n]/.test(s) || /^\s/u.test(s)) return `"${s.replace(/"/g, '""')}"`;
  return s;
}

function base64(b: Uint8Array | null): string {
  if (b === null || b.length === 0) return '';
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

/** One result as one CSV record, newline included. */
export function encodeCsvResult(r: Result): string {
  const headers = r.headers === null ? '' : Buffer.from(headerWireForm(r.headers), 'utf8').toString('base64');
  return (
    `${r.timestamp},${r.code},${Math.round(r.latency)},${r.bytesOut},${r.bytesIn},${csvField(r.error)},` +
    `${base64(r.body)},${csvField(r.attack)},${r.seq},${csvField(r.method)},${csvField(r.url)},${headers}\n`
  );
}

/**
 * Splits one CSV record into fields, Go encoding/csv style with TrimLeadingSpace. `text` may span
 * several lines (quoted fields can hold newlines); returns null when it ends inside a quoted field,
 * meaning the caller should append the next line and try again.
 */
export function splitCsvRecord(text: string): string[] | null {
  if (text.indexOf('"') < 0) return text.split(',').map((f) => f.trimStart());
  const fields: string[] = [];
  let i = 0;
  const n = text.length;
  for (;;) {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
    if (text[i] === '"') {
      let field = '';
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) return null; // the quoted field goes on in the next line
        field += text.slice(i, q);
        if (text[q + 1] === '"') {
          field += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      fields.push(field.replace(/\r\n/g, '\n'));
      if (i >= n) return fields;
      if (text[i] !== ',') throw new Error(`extraneous or missing " in quoted field ${fields.length}`);
      i++;
    } else {
      const comma = text.indexOf(',', i);
      const end = comma < 0 ? n : comma;
      const field = text.slice(i, end);
      if (field.includes('"')) throw new Error(`bare " in non-quoted field ${fields.length + 1}`);
      fields.push(field);
      if (comma < 0) return fields;
      i = comma + 1;
    }
  }
}

const INT = /^\d+$/;
const SIGNED_INT = /^-?\d+$/;

function uintField(v: string, what: string): number {
  if (!INT.test(v)) throw new Error(`${what} ${JSON.stringify(v)} is not a non-negative integer`);
  return Number(v);
}

/** Turns the fields of one record into a Result; throws an Error saying what is wrong. */
export function decodeCsvFields(f: string[]): Result {
  if (f.length !== CSV_FIELDS && f.length !== CSV_FIELDS_OLD) {
    throw new Error(`invalid CSV result: expected ${CSV_FIELDS} fields, got ${f.length}`);
  }
  try {
    if (!SIGNED_INT.test(f[0]!)) throw new Error(`timestamp ${JSON.stringify(f[0])} is not unix nanoseconds`);
    const latency = f[2]!;
    if (!SIGNED_INT.test(latency)) throw new Error(`latency ${JSON.stringify(latency)} is not an integer (ns)`);
    const b64 = f[6]!;
    let body: Uint8Array | null = null;
    if (b64 !== '') {
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) throw new Error('body is not base64');
      body = Buffer.from(b64, 'base64');
    }
    let headers: Record<string, string[]> | null = null;
    const h = f[11] ?? '';
    if (h !== '') {
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(h) || h.length % 4 !== 0) throw new Error('headers are not base64');
      headers = parseHeaderWire(Buffer.from(h, 'base64').toString('utf8'));
    }
    return {
      attack: f[7]!,
      seq: f[8] === '' ? 0 : uintField(f[8]!, 'seq'),
      code: uintField(f[1]!, 'code'),
      timestamp: BigInt(f[0]!),
      latency: Number(latency),
      sendLag: -1,
      bytesOut: uintField(f[3]!, 'bytes_out'),
      bytesIn: uintField(f[4]!, 'bytes_in'),
      error: f[5]!,
      body,
      method: f[9] ?? '',
      url: f[10] ?? '',
      headers,
    };
  } catch (e) {
    throw new Error(`invalid CSV result: ${(e as Error).message}`);
  }
}
