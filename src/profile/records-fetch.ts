import { RuntimeError } from '../errors.js';
import { AGENT_HEADER, httpGet, statusError, tailprobeBase, type HttpOptions } from './fetch.js';
import {
  RECORDS_MAJOR,
  type AgentIndexJson,
  type CpuSamples,
  type CpuSamplesJson,
  type RequestRecords,
  type RequestsJson,
} from './records.js';

/**
 * Typed readers of an agent's `tailprobe-records/1` endpoints (docs/records-format.md), for
 * `tailprobe explain`: the Node agent and the Go companion answer the same shapes. Every failure is
 * one line naming the URL (RuntimeError).
 */

interface Got<T> {
  agent: string;
  body: T;
}

/** Refuses a major version it does not know (`tailprobe-records/2`); a missing format is 1 (old agents). */
function checkFormat(url: string, format: unknown): void {
  if (format === undefined) return;
  const m = typeof format === 'string' ? /^tailprobe-records\/(\d+)(\.\d+)?$/.exec(format) : null;
  if (!m) throw new RuntimeError(`${url}: unknown records format ${JSON.stringify(format)} (expected tailprobe-records/${RECORDS_MAJOR})`);
  if (Number(m[1]) !== RECORDS_MAJOR) {
    throw new RuntimeError(`${url}: records format ${format} is newer than this tailprobe reads (tailprobe-records/${RECORDS_MAJOR}); upgrade tailprobe`);
  }
}

async function getRecordsJson<T extends { format?: unknown }>(url: string, what: string, opts: HttpOptions): Promise<Got<T>> {
  const res = await httpGet(url, opts);
  if (res.status !== 200) throw statusError(res, what);
  const agent = res.headers[AGENT_HEADER.toLowerCase()];
  if (!agent) throw new RuntimeError(`${url}: not a tailprobe agent (no ${AGENT_HEADER} header; ${what} come from services running tailprobe/agent or the Go companion)`);
  let body: T;
  try {
    body = JSON.parse(res.body.toString('utf8')) as T;
  } catch {
    throw new RuntimeError(`${url}: invalid JSON from the agent`);
  }
  if (body === null || typeof body !== 'object') throw new RuntimeError(`${url}: invalid JSON from the agent (not an object)`);
  checkFormat(url, body.format);
  return { agent: String(agent), body };
}

function httpOpts(token: string | undefined, opts: HttpOptions): HttpOptions {
  return { timeoutMs: 60_000, ...opts, token: token ?? opts.token };
}

function ns(url: string, field: string, v: unknown): bigint {
  if (typeof v !== 'string' || !/^\d{1,20}$/.test(v)) throw new RuntimeError(`${url}: invalid ${field} ${JSON.stringify(v)} (expected epoch ns as a decimal string)`);
  return BigInt(v);
}

/** The agent's index: format, runtime, endpoints and features. `url` is the service's agent base (any /debug/... form). */
export async function fetchAgentIndex(url: string, token?: string, opts: HttpOptions = {}): Promise<AgentIndexJson> {
  const u = tailprobeBase(url);
  const got = await getRecordsJson<AgentIndexJson>(u, 'records', httpOpts(token, opts));
  return { ...got.body, features: got.body.features ?? [], endpoints: got.body.endpoints ?? [] };
}

/**
 * Request records whose [start, end] overlaps [since, until] (epoch ns; either may be undefined),
 * oldest first. `dropped > 0` means the ring overwrote records: a window may be incomplete.
 */
export async function fetchAgentRecords(url: string, since?: bigint, until?: bigint, token?: string, opts: HttpOptions = {}): Promise<RequestRecords> {
  const q = [since !== undefined ? `since=${since}` : '', until !== undefined ? `until=${until}` : ''].filter(Boolean).join('&');
  const u = `${tailprobeBase(url)}requests${q ? `?${q}` : ''}`;
  const { agent, body } = await getRecordsJson<RequestsJson>(u, 'request records', httpOpts(token, opts));
  if (!Array.isArray(body.requests)) throw new RuntimeError(`${u}: invalid records (no "requests" list)`);
  return {
    agent,
    now: ns(u, 'now', body.now),
    recordingSince: ns(u, 'recordingSince', body.recordingSince),
    capacity: body.capacity,
    recorded: body.recorded,
    dropped: body.dropped,
    requests: body.requests.map((r) => ({
      trace: r.trace ?? '',
      parent: r.parent ?? '',
      start: ns(u, 'start', r.start),
      end: ns(u, 'end', r.end),
      method: r.method,
      path: r.path,
      status: r.status,
      bytes: r.bytes ?? -1,
      ...(r.waits === undefined
        ? {}
        : {
            waits: r.waits.map((w) => ({
              lock: w.lock,
              mode: w.mode,
              site: w.site ?? '',
              start: ns(u, 'wait start', w.start),
              duration: w.duration,
              ...(w.gaveUp === true ? { gaveUp: true as const } : {}),
            })),
          }),
    })),
  };
}

/**
 * A CPU profile with per-sample wall-clock times, over the next `seconds` (the agent samples for
 * that long before it answers; 409 while another CPU profile runs). Node agents only (Go: 404).
 */
export async function fetchAgentCpuSamples(url: string, seconds: number, token?: string, opts: HttpOptions = {}): Promise<CpuSamples> {
  const u = `${tailprobeBase(url)}cpu?seconds=${seconds}`;
  const { body } = await getRecordsJson<CpuSamplesJson>(u, 'CPU samples', httpOpts(token, { timeoutMs: (seconds + 30) * 1000, ...opts }));
  if (!Array.isArray(body.samples) || !Array.isArray(body.frames) || !Array.isArray(body.stacks)) {
    throw new RuntimeError(`${u}: invalid CPU samples (needs frames, stacks, samples)`);
  }
  return {
    start: ns(u, 'start', body.start),
    end: ns(u, 'end', body.end),
    intervalNs: body.intervalNs,
    frames: body.frames,
    stacks: body.stacks,
    samples: body.samples.map((s) => ({ t: ns(u, 'sample time', s.t), stack: s.stack })),
  };
}
