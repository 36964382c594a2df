/**
 * The `tailprobe-records/1` format (docs/records-format.md) as types: what a service's agent (the
 * Node agent, the Go companion) serves under /debug/tailprobe/ and what `tailprobe explain` reads.
 * The agent writes these shapes and the readers return them (decoded by records-decode.ts, fetched
 * by records-fetch.ts), so the two sides cannot drift apart.
 *
 * On the wire every instant is a decimal string of wall-clock epoch ns; the *Json types are the
 * wire shapes, the others are what the readers return (instants as bigint).
 */

export const RECORDS_FORMAT = 'tailprobe-records/1';
/** The major version a reader understands; it refuses others and ignores unknown fields. */
export const RECORDS_MAJOR = 1;

/** `features` an agent may announce. */
export type RecordsFeature = 'requests' | 'lock-waits' | 'gc' | 'stalls' | 'cpu-samples' | 'block-profile' | 'pprof-labels' | (string & {});

export interface AgentIndexJson {
  format: string;
  /** `<runtime>/<version>`, e.g. `node/0.2.0`. */
  agent: string;
  runtime: string;
  pid: number;
  now: string;
  endpoints: string[];
  features: RecordsFeature[];
}

export interface LockWaitJson {
  lock: string;
  mode: 'read' | 'write';
  /** The waiter's call site, `""` when not sampled. */
  site: string;
  start: string;
  /** ns. */
  duration: number;
  /** Present (true) only when the waiter gave up (timeout, abort) instead of getting the lock. */
  gaveUp?: true;
}

export interface RequestRecordJson {
  /** 32 lower-case hex, `""` without a valid traceparent. */
  trace: string;
  /** 16 lower-case hex, `""` without a valid traceparent. */
  parent: string;
  start: string;
  end: string;
  method: string;
  /** Cut to 256 characters. */
  path: string;
  status: number;
  /** Response body bytes, -1 when unknown. */
  bytes: number;
  /** Absent when the agent cannot see lock waits per request. */
  waits?: LockWaitJson[];
  /**
   * Present (true) only when the client's connection closed before the response finished (Node):
   * `end` is the close, `status` 0, `bytes` -1.
   */
  aborted?: true;
}

export interface RequestsJson {
  format: string;
  now: string;
  recordingSince: string;
  capacity: number;
  recorded: number;
  dropped: number;
  requests: RequestRecordJson[];
}

export interface CpuFrameJson {
  name: string;
  file: string;
  /** 1-based; 0 when unknown. */
  line: number;
}

export interface CpuSamplesJson {
  format: string;
  start: string;
  end: string;
  intervalNs: number;
  frames: CpuFrameJson[];
  /** Indexes into frames, innermost first. */
  stacks: number[][];
  samples: Array<{ t: string; stack: number }>;
}

/** An entry of the /gc answer's `pauses` or the /eventloop answer's `stalls` (no `kind`). */
export interface PauseJson {
  start: string;
  /** ns. */
  duration: number;
  /** V8's GC kind (`scavenge`, ...) or Go's `stop-the-world`; absent for stalls. */
  kind?: string;
}

// What the readers return: instants as bigint (epoch ns), everything else as on the wire.

export interface LockWait {
  lock: string;
  mode: 'read' | 'write';
  site: string;
  start: bigint;
  duration: number;
  /** True when the waiter gave up (timeout, abort) instead of getting the lock. */
  gaveUp?: true;
}

export interface RequestRecord {
  trace: string;
  parent: string;
  start: bigint;
  end: bigint;
  method: string;
  path: string;
  status: number;
  bytes: number;
  /** undefined when the agent cannot see lock waits per request (see features). */
  waits?: LockWait[];
  /** True when the connection closed before the response finished (`end` is the close). */
  aborted?: true;
}

export interface RequestRecords {
  /** The agent's X-Tailprobe-Agent header, e.g. `node/0.2.0`. */
  agent: string;
  now: bigint;
  recordingSince: bigint;
  capacity: number;
  recorded: number;
  dropped: number;
  requests: RequestRecord[];
}

export interface CpuSamples {
  start: bigint;
  end: bigint;
  intervalNs: number;
  frames: CpuFrameJson[];
  stacks: number[][];
  samples: Array<{ t: bigint; stack: number }>;
}

/** A GC pause or an event-loop stall; `kind` is "" for stalls. */
export interface Pause {
  start: bigint;
  duration: number;
  kind: string;
}
