/**
 * One request's outcome: the unit everything in tailprobe records, stores, merges and reports.
 *
 * Times follow the open model (see docs/open-model.md): `timestamp` is when the pacer *scheduled*
 * the request, and `latency` runs from that moment to the end of the response body. A request the
 * generator sent late therefore carries its lateness in its latency, as the user would have felt it
 * (no coordinated omission). `sendLag` says how late the generator actually sent it.
 */
export interface Result {
  /** Attack name (`-name`), used to tell runs apart after a merge. */
  attack: string;
  /** Sequence number of the request within its attack, in schedule order, from 0. */
  seq: number;
  /** HTTP status code; 0 when no response arrived (connection refused, timeout, ...). */
  code: number;
  /** Intended send time: wall clock, nanoseconds since the Unix epoch. */
  timestamp: bigint;
  /** Nanoseconds from the intended send time to the last byte of the response body (or the error). */
  latency: number;
  /**
   * Nanoseconds from the intended send time to the moment the request was handed to the socket
   * layer. -1 when unknown (results read from vegeta's formats, which do not record it).
   */
  sendLag: number;
  /** Request body bytes sent. */
  bytesOut: number;
  /** Response body bytes received. */
  bytesIn: number;
  /** Error text, '' on success at the transport level (a 500 is not an error here, as in vegeta). */
  error: string;
  /** Response body, only when kept (vegeta keeps it; we keep it up to `-max-body`, default none). */
  body: Uint8Array | null;
  method: string;
  url: string;
  /** Response headers, when kept (null otherwise). */
  headers: Record<string, string[]> | null;
}

/** A request counts as a success when it got a 2xx/3xx and no error, as in vegeta. */
export function isSuccess(r: Pick<Result, 'code' | 'error'>): boolean {
  return r.code >= 200 && r.code < 400 && r.error === '';
}

/** Send lag above which a request counts as sent late by the generator. */
export const LATE_SEND_THRESHOLD_NS = 1_000_000;

/** Parameters of a run, written at the start of a results file so reports can describe it. */
export interface RunInfo {
  /** Attack name. */
  name: string;
  /** Pacer as the user asked for it, e.g. "500/1s", "linear 100/1s -> 2000/1s", "max". */
  pacer: string;
  /** Mean asked rate in requests per second; 0 in max mode (closed loop, no schedule). */
  rate: number;
  /** True when the run was closed-loop (-rate=0): latencies are then not open-model. */
  maxMode: boolean;
  /** Asked duration in ns; 0 = until interrupted. */
  duration: number;
  /** Up to 10 targets as "METHOD URL", and how many there were. */
  targets: string[];
  targetCount: number;
  workers: number;
  connections: number;
  /** The cap on connections per host (0 = unlimited); absent in files written before it was recorded. */
  maxConnections?: number;
  /** Wall clock at the start of the schedule, ns since epoch. */
  startedAt: bigint;
  /** tailprobe version that wrote the file. */
  version: string;
  /**
   * The attack's id, 16 hex digits: the high half of every request's trace id (see trace-id.ts).
   * Absent in files written before request identity, and in vegeta's formats.
   */
  id?: string;
  /** Whether requests carried a traceparent header made from `id` (targets with their own kept theirs). */
  traceparent?: boolean;
  /**
   * Set when this run is one shard of a schedule split across generators (`attack -shard=K/N
   * -start-at=...`); absent in files written before sharding existed, and in runs without it.
   * `rate`, `pacer` and `duration` above describe the whole plan; this file holds the requests
   * i ≡ index (mod count).
   */
  shard?: ShardInfo;
}

/** One shard of a plan: which share, of what schedule, and how well its clock knew the start. */
export interface ShardInfo {
  /** K: this file holds requests i ≡ index (mod count). */
  index: number;
  /** N. */
  count: number;
  /** The whole schedule every shard of the run shares. */
  plan: PlanInfo;
  /** How this shard's wall clock stood (see src/time/quality.ts), and how it met the start. */
  clock: ShardClock;
}

export interface PlanInfo {
  /** Digest of everything below and the shard count: equal in every shard of one run. */
  id: string;
  /** The pacer's spec (null: max mode), as pacerFromSpec takes it. */
  pacer: { kind: string; [k: string]: number | string } | null;
  /** Length of the schedule, ns (0: until stopped). */
  durationNs: number;
  /** Digest of the targets (method, URL, headers, body), so shards with other targets are told apart. */
  targets: string;
  /** The agreed wall-clock instant of offset 0, RFC 3339 with nanoseconds. */
  startAt: string;
}

export interface ShardClock {
  source: string;
  synchronized: boolean | null;
  /** This clock minus NTP time, ns; null: unknown. */
  offsetNs: number | null;
  /** Bound on this clock's error, ns; null: unknown. */
  maxErrorNs: number | null;
  detail: string;
  /**
   * How long before the agreed start this shard was ready to send (its connections open), ns, on its
   * own clock. Negative: it was late, and its first requests went out late (their send lag says by how much).
   */
  readyLeadNs: number;
  /** max(0, -readyLeadNs): how late this shard was for the start (the -start-at miss), ns. */
  startMissNs: number;
  /**
   * How late this shard's first request actually left, ns (its own clock): the start as it happened,
   * which includes the miss. Known at the end of the run (the file's last info record carries it).
   */
  firstSendLagNs?: number;
}

/** How the generator itself fared: a run where the generator was the bottleneck is flagged. */
export interface GeneratorHealth {
  /** Process CPU used by the generator over the run, in percent of one core (may exceed 100 with workers). */
  cpuPercent: number;
  /** Cores available to the generator. */
  cores: number;
  /** Event-loop delay of the generator, ns (max over workers). */
  eventLoopP99: number;
  eventLoopMax: number;
  /**
   * Requests the pacer scheduled before -duration that were never sent: the run was stopped, or
   * they were still overdue when the schedule ended (see `overdue`). Open-ended runs: `overdue`.
   */
  unsent: number;
  /**
   * Of those, requests that were already due when the schedule ended (or was stopped): the
   * generator had `inFlightCap` requests in flight and counted them instead of queueing them.
   * Absent in files written before it existed.
   */
  overdue?: number;
  /** Paced runs: the cap on requests in flight (all workers), and the most there were at once (sum of the workers' peaks). */
  inFlightCap?: number;
  peakInFlight?: number;
  /** Why the run ended: "completed", "interrupted" (SIGINT/SIGTERM), "error: ...". */
  ended: string;
}

/** A timed event from the service under test (from the agent), drawn under the latency points. */
export interface RunEvent {
  kind: 'gc' | 'stall';
  /** Wall clock start, ns since epoch. */
  start: bigint;
  /** Duration in ns. */
  duration: number;
  /** e.g. the GC kind ("mark-sweep-compact", "scavenge"). */
  detail: string;
}

/** Everything a results file carries besides the results themselves. */
export interface RunMeta {
  info: RunInfo | null;
  health: GeneratorHealth | null;
  events: RunEvent[];
}

export function emptyMeta(): RunMeta {
  return { info: null, health: null, events: [] };
}
