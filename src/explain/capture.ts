import { readFile, writeFile } from 'node:fs/promises';
import { RuntimeError, UsageError } from '../errors.js';
import { AGENT_HEADER, httpGet, statusError, tailprobeBase, type HttpOptions } from '../profile/fetch.js';
import type { CpuSamples as RecordsCpuSamples, LockWait, RequestRecord } from '../profile/records.js';

export type { LockWait };

/**
 * What a service's agent recorded while an attack ran: per-request records, GC pauses, event-loop
 * stalls and (when captured during the load) CPU samples with their times. Read from a live agent
 * (`fetchCapture`, the format of docs/records-format.md, Node agent or Go companion alike) or from a
 * file saved earlier (`readCapture`), so `explain` can run later with no live target.
 *
 * Times stay on the agent's clock here: `explain` estimates the offset to the generator's clock
 * from the requests themselves and never assumes the two agree.
 */

export const CAPTURE_FORMAT = 'tailprobe-capture/1';
const RECORDS_MAJOR = 'tailprobe-records/1';

/** A request record as the records format has it (src/profile/records.ts), lock waits made explicit. */
export interface ServerRequest extends Omit<RequestRecord, 'waits'> {
  /** Lock waits made for this request; null when the agent cannot see them per request (Go). */
  waits: LockWait[] | null;
}

export interface ServerPause {
  start: bigint;
  duration: number;
  kind: string;
}

/**
 * The records format's CPU samples (src/profile/records.ts): each sample's stack and wall-clock
 * time (Node agent). From a Go CPU profile instead (labeled-cpu.ts): no time (t = 0), the trace id
 * of the request it was taken for (pprof label), and how many samples it stands for.
 */
export interface CpuSamples extends Omit<RecordsCpuSamples, 'samples'> {
  samples: Array<{ t: bigint; stack: number; trace?: string; weight?: number }>;
}

export interface AgentCapture {
  /** "node/0.2.0", "go/0.2.0", ... (the X-Tailprobe-Agent header). */
  agent: string;
  url: string;
  features: string[];
  /** The window asked for (agent clock, epoch ns). */
  since: bigint;
  until: bigint;
  /** null: the agent keeps no per-request records. */
  requests: ServerRequest[] | null;
  /** Records the agent's ring overwrote (the window may be incomplete when > 0). */
  requestsDropped: number;
  gc: ServerPause[];
  /** null: the agent has no event loop to watch (Go). */
  stalls: ServerPause[] | null;
  cpu: CpuSamples | null;
}

type Json = Record<string, unknown>;

async function getJson(url: string, opts: HttpOptions): Promise<{ status: number; agent: string; body: Json | null }> {
  const res = await httpGet(url, { timeoutMs: 30_000, ...opts });
  const agent = String(res.headers[AGENT_HEADER] ?? '');
  if (res.status === 404) return { status: 404, agent, body: null };
  if (res.status !== 200) throw statusError(res, 'tailprobe agent endpoint');
  if (!agent) throw new RuntimeError(`${url}: not a tailprobe agent (no ${AGENT_HEADER} header)`);
  try {
    return { status: 200, agent, body: JSON.parse(res.body.toString('utf8')) as Json };
  } catch {
    throw new RuntimeError(`${url}: invalid JSON from the agent`);
  }
}

const ns = (v: unknown, what: string): bigint => {
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) return BigInt(v);
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  throw new RuntimeError(`agent records: ${what} is not epoch nanoseconds (${JSON.stringify(v)?.slice(0, 40)})`);
};
const num = (v: unknown, dflt = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : dflt);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function parseRequest(r: Json): ServerRequest {
  const waits = Array.isArray(r.waits)
    ? (r.waits as Json[]).map((w) => ({
        lock: str(w.lock) || '(unnamed lock)',
        mode: w.mode === 'read' ? ('read' as const) : ('write' as const),
        site: str(w.site),
        start: ns(w.start, 'a wait start'),
        duration: num(w.duration),
      }))
    : null;
  return {
    trace: str(r.trace),
    parent: str(r.parent),
    start: ns(r.start, 'a request start'),
    end: ns(r.end, 'a request end'),
    method: str(r.method),
    path: str(r.path),
    status: num(r.status),
    bytes: num(r.bytes, -1),
    waits,
  };
}

