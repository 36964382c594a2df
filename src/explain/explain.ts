import { RuntimeError, UsageError } from '../errors.js';
import { Metrics } from '../metrics/metrics.js';
import type { Result, RunInfo } from '../results/result.js';
import { seqOfTraceId, traceIdOf } from '../results/trace-id.js';
import { formatDuration } from '../units/duration.js';
import { breakdown, describeKey, isNamedCause, UNRECORDED, type Breakdown, type ServerSide, type TimedSpan } from './breakdown.js';
import type { AgentCapture, ServerRequest } from './capture.js';
import { estimateClockOffset, type ClockOffset } from './clock-offset.js';
import { EventIndex } from './intervals.js';

/**
 * `explain`: which slow request was slowed by what. Joins an attack's results (when each request
 * was meant to leave, when it left, when its answer ended) with what the service's agent recorded
 * (when it handled each request, which locks it waited for, its GC pauses and event-loop stalls),
 * request by request through the traceparent ids, on one clock (the offset estimated from the
 * requests themselves, see clock-offset.ts). Every slow request's latency is split into parts
 * (breakdown.ts); the parts above what a typical request spends on them are its excess, and the
 * largest part of the excess is its cause. Across the slow requests, causes are ranked by how many
 * slow requests they caused and by how much of the excess they account for.
 */

/** Which requests are slow: those at or above a percentile, or above a latency. */
export type Threshold = { percentile: number } | { latencyNs: number };

export function parseThreshold(text: string): Threshold {
  const t = text.trim();
  const p = /^p\(?(\d+(?:\.\d+)?)\)?$/i.exec(t);
  if (p) {
    const v = Number(p[1]);
    if (!(v > 0 && v < 100)) throw new UsageError(`-above: a percentile between 0 and 100, e.g. p99 (got "${t}")`);
    return { percentile: v };
  }
  const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s)$/.exec(t);
  if (!m) throw new UsageError(`-above: want a percentile (p99, p99.9) or a latency (50ms), got "${t.slice(0, 40)}"`);
  const unit = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9 }[m[2] as 'ns'];
  return { latencyNs: Math.round(Number(m[1]) * unit) };
}

export interface ExplainOptions {
  /** Default p99. */
  above?: Threshold;
  /** Slowest requests listed with their breakdown (default 10). */
  slowest?: number;
  /** Top functions on CPU listed (default 10). */
  topFunctions?: number;
}

export interface CauseRow {
  key: string;
  label: string;
  /** Names a mechanism (GC, a lock, a stall, the generator) rather than a place. */
  named: boolean;
  /** Slow requests whose largest excess part this is. */
  requests: number;
  shareOfRequests: number;
  /** Share of the slow requests in which this part is above its typical amount at all. */
  shareTouched: number;
  /** ns of excess over the typical request, summed over the slow requests. */
  excessNs: number;
  shareOfExcess: number;
  /** Mean ns of this part in a slow request. */
  meanNs: number;
}

export interface SlowRequest {
  seq: number;
  traceId: string;
  /** Intended send time, generator clock, epoch ns. */
  intended: bigint;
  latencyNs: number;
  code: number;
  error: string;
  cause: string;
  /** Part → ns (adds up to the latency). */
  parts: Record<string, number>;
}

export interface LockSiteRow {
  lock: string;
  mode: string;
  site: string;
  /** Waits by slow requests, and their total ns. */
  waits: number;
  totalNs: number;
}

export interface CpuRow {
  name: string;
  file: string;
  line: number;
  /** Share of the CPU samples taken while a slow request was being handled. */
  share: number;
  /** Share of all samples in the capture, for comparison. */
  overall: number;
}

export interface Explanation {
  attackId: string;
  results: number;
  threshold: { text: string; ns: number };
  slow: number;
  /** Results with a server record. */
  matched: number;
  /**
   * Slow requests whose client gave up before the response finished (the server record says
   * `aborted`: a client timeout, a reset). Their server side ends at the close (Node) or when the
   * handler returned (Go).
   */
  abortedSlow: number;
  /** The agent, or null when explained without one. */
  agent: string | null;
  clock: ClockOffset | null;
  causes: CauseRow[];
  /** The sentence: the named causes of the tail, or that none dominates. */
  verdict: { causes: string[]; text: string };
  lockSites: LockSiteRow[];
  cpu: { samples: number; slowSamples: number; top: CpuRow[] } | null;
  slowest: SlowRequest[];
  /** What could not be attributed, and why (one line each). */
  limits: string[];
  warnings: string[];
}

