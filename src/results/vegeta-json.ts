import type { Result } from './result.js';
import { formatRfc3339Nano, parseRfc3339 } from './timestamp.js';

/**
 * vegeta's JSON lines result format, byte for byte as vegeta's lib/results_json.go writes it:
 *
 *   {"attack":"","seq":0,"code":200,"timestamp":"2026-11-27T08:00:00.123456789Z","latency":1234567,
 *    "bytes_out":0,"bytes_in":12,"error":"","body":"aGVsbG8=","method":"GET","url":"http://...","headers":{...}}
 *
 * Latency is integer ns, timestamp RFC 3339 with ns, body base64. Strings are escaped as vegeta escapes
 * them (`<` and `'` as \u003c and \u0027, as Go's quicktemplate does). vegeta has no field for the
 * send lag, so a result read from this format has sendLag -1 ("not recorded").
 */

const NEEDS_ESCAPE = /["\\\u0000-\u001f<']/;
const ESCAPE_ALL = /["\\\u0000-\u001f<']/g;
const ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\f': '\\u000c',
  '\b': '\\u0008',
  '<': '\\u003c',
  "'": '\\u0027',
};

/** The inside of a JSON string literal (no quotes), escaped as vegeta does. */
export function jsonEscape(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(ESCAPE_ALL, (c) => ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function base64(b: Uint8Array | null): string {
  if (b === null || b.length === 0) return '';
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

/** One result as one JSON line, newline included. */
export function encodeJsonResult(r: Result): string {
  let headers = '';
  if (r.headers !== null) {
    for (const k in r.headers) {
      if (headers !== '') headers += ',';
      headers += `"${jsonEscape(k)}":[`;
      const vs = r.headers[k]!;
      for (let i = 0; i < vs.length; i++) headers += `${i ? ',' : ''}"${jsonEscape(vs[i]!)}"`;
      headers += ']';
    }
  }
  return (
    `{"attack":"${jsonEscape(r.attack)}","seq":${r.seq},"code":${r.code},` +
    `"timestamp":"${formatRfc3339Nano(r.timestamp)}","latency":${Math.round(r.latency)},` +
    `"bytes_out":${r.bytesOut},"bytes_in":${r.bytesIn},"error":"${jsonEscape(r.error)}",` +
    `"body":"${base64(r.body)}","method":"${jsonEscape(r.method)}","url":"${jsonEscape(r.url)}",` +
    `"headers":{${headers}}}\n`
  );
}

type Json = Record<string, unknown>;

function str(o: Json, key: string): string {
  const v = o[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new Error(`"${key}" is not a string`);
  return v;
}

function uint(o: Json, key: string): number {
  const v = o[key];
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new Error(`"${key}" is not a non-negative integer`);
  return v;
}

/**
 * Parses one line of vegeta JSON. Throws an Error whose message says what is wrong (the caller adds
 * the file and line). Missing fields take vegeta's zero values, except the timestamp, without which
 * a result means nothing.
 */
export function decodeJsonResult(line: string): Result {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch (e) {
    throw new Error(`invalid JSON result: ${(e as Error).message}`);
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new Error('invalid JSON result: not an object');
  const j = o as Json;
  try {
    const tsText = j.timestamp;
    if (typeof tsText !== 'string') throw new Error('missing "timestamp"');
    const timestamp = parseRfc3339(tsText);
    if (timestamp === null) throw new Error(`"timestamp" ${JSON.stringify(tsText)} is not RFC 3339`);
    const latency = j.latency === undefined || j.latency === null ? 0 : j.latency;
    if (typeof latency !== 'number' || !Number.isInteger(latency)) throw new Error('"latency" is not an integer (ns)');
    const bodyText = str(j, 'body');
    let body: Uint8Array | null = null;
    if (bodyText !== '') {
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(bodyText) || bodyText.length % 4 !== 0) throw new Error('"body" is not base64');
      body = Buffer.from(bodyText, 'base64');
    }
    let headers: Record<string, string[]> | null = null;
    const h = j.headers ?? j.header;
    if (h !== undefined && h !== null) {
      if (typeof h !== 'object' || Array.isArray(h)) throw new Error('"headers" is not an object');
      for (const [k, vs] of Object.entries(h as Json)) {
        if (!Array.isArray(vs) || vs.some((v) => typeof v !== 'string')) throw new Error(`header "${k}" is not a list of strings`);
        (headers ??= {})[k] = vs as string[];
      }
    }
    return {
      attack: str(j, 'attack'),
      seq: uint(j, 'seq'),
      code: uint(j, 'code'),
      timestamp,
      latency,
      sendLag: -1,
      bytesOut: uint(j, 'bytes_out'),
      bytesIn: uint(j, 'bytes_in'),
      error: str(j, 'error'),
      body,
      method: str(j, 'method'),
      url: str(j, 'url'),
      headers,
    };
  } catch (e) {
    throw new Error(`invalid JSON result: ${(e as Error).message}`);
  }
}
