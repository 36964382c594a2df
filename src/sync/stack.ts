import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One frame of a call stack, innermost first in a stack (pprof's order). */
export interface StackFrame {
  functionName: string;
  file: string;
  line: number;
  column: number;
}

/**
 * Frames of this directory (tailprobe/sync itself: the locks, the maps built on them) are never
 * a call site: a block profile must name the caller's function, not `Mutex.lock`.
 */
const OWN_DIR = dirname(fileURLToPath(import.meta.url));
const OWN_URL_PREFIX = new URL('.', import.meta.url).href;

function isOwnFrame(file: string): boolean {
  return file.startsWith(OWN_URL_PREFIX) || (file.startsWith(OWN_DIR) && file[OWN_DIR.length] === '/');
}

/**
 * Frames captured (ours included, though the public method and what it calls are skipped by V8);
 * deeper callers are cut, as Go cuts its profile stacks. Each frame costs four CallSite calls, a
 * few microseconds in all, so the depth is the main price of a stack.
 */
export const STACK_DEPTH = 16;

type CallSite = NodeJS.CallSite;

/** V8's structured stack: CallSite objects instead of a string, so nothing is parsed. */
function structured(_e: Error, sites: NodeJS.CallSite[]): NodeJS.CallSite[] {
  return sites;
}

/**
 * The caller's stack, innermost first, without tailprobe/sync's frames. `above` is a function on
 * the current stack: it and everything it called are left out (Error.captureStackTrace's
 * constructorOpt), which saves walking frames we would drop anyway.
 *
 * Error.prepareStackTrace is swapped for the duration of the synchronous capture only and always
 * restored, so a source-map hook installed by the application keeps working for its own errors.
 */
export function captureStack(above?: Function): StackFrame[] {
  const prevPrepare = Error.prepareStackTrace;
  const prevLimit = Error.stackTraceLimit;
  let sites: CallSite[];
  try {
    Error.prepareStackTrace = structured;
    Error.stackTraceLimit = STACK_DEPTH;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, above ?? captureStack);
    sites = (holder.stack as CallSite[] | undefined) ?? [];
  } finally {
    Error.prepareStackTrace = prevPrepare;
    Error.stackTraceLimit = prevLimit;
  }
  const frames: StackFrame[] = [];
  for (const s of sites) {
    const file = s.getFileName() ?? '';
    if (isOwnFrame(file)) continue;
    // The function's own name, as V8's CPU profiles name it (so the same function is the same node
    // in the agent's CPU and contention profiles); "" if anonymous.
    frames.push({ functionName: s.getFunctionName() ?? '', file, line: s.getLineNumber() ?? 0, column: s.getColumnNumber() ?? 0 });
  }
  return dropDisposeHelpers(frames);
}

/**
 * `using release = await m.lock()` compiled for ES2022 calls the release from TypeScript's
 * `__disposeResources` helper (and its inner `next`), emitted into the user's module. Those two
 * frames say nothing about who held the lock; the frame below them is the holder's function.
 */
function dropDisposeHelpers(frames: StackFrame[]): StackFrame[] {
  let i = 0;
  if (frames[i]?.functionName === 'next' && frames[i + 1]?.functionName === '__disposeResources') i += 2;
  else if (frames[i]?.functionName === '__disposeResources') i += 1;
  return i === 0 ? frames : frames.slice(i);
}

/** A stable identity for aggregation. */
export function stackKey(frames: StackFrame[]): string {
  let k = '';
  for (const f of frames) k += `${f.functionName}@${f.file}:${f.line}:${f.column}|`;
  return k;
}