/**
 * A cause is named in the verdict when it holds this share of the slow requests' excess; or when it
 * is a smaller part of most of them (a GC pause that every slow request also sat through is a cause
 * of the tail even when a lock holds more of each request's time).
 */
export const VERDICT_SHARE = 0.2;
export const CONTRIBUTING_SHARE = 0.05;
export const CONTRIBUTING_TOUCHED = 0.5;

/** The results of one attack, compactly: what explain needs of each. */
export class ClientRequests {
  n = 0;
  seq = new Float64Array(1024);
  /** Intended send, ns after `base`. */
  intended = new Float64Array(1024);
  latency = new Float64Array(1024);
  sendLag = new Float64Array(1024);
  code = new Uint16Array(1024);
  errors = new Map<number, string>();
  lagUnknown = 0;
  readonly metrics = new Metrics();

  constructor(readonly base: bigint) {}

  add(r: Result): void {
    if (this.n === this.seq.length) this.grow();
    const i = this.n++;
    this.seq[i] = r.seq;
    this.intended[i] = Number(r.timestamp - this.base);
    this.latency[i] = r.latency;
    if (r.sendLag < 0) this.lagUnknown++;
    this.sendLag[i] = Math.max(0, r.sendLag);
    this.code[i] = r.code;
    if (r.error) this.errors.set(i, r.error);
    this.metrics.add(r);
  }

  /** The latest intended send time, ns after `base`. */
  lastIntended(): number {
    let m = 0;
    for (let i = 0; i < this.n; i++) if (this.intended[i]! > m) m = this.intended[i]!;
    return m;
  }

  private grow(): void {
    const g = <T extends Float64Array | Uint16Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(a.length * 2);
      b.set(a);
      return b;
    };
    this.seq = g(this.seq);
    this.intended = g(this.intended);
    this.latency = g(this.latency);
    this.sendLag = g(this.sendLag);
    this.code = g(this.code);
  }
}

