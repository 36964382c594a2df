import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { RuntimeError, UsageError } from '../errors.js';
import { formatDuration } from '../units/duration.js';
import { describeNonProfile, parseProfile } from './parse.js';
import type { Profile } from 'pprof-format';

/**
 * Talking to /debug/pprof endpoints: Go's net/http/pprof and tailprobe's agent speak the same paths.
 * Every failure becomes one line that names the URL and says what to check.
 */

export type ProfileType = 'cpu' | 'heap' | 'allocs' | 'block' | 'mutex' | 'goroutine';
export const PROFILE_TYPES: readonly ProfileType[] = ['cpu', 'heap', 'allocs', 'block', 'mutex', 'goroutine'];

/** Header the agent sets on every response, so clients know they talk to Node rather than Go. */
export const AGENT_HEADER = 'x-tailprobe-agent';

export interface HttpOptions {
  /** Bearer token for the agent (sent as `Authorization: Bearer ...`). */
  token?: string;
  /** Whole-request budget in ms (connect to last byte). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface HttpResponse {
  url: string;
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One GET with a deadline; network failures become RuntimeErrors naming the URL. */
export function httpGet(url: string, opts: HttpOptions = {}): Promise<HttpResponse> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      reject(new UsageError(`invalid URL "${url}"`));
      return;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      reject(new UsageError(`invalid URL "${url}": only http and https`));
      return;
    }
    const headers: Record<string, string> = { accept: '*/*', 'user-agent': 'tailprobe' };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, { method: 'GET', headers, signal: opts.signal });
    let done = false;
    const fail = (err: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(err);
    };
    const timer = setTimeout(() => {
      fail(new RuntimeError(`${url}: no response within ${formatDuration(timeoutMs * 1e6)} (timeout)`));
      req.destroy();
    }, timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => fail(networkError(url, err, opts.signal)));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => fail(networkError(url, err as NodeJS.ErrnoException, opts.signal)));
      res.on('aborted', () => fail(new RuntimeError(`${url}: connection closed before the response ended`)));
      res.on('end', () => {
        if (done) return;
        if (!res.complete) {
          fail(new RuntimeError(`${url}: connection closed before the response ended`));
          return;
        }
        done = true;
        clearTimeout(timer);
        resolve({ url, status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      });
    });
    req.end();
  });
}

