import { basename } from 'node:path';
import type { Profile } from 'pprof-format';
import { ProfileBuilder, type Frame } from './builder.js';
import { frameFile } from './v8.js';
import { MUTEX_COMMENT } from './summary.js';

/**
 * Lock contention records (tailprobe/sync's ContentionRecord) as Go's block and mutex profiles:
 * sample types contentions/count and delay/nanoseconds, period type contentions/count, period 1,
 * exactly as runtime/pprof writes them, so `go tool pprof` reads them the same way. Each sample
 * carries the lock's name as the label `lock` (`go tool pprof -tags`).
 */

/** Mirrors tailprobe/sync's StackFrame (kept structural so this module does not load the locks). */
export interface ContentionFrame {
  functionName: string;
  file: string;
  line: number;
  column: number;
}

/** Mirrors tailprobe/sync's ContentionRecord: `stack[0]` is the innermost frame (the call site). */
export interface ContentionEntry {
  stack: ContentionFrame[];
  lockName: string;
  count: number;
  delayNs: number;
  /** RWMutex side ('read' or 'write'); a Mutex is 'write'. */
  mode?: 'read' | 'write';
}

export function contentionFrame(f: ContentionFrame): Frame {
  const file = frameFile(f.file ?? '');
  const line = f.line > 0 ? f.line : 0;
  const name = f.functionName || (file ? `(anonymous) ${basename(file)}:${line}` : '(anonymous)');
  return { name, file, line, column: f.column > 0 ? f.column : 0 };
}

export interface ContentionConvertOptions {
  kind: 'block' | 'mutex';
  startWallNs?: bigint;
  durationNs?: number;
  /** Said in the profile when it has no samples, so an empty profile explains itself. */
  emptyReason?: string;
}

export function contentionToPprof(records: ContentionEntry[], opts: ContentionConvertOptions): Profile {
  const comments = [
    opts.kind === 'mutex'
      ? `${MUTEX_COMMENT}: time contended tailprobe/sync locks were held, by the holder's call site`
      : 'tailprobe: block profile: time spent waiting for tailprobe/sync locks, by the waiter\'s call site',
  ];
  const nonEmpty = records.filter((r) => r.count !== 0 || r.delayNs !== 0);
  if (nonEmpty.length === 0) comments.push(`tailprobe: empty: ${opts.emptyReason ?? 'no contention on tailprobe/sync locks recorded'}`);
  const b = new ProfileBuilder({
    sampleTypes: [
      ['contentions', 'count'],
      ['delay', 'nanoseconds'],
    ],
    periodType: ['contentions', 'count'],
    period: 1,
    timeNanos: opts.startWallNs ?? 0n,
    durationNanos: opts.durationNs ?? 0,
    comments,
  });
  for (const r of nonEmpty) {
    const stack = r.stack.map((f) => b.location(contentionFrame(f)));
    if (stack.length === 0) stack.push(b.location({ name: `(lock ${r.lockName || 'unnamed'})`, file: '', line: 0 }));
    const labels: Record<string, string> = {};
    if (r.lockName) labels.lock = r.lockName;
    if (r.mode) labels.mode = r.mode;
    b.sample(stack, [r.count, r.delayNs], labels);
  }
  return b.build();
}

/** Key of a record for deltas: same lock, same stack. */
export function contentionKey(r: ContentionEntry): string {
  return `${r.lockName}\0${r.mode ?? ''}\0${r.stack.map((f) => `${f.functionName}@${f.file}:${f.line}:${f.column}`).join('|')}`;
}

/** Records of `after` minus those of `before` (what happened in between); zero rows dropped. */
export function contentionDelta(before: ContentionEntry[], after: ContentionEntry[]): ContentionEntry[] {
  const base = new Map<string, ContentionEntry>();
  for (const r of before) base.set(contentionKey(r), r);
  const out: ContentionEntry[] = [];
  for (const r of after) {
    const b = base.get(contentionKey(r));
    // Snapshots scale sampled stacks to each lock's totals, so a row can shrink slightly between
    // two of them: clamp at zero rather than report negative waits.
    const count = Math.max(0, r.count - (b?.count ?? 0));
    const delayNs = Math.max(0, r.delayNs - (b?.delayNs ?? 0));
    if (count > 0 || delayNs > 0) out.push({ ...r, count, delayNs });
  }
  return out;
}
