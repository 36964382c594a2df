import type { Result } from '../results/result.js';
import { BinaryEncoder } from '../results/binary-encoder.js';

/**
 * How a worker packs results for the trip to the main thread: as binary-format bytes (the
 * results file's own encoding, so the main thread only appends them) or as Result objects (for
 * library callers who asked for onResult with several workers).
 */
export interface Shipper {
  /** Results per batch before an early flush. */
  readonly limit: number;
  add(r: Result): void;
  take(): { chunk: Uint8Array | null; results: Result[] | null; transfer: ArrayBuffer[] };
}

export function createShipper(kind: 'encoded' | 'objects'): Shipper {
  if (kind === 'objects') {
    let batch: Result[] = [];
    return {
      limit: 2048,
      add: (r) => void batch.push(r),
      take: () => {
        const results = batch;
        batch = [];
        return { chunk: null, results, transfer: [] };
      },
    };
  }
  const enc = new BinaryEncoder();
  return {
    limit: 8192,
    add: (r) => enc.encode(r),
    take: () => {
      // take() returns an array that owns its buffer: moved to the main thread, not copied.
      const chunk = enc.take();
      return { chunk, results: null, transfer: [chunk.buffer as ArrayBuffer] };
    },
  };
}