function networkError(url: string, err: NodeJS.ErrnoException, signal?: AbortSignal): RuntimeError {
  if (signal?.aborted || err.name === 'AbortError') return new RuntimeError(`${url}: cancelled`);
  switch (err.code) {
    case 'ECONNREFUSED':
      return new RuntimeError(`${url}: connection refused (is the service running, with pprof on this port?)`);
    case 'ECONNRESET':
    case 'EPIPE':
      return new RuntimeError(`${url}: connection reset by the server`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new RuntimeError(`${url}: unknown host`);
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_VERSION':
      return new RuntimeError(`${url}: the server did not answer in HTTP`);
    default:
      return new RuntimeError(`${url}: ${err.code ? `${err.code}: ` : ''}${err.message.split('\n')[0]}`);
  }
}

/** First line of a text body, for quoting a server's error. */
function firstLine(body: Buffer): string {
  const t = body.subarray(0, 300).toString('utf8').trim().split('\n')[0] ?? '';
  return t.length > 120 ? `${t.slice(0, 120)}...` : t;
}

/** Turns a non-2xx answer into a one-line RuntimeError that says what to do. */
export function statusError(res: HttpResponse, what = 'profile'): RuntimeError {
  const said = describeNonProfile(res.body) === null || /html/i.test(String(res.headers['content-type'])) ? '' : firstLine(res.body);
  const quote = said ? ` (server said: "${said}")` : '';
  switch (res.status) {
    case 401:
      return new RuntimeError(`${res.url}: HTTP 401 Unauthorized: the agent wants a token (-token=... or TAILPROBE_AGENT_TOKEN)${quote}`);
    case 403:
      return new RuntimeError(`${res.url}: HTTP 403 Forbidden${quote}`);
    case 404:
      // Go and the agent say "Unknown profile" for a profile they do not have (the endpoint is fine).
      if (/unknown profile/i.test(said)) return new RuntimeError(`${res.url}: HTTP 404: the service has no such profile${quote}`);
      return new RuntimeError(`${res.url}: HTTP 404 Not Found: no ${what} here (not a pprof endpoint?)${quote}`);
    case 409:
      return new RuntimeError(`${res.url}: HTTP 409: another CPU profile is already running on this service; try again when it ends${quote}`);
    default:
      // Go's net/http/pprof answers a concurrent CPU profile with a 500 and this text.
      if (/already in use/i.test(said)) {
        return new RuntimeError(`${res.url}: HTTP ${res.status}: another CPU profile is already running on this service; try again when it ends${quote}`);
      }
      return new RuntimeError(`${res.url}: HTTP ${res.status}${quote}`);
  }
}

/** Where the profiles live under a URL the user gave: origin, /debug/pprof, or a custom prefix. */
export function pprofBase(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`invalid URL "${url}" (expected e.g. http://127.0.0.1:6060)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`invalid URL "${url}": only http and https`);
  const i = u.pathname.indexOf('/debug/pprof');
  const prefix = i >= 0 ? u.pathname.slice(0, i) : u.pathname.replace(/\/+$/, '');
  return `${u.origin}${prefix}/debug/pprof/`;
}

/** The agent's own endpoints (GC pauses, event-loop stalls) next to /debug/pprof/. */
export function tailprobeBase(url: string): string {
  return pprofBase(url).replace(/\/debug\/pprof\/$/, '/debug/tailprobe/');
}

export interface ServerInfo {
  /** 'agent' (tailprobe's Node agent) or 'go' (net/http/pprof, or anything that serves its index). */
  kind: 'agent' | 'go';
  base: string;
  /** Agent version, when the agent. */
  agentVersion?: string;
}

/**
 * Checks that the URL serves a pprof index and tells Go from the agent. Fails with one line when it
 * is not a pprof endpoint, so a wrong port is reported before a 30-second capture starts.
 */
export async function probeServer(url: string, opts: HttpOptions = {}): Promise<ServerInfo> {
  const base = pprofBase(url);
  const res = await httpGet(base, { ...opts, timeoutMs: opts.timeoutMs ?? 10_000 });
  if (res.status !== 200) {
    const err = statusError(res, 'pprof index');
    throw new RuntimeError(err.message.replace(/\(not a pprof endpoint\?\)/, '(not a pprof endpoint)'));
  }
  const agent = res.headers[AGENT_HEADER];
  if (agent) return { kind: 'agent', base, agentVersion: String(agent) };
  const text = res.body.subarray(0, 4096).toString('utf8');
  // Go's index page: "<title>/debug/pprof/</title>" and links like "profile?seconds=30" / "heap?debug=1".
  if (!/debug\/pprof/.test(text) || !/(heap|goroutine|profile)\?/.test(text)) {
    const seen = describeNonProfile(res.body) ?? 'an unknown answer';
    throw new RuntimeError(`${base}: not a pprof endpoint (${seen.replace(/, not a profile$/, '')} instead of the pprof index)`);
  }
  return { kind: 'go', base };
}

/** The path and query for one profile type: Go's conventions, with the agent's windowed heap. */
export function profileRequestPath(type: ProfileType, seconds: number, server: ServerInfo['kind']): string {
  const s = Math.max(1, Math.round(seconds));
  switch (type) {
    case 'cpu':
      return `profile?seconds=${s}`;
    case 'heap':
      // Go samples the heap all the time: its snapshot is the classic view. The agent samples only
      // on request, so it needs a window.
      return server === 'agent' ? `heap?seconds=${s}` : 'heap';
    case 'allocs':
    case 'block':
    case 'mutex':
      // Delta profiles: what happened during the window (Go >= 1.16 and the agent).
      return `${type}?seconds=${s}`;
    case 'goroutine':
      return 'goroutine';
  }
}

/** Fetches and parses one profile; any HTTP or format problem is one line naming the URL. */
export async function fetchProfile(url: string, opts: HttpOptions = {}): Promise<{ bytes: Buffer; profile: Profile }> {
  const res = await httpGet(url, opts);
  if (res.status !== 200) throw statusError(res);
  if (/text\/html/i.test(String(res.headers['content-type']))) {
    throw new RuntimeError(`${url}: ${describeNonProfile(res.body) ?? 'got an HTML page, not a profile'} (not a pprof endpoint?)`);
  }
  const profile = parseProfile(res.body, url);
  return { bytes: res.body, profile };
}
