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

/** Frames captured (ours included); the deepest callers beyond it are cut, as Go cuts at 32/64. */
export const STACK_DEPTH = 32;

type CallSite = NodeJS.CallSite & { isAsync?(): boolean };

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
    const file = s.getFileName() ?? s.getScriptNameOrSourceURL?.() ?? '';
    if (isOwnFrame(file)) continue;
    frames.push({ functionName: functionNameOf(s), file, line: s.getLineNumber() ?? 0, column: s.getColumnNumber() ?? 0 });
  }
  return dropDisposeHelpers(frames);
}

/** "Class.method" for methods (as V8 prints them), the plain name otherwise, "" if anonymous. */
function functionNameOf(s: CallSite): string {
  if ((s as { isPromiseAll?(): boolean }).isPromiseAll?.()) return 'Promise.all';
  const fn = s.getFunctionName() ?? '';
  if (!fn || s.isToplevel() || s.isConstructor()) return fn;
  const type = s.getTypeName();
  if (!type || type === 'Object' || type === 'global' || fn.startsWith(`${type}.`)) return fn;
  return `${type}.${fn}`;
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
