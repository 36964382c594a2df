import { gunzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';
import { RuntimeError } from '../errors.js';
import { cpuProfileToPprof, heapProfileToPprof, type V8CpuProfile, type V8HeapProfile } from './v8.js';

/**
 * Reading profiles: gzipped or plain pprof protobuf (what Go and the agent serve), and V8's JSON
 * profiles (.cpuprofile, .heapprofile), converted on the fly so every command takes any of them.
 * Whatever is wrong with the bytes is said in one line naming the source.
 */

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC_0 && bytes[1] === GZIP_MAGIC_1;
}

/** Text that is obviously not a profile: an HTML page, a JSON error, a plain-text message. */
export function describeNonProfile(bytes: Uint8Array): string | null {
  const head = Buffer.from(bytes.subarray(0, 512)).toString('utf8').trimStart();
  if (/^<(!doctype|html|head|body|\?xml)/i.test(head) || /<\/?(html|body|title|pre|h1)\b/i.test(head.slice(0, 200))) {
    const title = /<title>([^<]*)<\/title>/i.exec(head)?.[1]?.trim();
    return `got an HTML page${title ? ` ("${title.slice(0, 60)}")` : ''}, not a profile`;
  }
  if (bytes.length > 0 && isPrintable(bytes.subarray(0, 256))) {
    const line = head.split('\n')[0]!.trim().slice(0, 100);
    return `got text, not a profile: "${line}"`;
  }
  return null;
}

function isPrintable(b: Uint8Array): boolean {
  for (const c of b) if (c < 0x09 || (c > 0x0d && c < 0x20)) return false;
  return true;
}

/**
 * Parses a pprof profile (gzipped or not). V8 JSON profiles are accepted too when `allowV8Json`.
 * `source` names the input in errors (a file path or a URL).
 */
export function parseProfile(bytes: Uint8Array, source: string, opts: { allowV8Json?: boolean } = {}): Profile {
  if (bytes.length === 0) throw new RuntimeError(`${source}: empty, not a profile`);
  let raw: Uint8Array;
  if (isGzip(bytes)) {
    try {
      raw = gunzipSync(bytes);
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code === 'Z_BUF_ERROR' ? 'unexpected end of data' : (err as Error).message;
      throw new RuntimeError(`${source}: truncated or corrupt gzip data (${why})`);
    }
  } else {
    if (opts.allowV8Json && looksLikeJson(bytes)) return parseV8Json(bytes, source);
    const text = describeNonProfile(bytes);
    if (text) throw new RuntimeError(`${source}: ${text}`);
    raw = bytes;
  }
  let p: Profile;
  try {
    p = Profile.decode(raw);
  } catch (err) {
    throw new RuntimeError(`${source}: not a pprof profile (protobuf decoding failed: ${(err as Error).message})`);
  }
  // Arbitrary bytes can decode as a protobuf by accident; a real profile has a string table
  // starting with "" and at least one sample type whose names are in it.
  const strings = p.stringTable.strings;
  const n = strings.length;
  const okIndex = (i: unknown) => Number(i) >= 0 && Number(i) < n;
  if (n === 0 || strings[0] !== '' || p.sampleType.length === 0 || !p.sampleType.every((t) => okIndex(t.type) && okIndex(t.unit))) {
    throw new RuntimeError(`${source}: not a pprof profile (no sample types${isGzip(bytes) ? ' in the gzip data' : ''})`);
  }
  return p;
}

function looksLikeJson(bytes: Uint8Array): boolean {
  for (const c of bytes.subarray(0, 64)) {
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    return c === 0x7b; // '{'
  }
  return false;
}

/** A V8 .cpuprofile (nodes/samples) or a sampling heap profile (head) as pprof. */
export function parseV8Json(bytes: Uint8Array, source: string): Profile {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new RuntimeError(`${source}: invalid JSON (${(err as Error).message})`);
  }
  const o = json as Record<string, unknown>;
  if (o && Array.isArray(o.nodes)) return cpuProfileToPprof(o as unknown as V8CpuProfile);
  if (o && typeof o.head === 'object' && o.head !== null) {
    // `node --heap-prof` and DevTools save the sampling profile without its interval (the period
    // here is only informative: the sizes are already scaled) and, by V8's default, without the
    // objects already collected: live objects.
    return heapProfileToPprof(o as unknown as V8HeapProfile, {
      kind: 'inuse',
      intervalBytes: 524288,
      comments: ['tailprobe: converted from V8 JSON; sampling interval unknown (524288 is node --heap-prof\'s default)'],
    });
  }
  throw new RuntimeError(`${source}: JSON but not a V8 CPU profile (nodes) or heap sampling profile (head)`);
}

/**
 * A profile number as a JS number. pprof values are int64; the decoder returns the wide ones as
 * unsigned bigints, so the negative values of Go's delta profiles (heap?seconds=N) come back as
 * ~2^64 unless reinterpreted here.
 */
export function int64(v: number | bigint | undefined): number {
  if (v === undefined) return 0;
  return typeof v === 'bigint' ? Number(BigInt.asIntN(64, v)) : v;
}

/** A string from the profile's table. */
export function str(p: Profile, index: unknown): string {
  return p.stringTable.strings[Number(index)] ?? '';
}