function parsePauses(list: unknown, what: string): ServerPause[] {
  if (!Array.isArray(list)) return [];
  return (list as Json[])
    .map((p) => ({ start: ns(p.start, what), duration: num(p.duration), kind: str(p.kind) }))
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

function parseCpu(j: Json): CpuSamples {
  const frames = Array.isArray(j.frames) ? (j.frames as Json[]).map((f) => ({ name: str(f.name) || '(anonymous)', file: str(f.file), line: num(f.line) })) : [];
  const stacks = Array.isArray(j.stacks) ? (j.stacks as unknown[]).map((s) => (Array.isArray(s) ? s.map((i) => num(i)) : [])) : [];
  const samples = Array.isArray(j.samples)
    ? (j.samples as Json[]).map((s) => ({
        t: ns(s.t ?? '0', 'a CPU sample time'),
        stack: num(s.stack),
        ...(typeof s.trace === 'string' ? { trace: s.trace } : {}),
        ...(typeof s.weight === 'number' ? { weight: s.weight } : {}),
      }))
    : [];
  return { intervalNs: num(j.intervalNs, 1e6), start: ns(j.start ?? '0', 'the CPU window start'), end: ns(j.end ?? '0', 'the CPU window end'), frames, stacks, samples };
}

/**
 * Probes a URL for a tailprobe agent and returns what it offers; one clear line when it is not one
 * (a Go service with net/http/pprof alone, a wrong port, the service's own API).
 */
export async function probeAgent(url: string, opts: HttpOptions = {}): Promise<{ base: string; agent: string; features: string[] }> {
  const base = tailprobeBase(url);
  const idx = await getJson(base, { ...opts, timeoutMs: 10_000 });
  if (idx.status === 404 || idx.body === null) {
    throw new RuntimeError(`${base}: no tailprobe records here (a Node service needs tailprobe/agent, a Go service the tailprobe middleware: see docs/explain.md)`);
  }
  const format = str(idx.body.format);
  if (format && format !== RECORDS_MAJOR && !format.startsWith('tailprobe-records/1.')) {
    throw new RuntimeError(`${base}: records format "${format}" is newer than this tailprobe reads (${RECORDS_MAJOR})`);
  }
  const features = Array.isArray(idx.body.features) ? (idx.body.features as unknown[]).map(String) : ['gc', 'stalls'];
  return { base, agent: idx.agent, features };
}

/** Everything the agent at `url` recorded in [since, until] (its clock), plus `cpu` if given. */
export async function fetchCapture(url: string, since: bigint, until: bigint, opts: HttpOptions & { cpu?: CpuSamples | null } = {}): Promise<AgentCapture> {
  const { base, agent, features } = await probeAgent(url, opts);
  const q = `?since=${since}&until=${until}`;
  const [req, gc, loop] = await Promise.all([
    getJson(`${base}requests${q}`, opts),
    getJson(`${base}gc${q}`, opts),
    getJson(`${base}eventloop${q}`, opts),
  ]);
  const requests = req.body && Array.isArray(req.body.requests) ? (req.body.requests as Json[]).map(parseRequest) : null;
  return {
    agent,
    url,
    features,
    since,
    until,
    requests,
    requestsDropped: req.body ? num(req.body.dropped) : 0,
    gc: parsePauses(gc.body?.pauses, 'a GC pause start'),
    stalls: loop.body ? parsePauses(loop.body.stalls, 'a stall start') : null,
    cpu: opts.cpu ?? null,
  };
}

const big = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);

/** The capture as a file (`tailprobe-capture/1`, JSON; instants as decimal strings). */
export function encodeCapture(c: AgentCapture): string {
  return JSON.stringify({ format: CAPTURE_FORMAT, ...c }, big);
}

export async function writeCapture(path: string, c: AgentCapture): Promise<void> {
  await writeFile(path, encodeCapture(c)).catch((e: NodeJS.ErrnoException) => {
    throw new RuntimeError(`${path}: cannot write the agent capture (${e.code ?? e.message})`);
  });
}

export function decodeCapture(text: string, name: string): AgentCapture {
  let j: Json;
  try {
    j = JSON.parse(text) as Json;
  } catch {
    throw new UsageError(`${name}: not an agent capture (invalid JSON)`);
  }
  if (j.format !== CAPTURE_FORMAT) throw new UsageError(`${name}: not an agent capture (format ${JSON.stringify(j.format ?? null)}, want "${CAPTURE_FORMAT}")`);
  try {
    return {
      agent: str(j.agent),
      url: str(j.url),
      features: Array.isArray(j.features) ? (j.features as unknown[]).map(String) : [],
      since: ns(j.since, 'since'),
      until: ns(j.until, 'until'),
      requests: Array.isArray(j.requests) ? (j.requests as Json[]).map(parseRequest) : null,
      requestsDropped: num(j.requestsDropped),
      gc: parsePauses(j.gc, 'a GC pause start'),
      stalls: Array.isArray(j.stalls) ? parsePauses(j.stalls, 'a stall start') : null,
      cpu: j.cpu && typeof j.cpu === 'object' ? parseCpu(j.cpu as Json) : null,
    };
  } catch (err) {
    throw new UsageError(`${name}: ${(err as Error).message}`);
  }
}

export async function readCapture(path: string): Promise<AgentCapture> {
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new RuntimeError(`${path}: ${e.code === 'ENOENT' ? 'no such file' : (e.code ?? e.message)}`);
  });
  return decodeCapture(text, path);
}