function median(xs: Float64Array): number {
  if (xs.length === 0) return 0;
  const s = Float64Array.from(xs).sort();
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

function thresholdOf(client: ClientRequests, t: Threshold): { text: string; ns: number; inclusive: boolean } {
  if ('percentile' in t) {
    const ns = client.metrics.latency.percentile(t.percentile);
    return { text: `p${t.percentile} (${formatDuration(roundNs(ns))})`, ns, inclusive: true };
  }
  return { text: formatDuration(t.latencyNs), ns: t.latencyNs, inclusive: false };
}

export function roundNs(ns: number): number {
  if (ns >= 1e6) return Math.round(ns / 1e4) * 1e4;
  if (ns >= 1e3) return Math.round(ns / 10) * 10;
  return Math.round(ns);
}

/**
 * Explains one attack's tail. `client` holds its results, `info` its run info (for the attack id),
 * `capture` what the service's agent recorded (null: explain the generator's part only).
 */
export function explain(client: ClientRequests, info: RunInfo, capture: AgentCapture | null, opts: ExplainOptions = {}): Explanation {
  const attackId = info.id;
  if (!attackId) {
    throw new UsageError('the results carry no request ids (written by vegeta or a tailprobe before 0.2): explain joins requests by their traceparent ids; run the attack with tailprobe attack');
  }
  if (client.n === 0) throw new UsageError('no results to explain');
  const limits: string[] = [];
  const warnings: string[] = [];
  if (info.traceparent === false) limits.push('the attack sent no traceparent (-traceparent=false): the service cannot name the requests, so only the generator\'s part is attributed');
  if (client.lagUnknown > 0) warnings.push(`${client.lagUnknown} results have no send lag (vegeta's formats): their generator lag counts as 0`);

  const base = client.base;
  const th = thresholdOf(client, opts.above ?? { percentile: 99 });
  const isSlow = (i: number) => (th.inclusive ? client.latency[i]! >= th.ns : client.latency[i]! > th.ns);

  // Server records of this attack, by seq.
  const bySeq = new Map<number, ServerRequest>();
  let foreign = 0;
  const records = capture?.requests ?? null;
  if (capture && records === null) limits.push(`the agent (${capture.agent || capture.url}) keeps no per-request records: server-side time is not attributed`);
  if (records && info.traceparent !== false) {
    for (const r of records) {
      const seq = r.trace ? seqOfTraceId(r.trace, attackId) : null;
      if (seq === null) foreign++;
      else bySeq.set(seq, r);
    }
    if (bySeq.size === 0) {
      const span = records.length ? ` (${records.length} records of other requests)` : '';
      throw new RuntimeError(
        `the agent's records name none of this attack's requests${span}: ${records.length ? 'the records do not overlap the results in time, or the service is not the one attacked' : 'the agent recorded no requests in the attack\'s window'}`,
      );
    }
  }
  if (capture && capture.requestsDropped > 0) warnings.push(`the agent's ring overwrote ${capture.requestsDropped} request records: requests without a record count as "no server record" (raise the agent's requestHistory)`);

  // Clock offset from every request both sides saw.
  const idx: number[] = [];
  for (let i = 0; i < client.n; i++) if (bySeq.has(client.seq[i]!)) idx.push(i);
  let clock: ClockOffset | null = null;
  if (idx.length > 0) {
    const m = idx.length;
    const sent = new Float64Array(m);
    const recv = new Float64Array(m);
    const st = new Float64Array(m);
    idx.forEach((i, k) => {
      const r = bySeq.get(client.seq[i]!)!;
      sent[k] = client.intended[i]! + client.sendLag[i]!;
      recv[k] = client.intended[i]! + client.latency[i]!;
      st[k] = Number(r.start - base);
    });
    clock = estimateClockOffset(sent, recv, st);
    if (clock && !clock.consistent) {
      warnings.push(`no single clock offset fits every request (the bounds cross by ${formatDuration(roundNs(2 * clock.uncertaintyNs))}): a clock stepped or drifted during the run; parts are placed with the median offset`);
    }
  }
  const theta = clock?.offsetNs ?? 0;
  const toGen = (t: bigint) => Number(t - base) - theta;

  // The service's pauses, on the generator's clock.
  const spans = (list: AgentCapture['gc']): TimedSpan[] => list.map((p) => ({ start: toGen(p.start), end: toGen(p.start) + p.duration, label: p.kind }));
  const side: ServerSide = {
    gc: new EventIndex(capture ? spans(capture.gc) : []),
    stalls: capture?.stalls ? new EventIndex(spans(capture.stalls)) : null,
  };
  if (!capture) limits.push('no agent records (give -agent=URL or -capture=FILE): only the generator\'s part of each request is attributed');
  else if (capture.stalls === null) limits.push(`the agent (${capture.agent}) has no event loop to watch: stalls are not attributed`);
  if (capture && records !== null && records.some((r) => r.waits === null) && !records.some((r) => r.waits !== null)) {
    limits.push(
      capture.agent.startsWith('go/')
        ? `the agent (${capture.agent}) sees lock waits only as aggregates (block and mutex profiles), not per request: lock waits are in "unexplained"`
        : `the agent (${capture.agent}) records no lock waits (started with lockWaits: false or TAILPROBE_AGENT_LOCK_WAITS=off): lock waits are in "unexplained"`,
    );
  }

  const partsOf = (i: number): Breakdown => {
    const intended = client.intended[i]!;
    const r = bySeq.get(client.seq[i]!);
    return breakdown(
      {
        intended,
        sent: intended + client.sendLag[i]!,
        received: intended + client.latency[i]!,
        server: r
          ? {
              start: toGen(r.start),
              end: toGen(r.end),
              waits: r.waits ? r.waits.map((w) => ({ start: toGen(w.start), end: toGen(w.start) + w.duration, label: w.lock })) : null,
            }
          : null,
      },
      side,
    );
  };

  // Typical parts: the median of each over (a sample of at most 100k of) all requests.
  const stride = Math.max(1, Math.floor(client.n / 100_000));
  const sampled: Breakdown[] = [];
  for (let i = 0; i < client.n; i += stride) sampled.push(partsOf(i));
  const keys = new Set<string>();
  for (const b of sampled) for (const k of b.keys()) keys.add(k);
  const typical = new Map<string, number>();
  for (const k of keys) typical.set(k, median(Float64Array.from(sampled, (b) => b.get(k) ?? 0)));

  // The slow requests.
  const slowIdx: number[] = [];
  for (let i = 0; i < client.n; i++) if (isSlow(i)) slowIdx.push(i);
  const rows = new Map<string, { requests: number; excess: number; total: number; touched: number }>();
  const row = (k: string) => rows.get(k) ?? rows.set(k, { requests: 0, excess: 0, total: 0, touched: 0 }).get(k)!;
  const slowParts: Array<{ i: number; parts: Breakdown; cause: string }> = [];
  const sites = new Map<string, LockSiteRow>();
  let matched = 0;
  let abortedSlow = 0;
  for (const i of slowIdx) {
    const parts = partsOf(i);
    // The cause is the part with the most excess over its typical value; a slow request with no
    // part above its typical (each a little longer: medians do not add up) is put on its largest
    // part, not on whichever part came first.
    let cause = UNRECORDED;
    let best = -1;
    let bestPart = -1;
    for (const [k, v] of parts) {
      const ex = Math.max(0, v - (typical.get(k) ?? 0));
      const r = row(k);
      r.excess += ex;
      r.total += v;
      if (ex > 0) r.touched++;
      if (ex > best || (ex === best && v > bestPart)) {
        best = ex;
        bestPart = v;
        cause = k;
      }
    }
    row(cause).requests++;
    slowParts.push({ i, parts, cause });
    const rec = bySeq.get(client.seq[i]!);
    if (rec) {
      if (rec.aborted) abortedSlow++;
      for (const w of rec.waits ?? []) {
        const key = `${w.lock}\0${w.mode}\0${w.site}`;
        const s = sites.get(key) ?? sites.set(key, { lock: w.lock, mode: w.mode, site: w.site, waits: 0, totalNs: 0 }).get(key)!;
        s.waits++;
        s.totalNs += w.duration;
      }
    }
  }
  for (let i = 0; i < client.n; i++) if (bySeq.has(client.seq[i]!)) matched++;
  const totalExcess = [...rows.values()].reduce((s, r) => s + r.excess, 0);
  const nSlow = slowIdx.length;
  const causes: CauseRow[] = [...rows.entries()]
    .map(([key, r]) => ({
      key,
      label: describeKey(key),
      named: isNamedCause(key),
      requests: r.requests,
      shareOfRequests: nSlow ? r.requests / nSlow : 0,
      shareTouched: nSlow ? r.touched / nSlow : 0,
      excessNs: Math.round(r.excess),
      shareOfExcess: totalExcess > 0 ? r.excess / totalExcess : 0,
      meanNs: nSlow ? Math.round(r.total / nSlow) : 0,
    }))
    .sort((a, b) => b.shareOfExcess - a.shareOfExcess || b.requests - a.requests);

  const slowest = slowParts
    .sort((a, b) => client.latency[b.i]! - client.latency[a.i]!)
    .slice(0, opts.slowest ?? 10)
    .map(({ i, parts, cause }) => ({
      seq: client.seq[i]!,
      traceId: traceIdOf(attackId, client.seq[i]!),
      intended: base + BigInt(Math.round(client.intended[i]!)),
      latencyNs: client.latency[i]!,
      code: client.code[i]!,
      error: client.errors.get(i) ?? '',
      cause,
      parts: Object.fromEntries([...parts.entries()].map(([k, v]) => [k, Math.round(v)])),
    }));

  const cpu = capture?.cpu ? cpuDuringSlow(capture, slowIdx.map((i) => bySeq.get(client.seq[i]!)).filter((r): r is ServerRequest => r !== undefined), opts.topFunctions ?? 10) : null;
  if (capture && !capture.cpu) limits.push('no CPU samples with times in the capture (they are taken during the load: attack -explain or the demo): no top functions');

  const verdictCauses = causes.filter(
    (c) => c.named && (c.shareOfExcess >= VERDICT_SHARE || (c.shareOfExcess >= CONTRIBUTING_SHARE && c.shareTouched >= CONTRIBUTING_TOUCHED)),
  );
  return {
    attackId,
    results: client.n,
    threshold: { text: th.text, ns: th.ns },
    slow: nSlow,
    matched,
    abortedSlow,
    agent: capture ? capture.agent || capture.url : null,
    clock,
    causes,
    verdict: { causes: verdictCauses.map((c) => c.key), text: verdictText(verdictCauses, causes, nSlow) },
    lockSites: [...sites.values()].sort((a, b) => b.totalNs - a.totalNs).slice(0, 10),
    cpu,
    slowest,
    limits,
    warnings,
  };
}

const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;

function verdictText(named: CauseRow[], all: CauseRow[], nSlow: number): string {
  if (nSlow === 0) return 'No request is above the threshold.';
  if (named.length > 0) {
    const parts = named.map((c) =>
      c.shareOfExcess >= VERDICT_SHARE
        ? `${c.label} (the cause of ${pct(c.shareOfRequests)} of the slow requests, ${pct(c.shareOfExcess)} of their excess latency)`
        : `${c.label} (a part of ${pct(c.shareTouched)} of the slow requests, ${pct(c.shareOfExcess)} of their excess latency)`,
    );
    return `The tail is ${parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`}.`;
  }
  const top = all[0];
  return top
    ? `No mechanism dominates the tail: the largest part of the excess is ${top.label} (${pct(top.shareOfExcess)}), with no GC pause, stall, lock or generator lag above ${pct(VERDICT_SHARE)} (nor above ${pct(CONTRIBUTING_SHARE)} and in most slow requests).`
    : 'No mechanism dominates the tail.';
}

/**
 * The functions on CPU while slow requests were being handled (self time, by top frame): samples
 * timed inside a slow request's window (Node), or labelled with a slow request's trace id (Go).
 */
function cpuDuringSlow(capture: AgentCapture, slow: ServerRequest[], n: number): Explanation['cpu'] {
  const cpu = capture.cpu!;
  const during = new Map<number, number>();
  const overall = new Map<number, number>();
  let slowSamples = 0;
  let total = 0;
  const count = (frame: number, w: number, inSlow: boolean) => {
    overall.set(frame, (overall.get(frame) ?? 0) + w);
    total += w;
    if (inSlow) {
      during.set(frame, (during.get(frame) ?? 0) + w);
      slowSamples += w;
    }
  };
  if (cpu.samples.some((s) => s.trace !== undefined)) {
    const traces = new Set(slow.map((r) => r.trace).filter(Boolean));
    for (const s of cpu.samples) {
      const frame = cpu.stacks[s.stack]?.[0];
      if (frame !== undefined) count(frame, s.weight ?? 1, s.trace !== undefined && traces.has(s.trace));
    }
  } else {
    const windows = slow.map((r) => [r.start, r.end] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const merged: Array<[bigint, bigint]> = [];
    for (const [s, e] of windows) {
      const last = merged[merged.length - 1];
      if (last && s <= last[1]) last[1] = e > last[1] ? e : last[1];
      else merged.push([s, e]);
    }
    const samples = [...cpu.samples].sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
    let w = 0;
    for (const s of samples) {
      const frame = cpu.stacks[s.stack]?.[0];
      if (frame === undefined) continue;
      while (w < merged.length && merged[w]![1] < s.t) w++;
      count(frame, s.weight ?? 1, w < merged.length && merged[w]![0] <= s.t);
    }
  }
  const top = [...during.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([f, c]) => {
      const fr = cpu.frames[f] ?? { name: '(unknown)', file: '', line: 0 };
      return { name: fr.name, file: fr.file, line: fr.line, share: c / slowSamples, overall: (overall.get(f) ?? 0) / Math.max(1, total) };
    });
  return { samples: total, slowSamples, top };
}
