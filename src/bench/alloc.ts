import { Session } from 'node:inspector';
import v8 from 'node:v8';

/**
 * Allocation counting for B/op and allocs/op, from V8 itself. Three meters, all driven by the
 * benchmark's timer (they count only while it runs: B.stopTimer pauses them, B.resetTimer zeroes):
 *
 * HeapMeter, bytes allocated on the V8 heap, during the timed run itself (as Go's -benchmem reads
 * memstats around the timed loop): V8's used-heap size at the end minus at the start, plus what
 * every GC in between freed (a GCProfiler reports the used size before and after each GC). Every
 * allocated byte is either still in use at the end or was freed by one of those GCs, so this is
 * exact up to the few hundred bytes the harness itself allocates per run, and costs nothing per
 * allocation (a few microseconds per GC).
 *
 * AllocMeter, allocation count (and their bytes again, as a cross-check): the sampling heap profiler
 * (HeapProfiler.startSampling over an in-process inspector session) with a 1-byte sampling interval,
 * objects collected by minor and major GCs included. The interval is the mean Poisson gap between
 * samples, so at 1 byte every allocation is sampled (probability 1 - e^-size, size >= 12) with its
 * exact size: allocs is the number of samples (each weighted by 1/(1 - e^-size), 1 in practice).
 * That is exhaustive tracing, about a microsecond per allocation, so it runs in passes of its own
 * after the timed run. What it counts is V8's allocation requests: optimized code folds several
 * objects of one function into one request, and escape analysis removes some altogether.
 *
 * ExternalMeter, off-heap bytes (ArrayBuffer/Buffer backing stores, external strings): V8's
 * external-memory counter, which goes down only when a GC frees them (and then later than the GC
 * ends), so it is read over passes of its own (without the tracer, whose stop forces a GC) in which
 * no GC ran (a GCProfiler proves it); if every attempt is interrupted by a GC, the figure is
 * reported as unknown rather than guessed.
 *
 * The counts of passes are slopes: the same benchmark measured at two op counts, the difference
 * divided by the difference of counts, so what a call pays once (setup, the harness, the iterations
 * before the JIT's optimized code takes over a loop) cancels out.
 */

export interface AllocCounts {
  /** Sampled allocations and their bytes (V8 heap). */
  allocs: number;
  heapBytes: number;
}

/**
 * What one pause/resume of the AllocMeter costs: the inspector's stopSampling forces a full GC
 * (kSamplingForceGC) before building the profile. Used to size passes of benchmarks that stop and
 * start their timer.
 */
export const ALLOC_TOGGLE_NS = 15e6;

/** 1 byte: every allocation is a sample. */
export const SAMPLING_INTERVAL = 1;

let session: Session | null = null;

function post<T>(method: string, params?: object): T {
  if (session === null) {
    session = new Session();
    session.connect();
  }
  // An in-process (same thread) session answers synchronously, before post returns.
  let result: T | undefined;
  let error: Error | null = null;
  let answered = false;
  session.post(method, params ?? {}, (err, res) => {
    answered = true;
    error = err;
    result = res as T;
  });
  if (!answered) throw new Error(`inspector: ${method} did not answer synchronously`);
  if (error) throw error;
  return result as T;
}

interface SamplingProfile {
  profile: { samples: Array<{ size: number }> };
}

/**
 * Counts allocations between resume() and pause() (B.startTimer/stopTimer), from begin() to end(),
 * excluding the stretches between pause() and
 * resume() (B.stopTimer/startTimer) and everything before the last reset() (B.resetTimer).
 */
export class AllocMeter {
  private counting = false;
  private allocs = 0;
  private heapBytes = 0;

  begin(): void {
    this.allocs = this.heapBytes = 0;
  }

  resume(): void {
    if (this.counting) return;
    this.counting = true;
    post('HeapProfiler.startSampling', {
      samplingInterval: SAMPLING_INTERVAL,
      stackDepth: 1,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  }

  pause(): void {
    if (!this.counting) return;
    const { profile } = post<SamplingProfile>('HeapProfiler.stopSampling');
    this.counting = false;
    for (const s of profile.samples) {
      const w = 1 / (1 - Math.exp(-s.size / SAMPLING_INTERVAL));
      this.allocs += w;
      this.heapBytes += w * s.size;
    }
  }

  /** Forgets what was counted so far (keeps counting if it was). */
  reset(): void {
    const was = this.counting;
    this.pause();
    this.allocs = this.heapBytes = 0;
    if (was) this.resume();
  }

  end(): AllocCounts {
    this.pause();
    return { allocs: this.allocs, heapBytes: this.heapBytes };
  }
}

/** V8 heap bytes allocated while the timer runs: used-size delta plus what GCs freed meanwhile. */
export class HeapMeter {
  private counting = false;
  private bytes = 0;
  private usedAt = 0;
  private gcProfiler: v8.GCProfiler | null = null;
  gcs = 0;

  begin(): void {
    this.bytes = 0;
    this.gcs = 0;
  }

  resume(): void {
    if (this.counting) return;
    this.counting = true;
    this.gcProfiler = new v8.GCProfiler();
    this.gcProfiler.start();
    this.usedAt = v8.getHeapStatistics().used_heap_size;
  }

  pause(): void {
    if (!this.counting) return;
    const used = v8.getHeapStatistics().used_heap_size;
    const stats = this.gcProfiler!.stop()?.statistics ?? [];
    this.gcProfiler = null;
    this.counting = false;
    let freed = 0;
    for (const g of stats) freed += g.beforeGC.heapStatistics.usedHeapSize - g.afterGC.heapStatistics.usedHeapSize;
    this.bytes += used - this.usedAt + freed;
    this.gcs += stats.length;
  }

  reset(): void {
    const was = this.counting;
    this.pause();
    this.bytes = 0;
    this.gcs = 0;
    if (was) this.resume();
  }

  end(): { heapBytes: number; gcs: number } {
    this.pause();
    return { heapBytes: this.bytes, gcs: this.gcs };
  }
}

/** Off-heap bytes: V8's external-memory counter over passes that must see no GC. */
export class ExternalMeter {
  private counting = false;
  private bytes = 0;
  private at = 0;
  private gcProfiler: v8.GCProfiler | null = null;

  begin(): void {
    this.bytes = 0;
    this.gcProfiler = new v8.GCProfiler();
    this.gcProfiler.start();
  }

  resume(): void {
    if (this.counting) return;
    this.counting = true;
    this.at = v8.getHeapStatistics().external_memory;
  }

  pause(): void {
    if (!this.counting) return;
    this.bytes += v8.getHeapStatistics().external_memory - this.at;
    this.counting = false;
  }

  reset(): void {
    const was = this.counting;
    this.pause();
    this.bytes = 0;
    if (was) this.resume();
  }

  end(): { externalBytes: number; gcs: number } {
    this.pause();
    const gcs = this.gcProfiler?.stop()?.statistics.length ?? 0;
    this.gcProfiler = null;
    return { externalBytes: this.bytes, gcs };
  }
}
