import type { Profile } from 'pprof-format';
import { formatValue, sampleTypeInfo, topFunction } from '../profile/index.js';
import { forEachStack } from '../profile/top.js';
import { isProfilerSample } from '../profile/summary.js';
import { heaviestLine, topAllocator, where, type Culprit } from './findings.js';

/**
 * What the Go demo says about causes, from the Go service's own profiles (net/http/pprof): where
 * its faults live in examples/lookup-go, and the block profile's lock, read past the profiler's own
 * wait (Go's delta block profile records its handler's select for the whole window).
 */

/** The per-response buffer is made in the handler, main.(*service).lookup (main.go). */
export function isExpectedGoAllocator(fn: string, file: string): boolean {
  return fn === 'main.(*service).lookup' && /examples[/\\]lookup-go[/\\]main\.go$/.test(file);
}

/** Readers queue in main.(*Table).Lookup (table.go), on the table's sync.Mutex. */
export function isExpectedGoLockSite(fn: string, file: string): boolean {
  return fn === 'main.(*Table).Lookup' && /examples[/\\]lookup-go[/\\]table\.go$/.test(file);
}

const isProfiler = isProfilerSample;

/**
 * net/http's own waits: every finished request waits in (*connReader).abortPendingRead for the
 * connection's background read to stop. That is the server's machinery, on every request, not a
 * lock of the service: the block profile is read past it as past the profiler's own wait.
 */
function isServerMachinery(owner: { name: string }): boolean {
  return owner.name.startsWith('net/http.');
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

export function goAllocCulprit(allocs: Profile | null): { culprit: Culprit | null; sentence: string } {
  if (!allocs) return { culprit: null, sentence: 'No allocation profile was captured.' };
  const found = topAllocator(allocs, isExpectedGoAllocator);
  if (!found) return { culprit: null, sentence: 'The allocation profile has no samples.' };
  const { culprit } = found;
  const top = { fraction: found.fraction };
  const t = { unit: found.unit };
  const sentence =
    `Allocation profile: the top allocating function is ${where(culprit)}, ${pct(top.fraction)} of the ${formatValue(culprit.total, t.unit)} allocated` +
    (culprit.expected ? ': the fresh bytes.Buffer it makes for every response.' : ', not the handler that makes a fresh buffer per response: expect less from the pool.');
  return { culprit, sentence };
}

export function goLockCulprit(block: Profile | null, windowS: number): { culprit: Culprit | null; waitNs: number; mutexShare: number; sentence: string } {
  if (!block) return { culprit: null, waitNs: 0, mutexShare: 0, sentence: 'No block profile was captured.' };
  const delay = sampleTypeInfo(block, 'delay');
  const count = sampleTypeInfo(block, 'contentions');
  let waitNs = 0;
  let waits = 0;
  forEachStack(block, count.index, (stack, v) => {
    if (!isProfiler(stack) && !isServerMachinery(stack.find((f) => !/^(runtime|sync|internal\/[\w/]+)\./.test(f.name)) ?? { name: '' })) waits += v;
  });
  let onMutex = 0;
  const top = topFunction(block, 'delay', isServerMachinery);
  forEachStack(block, delay.index, (stack, v) => {
    if (isProfiler(stack) || isServerMachinery(stack.find((f) => !/^(runtime|sync|internal\/[\w/]+)\./.test(f.name)) ?? { name: '' })) return;
    waitNs += v;
    // Time in sync.(*Mutex).Lock called (directly or through sync's own frames) from the culprit.
    const i = stack.findIndex((f) => f.name === 'sync.(*Mutex).Lock' || f.name === 'sync.(*Mutex).lockSlow');
    if (top && i >= 0 && stack.slice(i).some((f) => f.name === top.name && f.file === top.file)) onMutex += v;
  });
  if (!top || waitNs <= 0) return { culprit: null, waitNs: 0, mutexShare: 0, sentence: `Block profile: no goroutine waited for a lock in the ${windowS}s window.` };
  const culprit: Culprit = {
    kind: 'lock',
    profile: 'block',
    function: top.name,
    file: top.file,
    line: heaviestLine(block, top.name, top.file, delay.index),
    share: top.fraction,
    total: waitNs,
    unit: delay.unit,
    lock: onMutex > 0 ? 'sync.Mutex' : undefined,
    waits,
    expected: isExpectedGoLockSite(top.name, top.file) && onMutex > 0,
  };
  const mutexShare = onMutex / waitNs;
  const queue = windowS > 0 ? waitNs / 1e9 / windowS : 0;
  const sentence =
    `Block profile (the profiler's and net/http's own waits left out): ${waits} waits, ${formatValue(waitNs, 'nanoseconds')} of waiting in a ${windowS}s window ` +
    `(on average ${queue.toFixed(1)} goroutines waiting at any moment); ${pct(top.fraction)} of it at ${where(culprit)}` +
    (onMutex > 0 ? `, ${pct(mutexShare)} in sync.(*Mutex).Lock` : '') +
    (culprit.expected ? ': readers of the table queueing on its one sync.Mutex.' : '.');
  return { culprit, waitNs, mutexShare, sentence };
}
