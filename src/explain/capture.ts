import { readFile, writeFile } from 'node:fs/promises';
import { RuntimeError, UsageError } from '../errors.js';
import { tailprobeBase, type HttpOptions } from '../profile/fetch.js';
import { decodeCpuSamples, decodePauses, decodeRequestRecord, epochNs, num, str, strings } from '../profile/records-decode.js';
import { fetchAgentIndex, fetchAgentPauses, fetchAgentRecordsIfAny } from '../profile/records-fetch.js';
import type { CpuSamples as RecordsCpuSamples, LockWait, Pause, RequestRecord } from '../profile/records.js';

export type { LockWait };

/**
 * What a service's agent recorded while an attack ran: per-request records, GC pauses, event-loop
 * stalls and (when captured during the load) CPU samples with their times. Read from a live agent
 * (`fetchCapture`, through the records readers of src/profile, Node agent or Go companion alike)
 * or from a file saved earlier (`readCapture`, decoded by the same code), so `explain` can run later
 * with no live target.
 *
 * Times stay on the agent's clock here: `explain` estimates the offset to the generator's clock
 * from the requests themselves and never assumes the two agree.
 */

export const CAPTURE_FORMAT = 'tailprobe-capture/1';

/** A request record as the records format has it (src/profile/records.ts), lock waits made explicit. */
export interface ServerRequest extends Omit<RequestRecord, 'waits'> {
  /** Lock waits made for this request; null when the agent cannot see them per request (Go). */
  waits: LockWait[] | null;
}

/** A GC pause or an event-loop stall (`kind` "" for stalls), agent clock. */
export type ServerPause = Pause;

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

/**
 * A records request as explain keeps it: waits `null` (not absent) when the agent cannot see them,
 * and a lock without a name (`new Lock('')`) named as such in the tables.
 */
const serverRequest = ({ waits, ...r }: RequestRecord): ServerRequest => ({
  ...r,
  waits: waits ? waits.map((w) => (w.lock ? w : { ...w, lock: '(unnamed lock)' })) : null,
});

/** A Go profile's sample extras (labeled-cpu.ts): the request's trace id label and the sample count. */
const cpuExtras = (s: Json): { trace?: string; weight?: number } => ({
  ...(typeof s.trace === 'string' ? { trace: s.trace } : {}),
  ...(typeof s.weight === 'number' ? { weight: s.weight } : {}),
});

/**
 * Probes a URL for a tailprobe agent and returns what it offers; one clear line when it is not one
 * (a Go service with net/http/pprof alone, a wrong port, the service's own API).
 */
export async function probeAgent(url: string, opts: HttpOptions = {}): Promise<{ base: string; agent: string; features: string[] }> {
  const index = await fetchAgentIndex(url, undefined, { timeoutMs: 10_000, ...opts });
  return { base: tailprobeBase(url), agent: index.agent, features: index.features };
}

/** Everything the agent at `url` recorded in [since, until] (its clock), plus `cpu` if given. */
export async function fetchCapture(url: string, since: bigint, until: bigint, opts: HttpOptions & { cpu?: CpuSamples | null } = {}): Promise<AgentCapture> {
  const { cpu, ...http } = opts;
  const { agent, features } = await probeAgent(url, http);
  const get = { timeoutMs: 30_000, ...http };
  const [req, gc, loop] = await Promise.all([
    fetchAgentRecordsIfAny(url, since, until, undefined, get),
    fetchAgentPauses(url, 'gc', since, until, undefined, get),
    fetchAgentPauses(url, 'eventloop', since, until, undefined, get),
  ]);
  return {
    agent,
    url,
    features,
    since,
    until,
    requests: req ? req.requests.map(serverRequest) : null,
    requestsDropped: req?.dropped ?? 0,
    gc: gc?.pauses ?? [],
    stalls: loop ? loop.pauses : null,
    cpu: cpu ?? null,
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
  if (j === null || typeof j !== 'object' || Array.isArray(j)) throw new UsageError(`${name}: not an agent capture (not a JSON object)`);
  if (j.format !== CAPTURE_FORMAT) throw new UsageError(`${name}: not an agent capture (format ${JSON.stringify(j.format ?? null)}, want "${CAPTURE_FORMAT}")`);
  try {
    return {
      agent: str(j.agent),
      url: str(j.url),
      features: strings(j.features),
      since: epochNs(name, 'since', j.since),
      until: epochNs(name, 'until', j.until),
      requests: Array.isArray(j.requests) ? j.requests.map((r) => serverRequest(decodeRequestRecord(name, r))) : null,
      requestsDropped: num(j.requestsDropped),
      gc: decodePauses(name, 'GC pause', j.gc),
      stalls: Array.isArray(j.stalls) ? decodePauses(name, 'stall', j.stalls) : null,
      cpu: j.cpu && typeof j.cpu === 'object' ? decodeCpuSamples(name, j.cpu, cpuExtras) : null,
    };
  } catch (err) {
    // The decoders' lines already start with the file's name; a bad capture is bad input.
    throw new UsageError((err as Error).message);
  }
}

export async function readCapture(path: string): Promise<AgentCapture> {
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new RuntimeError(`${path}: ${e.code === 'ENOENT' ? 'no such file' : (e.code ?? e.message)}`);
  });
  return decodeCapture(text, path);
}
