import { RuntimeError } from '../errors.js';
import { AGENT_HEADER, httpGet, statusError, tailprobeBase, type HttpOptions } from './fetch.js';
import { checkRecordsFormat, decodeCpuSamples, decodePauses, decodeRequestRecords, epochNs, num, str, strings } from './records-decode.js';
import type { AgentIndexJson, CpuSamples, Pause, RequestRecords } from './records.js';

/**
 * Typed readers of an agent's `tailprobe-records/1` endpoints (docs/records-format.md), for
 * `tailprobe explain`: the Node agent and the Go companion answer the same shapes, decoded by
 * records-decode.ts. Every failure is one line naming the URL (RuntimeError).
 */

type Json = Record<string, unknown>;

interface Got {
  agent: string;
  body: Json;
}

interface Missing {
  /** An agent's 404 (an endpoint this agent does not have) answers `null`. */
  ok?: boolean;
  /** Any 404 fails with this line instead (the agent index: nothing of tailprobe's here at all). */
  say?: string;
}

/**
 * GETs one records endpoint. Both agents name themselves on every answer, 404s included, so a 404
 * without the header is not an agent's and stays an error even when `missing.ok`.
 */
async function getRecordsJson(url: string, what: string, opts: HttpOptions, missing: Missing & { ok: true }): Promise<Got | null>;
async function getRecordsJson(url: string, what: string, opts: HttpOptions, missing?: Missing): Promise<Got>;
async function getRecordsJson(url: string, what: string, opts: HttpOptions, missing: Missing = {}): Promise<Got | null> {
  const res = await httpGet(url, opts);
  const agent = res.headers[AGENT_HEADER.toLowerCase()];
  if (res.status === 404 && missing.ok && agent) return null;
  if (res.status === 404 && missing.say) throw new RuntimeError(`${url}: ${missing.say}`);
  if (res.status !== 200) throw statusError(res, what);
  if (!agent) throw new RuntimeError(`${url}: not a tailprobe agent (no ${AGENT_HEADER} header; ${what} come from services running tailprobe/agent or the Go companion)`);
  let body: unknown;
  try {
    body = JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new RuntimeError(`${url}: invalid JSON from the agent`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new RuntimeError(`${url}: invalid JSON from the agent (not an object)`);
  checkRecordsFormat(url, (body as Json).format);
  return { agent: String(agent), body: body as Json };
}

function httpOpts(token: string | undefined, opts: HttpOptions): HttpOptions {
  return { timeoutMs: 60_000, ...opts, token: token ?? opts.token };
}

const query = (since?: bigint, until?: bigint): string => {
  const q = [since !== undefined ? `since=${since}` : '', until !== undefined ? `until=${until}` : ''].filter(Boolean).join('&');
  return q ? `?${q}` : '';
};

/** The agent's index: format, runtime, endpoints and features. `url` is the service's agent base (any /debug/... form). */
export async function fetchAgentIndex(url: string, token?: string, opts: HttpOptions = {}): Promise<AgentIndexJson> {
  const u = tailprobeBase(url);
  const got = await getRecordsJson(u, 'records', httpOpts(token, opts), {
    say: 'no tailprobe records here (a Node service needs tailprobe/agent, a Go service the tailprobe middleware: see docs/explain.md)',
  });
  const b = got.body;
  return {
    format: str(b.format),
    agent: str(b.agent) || got.agent,
    runtime: str(b.runtime),
    pid: num(b.pid),
    now: str(b.now),
    endpoints: strings(b.endpoints),
    // Agents older than the index's `features` served GC pauses and stalls only.
    features: Array.isArray(b.features) ? strings(b.features) : ['gc', 'stalls'],
  };
}

/**
 * Request records whose [start, end] overlaps [since, until] (epoch ns; either may be undefined),
 * oldest first. `dropped > 0` means the ring overwrote records: a window may be incomplete.
 */
export async function fetchAgentRecords(url: string, since?: bigint, until?: bigint, token?: string, opts: HttpOptions = {}): Promise<RequestRecords> {
  const records = await fetchAgentRecordsIfAny(url, since, until, token, opts);
  if (!records) throw new RuntimeError(`${tailprobeBase(url)}requests: HTTP 404: this agent keeps no per-request records (see its features)`);
  return records;
}

/** As fetchAgentRecords, but `null` when the agent has no /requests endpoint (it keeps no per-request records). */
export async function fetchAgentRecordsIfAny(url: string, since?: bigint, until?: bigint, token?: string, opts: HttpOptions = {}): Promise<RequestRecords | null> {
  const u = `${tailprobeBase(url)}requests${query(since, until)}`;
  const got = await getRecordsJson(u, 'request records', httpOpts(token, opts), { ok: true });
  if (!got) return null;
  const { agent, body } = got;
  return {
    agent,
    now: epochNs(u, 'now', body.now),
    recordingSince: epochNs(u, 'recordingSince', body.recordingSince),
    capacity: num(body.capacity),
    recorded: num(body.recorded),
    dropped: num(body.dropped),
    requests: decodeRequestRecords(u, body.requests),
  };
}

/**
 * GC pauses (`gc`) or event-loop stalls (`eventloop`) that began in [since, until], oldest first;
 * `null` when the agent has no such endpoint (a Go agent has no event loop).
 */
export async function fetchAgentPauses(url: string, which: 'gc' | 'eventloop', since?: bigint, until?: bigint, token?: string, opts: HttpOptions = {}): Promise<{ pauses: Pause[]; dropped: number } | null> {
  const u = `${tailprobeBase(url)}${which}${query(since, until)}`;
  const got = await getRecordsJson(u, which === 'gc' ? 'GC pauses' : 'event-loop stalls', httpOpts(token, opts), { ok: true });
  if (!got) return null;
  const dropped = num(got.body.dropped);
  return which === 'gc' ? { pauses: decodePauses(u, 'GC pause', got.body.pauses), dropped } : { pauses: decodePauses(u, 'stall', got.body.stalls), dropped };
}

/**
 * A CPU profile with per-sample wall-clock times, over the next `seconds` (the agent samples for
 * that long before it answers; 409 while another CPU profile runs). Node agents only (Go: 404).
 */
export async function fetchAgentCpuSamples(url: string, seconds: number, token?: string, opts: HttpOptions = {}): Promise<CpuSamples> {
  const u = `${tailprobeBase(url)}cpu?seconds=${seconds}`;
  const { body } = await getRecordsJson(u, 'CPU samples', httpOpts(token, { timeoutMs: (seconds + 30) * 1000, ...opts }));
  return decodeCpuSamples(u, body);
}
