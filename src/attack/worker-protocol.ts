import type { PacerSpec } from '../pacer/pacer.js';
import type { Result } from '../results/result.js';
import type { Target } from '../targets/target.js';
import type { LoopStats } from './health.js';
import type { MetricsWire } from '../metrics/wire.js';
import type { PlanOptions } from './plan.js';

/** What a worker thread is given at birth (workerData): its share of the attack. */
export interface WorkerSetup {
  index: number;
  /** This worker's share of the schedule: requests first, first+stride, ... (see shareOf in src/pacer/shard.ts). */
  first: number;
  stride: number;
  targets: Target[];
  pacer: PacerSpec | null;
  durationNs: number;
  timeoutNs: number;
  maxInFlight: number;
  inFlightCap: number;
  drainNs: number;
  name: string;
  redirects: number;
  maxBody: number;
  keepHeaders: boolean;
  plan: PlanOptions;
  /** 'encoded': ship BinaryEncoder bytes; 'objects': ship Result objects (structured clone). */
  ship: 'encoded' | 'objects';
  flushMs: number;
  /** In-memory requests to warm the engine up with before the clock starts (see warmup.ts). */
  warmUpRequests: number;
  crashAfterMs?: number;
}

export type ToWorker = { type: 'start'; hrStart: bigint; epochStart: bigint } | { type: 'stop' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'batch'; chunk: Uint8Array | null; results: Result[] | null; metrics: MetricsWire | null; inFlight: number; sent: number }
  | { type: 'done'; sent: number; stopped: boolean; overdue: number; peakInFlight: number; loop: LoopStats; firstLagNs: number }
  | { type: 'fatal'; message: string };
