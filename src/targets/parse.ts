import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError, at, quote } from '../errors.js';
import type { Target, TargetFormat } from './target.js';

/**
 * vegeta's two target formats.
 *
 * http format: a `METHOD URL` line, then `Header: value` lines, then an optional `@path` naming a
 * body file (relative to the targets file; to the working directory for stdin); targets are
 * separated by blank lines; lines starting with `#` or `//` are comments.
 *
 *     GET http://127.0.0.1:8080/api/lookup?id=1
 *     X-Account-ID: 8675309
 *
 *     POST http://127.0.0.1:8080/things
 *     Content-Type: application/json
 *     @things.json
 *
 * json format: one object a line, `{"method":"GET","url":"http://...","body":"<base64>","header":{"Name":["v"]}}`.
 *
 * Errors name the file and line: `targets.txt:3: invalid URL "htp:/x"`.
 */
export function parseTargets(text: string, format: TargetFormat, file?: string): Target[] {
  const name = file ?? 'stdin';
  const targets = format === 'json' ? parseJson(text, name) : parseHttp(text, name, file);
  if (targets.length === 0) throw new UsageError(at(name, undefined, 'no targets'));
  return targets;
}

/** Methods are HTTP tokens; we accept any token in upper case, as servers do (GET, POST, PURGE...). */
const METHOD = /^[A-Z][A-Z0-9!#$%&'*+.^_`|~-]*$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function checkMethod(method: string, file: string, line: number | undefined): void {
  if (!METHOD.test(method)) throw new UsageError(at(file, line, `invalid method ${quote(method)}`));
}

/** An absolute http(s) URL with a host; anything else is refused up front, not at request time. */
export function checkUrl(url: string, file: string, line: number | undefined): void {
  let u: URL | null = null;
  try {
    u = new URL(url);
  } catch {
    u = null;
  }
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || u.hostname === '' || !/^https?:\/\//i.test(url)) {
    throw new UsageError(at(file, line, `invalid URL ${quote(url)}`));
  }
}

function parseHttp(text: string, name: string, file: string | undefined): Target[] {
  const lines = text.split(/\r?\n/);
  const baseDir = file ? dirname(resolve(file)) : process.cwd();
  const targets: Target[] = [];
  let cur: Target | null = null;
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i]!.trim();
    if (line.startsWith('#') || line.startsWith('//')) continue;
    if (line === '') {
      cur = null;
      continue;
    }
    if (cur === null) {
      const sp = line.search(/\s/);
      if (sp < 0) {
        if (/^https?:\/\//i.test(line)) throw new UsageError(at(name, lineNo, `missing method before ${quote(line)} (want ${quote(`GET ${line}`)})`));
        throw new UsageError(at(name, lineNo, `invalid target ${quote(line)} (want "METHOD URL")`));
      }
      const method = line.slice(0, sp);
      const url = line.slice(sp).trim();
      checkMethod(method, name, lineNo);
      checkUrl(url, name, lineNo);
      cur = { method, url, headers: {}, body: null };
      targets.push(cur);
      continue;
    }
    if (line.startsWith('@')) {
      if (cur.body !== null) throw new UsageError(at(name, lineNo, 'a target has at most one @body file'));
      const path = line.slice(1).trim();
      if (path === '') throw new UsageError(at(name, lineNo, 'empty @body file name'));
      try {
        cur.body = readFileSync(resolve(baseDir, path));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
        throw new UsageError(at(name, lineNo, `cannot read body file ${quote(path)}: ${why}`));
      }
      continue;
    }
    const colon = line.indexOf(':');
    const hname = colon > 0 ? line.slice(0, colon).trim() : '';
    if (colon <= 0 || !HEADER_NAME.test(hname)) {
      throw new UsageError(at(name, lineNo, `invalid header ${quote(line)} (want "Name: value")`));
    }
    const value = line.slice(colon + 1).trim();
    (cur.headers[hname] ??= []).push(value);
  }
  return targets;
}

function parseJson(text: string, name: string): Target[] {
  const lines = text.split(/\r?\n/);
  const targets: Target[] = [];
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i]!.trim();
    if (line === '') continue;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (err) {
      throw new UsageError(at(name, lineNo, `invalid JSON target: ${(err as Error).message.length > 200 ? quote((err as Error).message, 200) : (err as Error).message}`));
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      throw new UsageError(at(name, lineNo, 'invalid JSON target: want an object'));
    }
    const o = obj as Record<string, unknown>;
    const method = o.method ?? 'GET';
    if (typeof method !== 'string') throw new UsageError(at(name, lineNo, 'invalid JSON target: "method" must be a string'));
    if (typeof o.url !== 'string') throw new UsageError(at(name, lineNo, 'invalid JSON target: missing "url"'));
    checkMethod(method, name, lineNo);
    checkUrl(o.url, name, lineNo);
    let body: Uint8Array | null = null;
    if (o.body !== undefined && o.body !== null && o.body !== '') {
      if (typeof o.body !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(o.body.replace(/\s/g, ''))) {
        throw new UsageError(at(name, lineNo, 'invalid JSON target: "body" must be base64'));
      }
      body = Buffer.from(o.body, 'base64');
    }
    const headers: Record<string, string[]> = {};
    if (o.header !== undefined && o.header !== null) {
      if (typeof o.header !== 'object' || Array.isArray(o.header)) {
        throw new UsageError(at(name, lineNo, 'invalid JSON target: "header" must be an object of string arrays'));
      }
      for (const [k, v] of Object.entries(o.header as Record<string, unknown>)) {
        const values = typeof v === 'string' ? [v] : v;
        if (!HEADER_NAME.test(k) || !Array.isArray(values) || values.some((x) => typeof x !== 'string')) {
          throw new UsageError(at(name, lineNo, `invalid JSON target: header ${quote(k)} must be an array of strings`));
        }
        headers[k] = [...(values as string[])];
      }
    }
    targets.push({ method, url: o.url, headers, body });
  }
  return targets;
}

/** Parses one `-header` flag value ("Name: value"). */
export function parseHeaderFlag(text: string): [string, string] {
  const colon = text.indexOf(':');
  const name = colon > 0 ? text.slice(0, colon).trim() : '';
  if (colon <= 0 || !HEADER_NAME.test(name)) throw new UsageError(`invalid header ${quote(text)} (want "Name: value")`);
  return [name, text.slice(colon + 1).trim()];
}
