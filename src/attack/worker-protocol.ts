import type { PacerSpec } from '../pacer/pacer.js';
import type { Result } from '../results/result.js';
import type { LoopStats } from './health.js';
import type { MetricsWire } from '../metrics/wire.js';
import type { ThreadConfig } from './thread.js';

/**
 * What a worker thread is given at birth (workerData): its share of the attack (see ThreadConfig;
 * its share of the schedule is requests first, first+stride, ..., see shareOf in src/pacer/shard.ts),
 * with the pacer as a spec (a function cannot travel to a thread).
 */
export interface WorkerSetup extends Omit<ThreadConfig, 'pacer'> {
  index: number;
  pacer: PacerSpec | null;
  /** 'encoded': ship BinaryEncoder bytes; 'objects': ship Result objects (structured clone). */
  ship: 'encoded' | 'objects';
  flushMs: number;
  crashAfterMs?: number;
}

export type ToWorker = { type: 'start'; hrStart: bigint; epochStart: bigint } | { type: 'stop' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'batch'; chunk: Uint8Array | null; results: Result[] | null; metrics: MetricsWire | null; inFlight: number; sent: number }
  | { type: 'done'; sent: number; stopped: boolean; overdue: number; peakInFlight: number; loop: LoopStats; firstLagNs: number }
  | { type: 'fatal'; message: string };
