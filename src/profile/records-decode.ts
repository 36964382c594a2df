import { RuntimeError } from '../errors.js';
import { RECORDS_MAJOR, type CpuSamples, type LockWait, type Pause, type RequestRecord } from './records.js';

/**
 * Decoders from the `tailprobe-records/1` wire shapes (docs/records-format.md) to the typed values of
 * records.ts: one reading of the format for every reader, so a live agent (records-fetch.ts) and a
 * capture saved to a file (src/explain/capture.ts) cannot disagree about what a record says.
 *
 * Instants must be decimal strings of epoch ns: a JSON number cannot hold today's epoch ns exactly
 * (2^53 ns is 104 days), so a number there is refused rather than silently rounded. Other fields are
 * read leniently (a missing number is 0, a missing string ""), as a reader of a versioned format
 * that ignores what it does not know should. Every failure is one line starting with `where` (the
 * URL or file the JSON came from).
 */

type Json = Record<string, unknown>;

/** Refuses a major version it does not know (`tailprobe-records/2`); a missing format is 1 (old agents). */
export function checkRecordsFormat(where: string, format: unknown): void {
  if (format === undefined || format === null || format === '') return;
  const m = typeof format === 'string' ? /^tailprobe-records\/(\d+)(\.\d+)?$/.exec(format) : null;
  if (!m) throw new RuntimeError(`${where}: unknown records format ${JSON.stringify(format)} (expected tailprobe-records/${RECORDS_MAJOR})`);
  if (Number(m[1]) !== RECORDS_MAJOR) {
    throw new RuntimeError(`${where}: records format ${format} is newer than this tailprobe reads (tailprobe-records/${RECORDS_MAJOR}); upgrade tailprobe`);
  }
}

/** An instant: epoch ns as a decimal string. */
export function epochNs(where: string, field: string, v: unknown): bigint {
  if (typeof v !== 'string' || !/^\d{1,20}$/.test(v)) throw new RuntimeError(`${where}: invalid ${field} ${JSON.stringify(v)?.slice(0, 40)} (expected epoch ns as a decimal string)`);
  return BigInt(v);
}

/** A number field read leniently: `dflt` when missing or not a finite number. */
export const num = (v: unknown, dflt = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : dflt);
/** A string field read leniently: "" when missing or not a string. */
export const str = (v: unknown): string => (typeof v === 'string' ? v : '');
/** A list of strings read leniently: [] when missing. */
export const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

function decodeWait(where: string, w: Json): LockWait {
  return {
    lock: str(w.lock),
    mode: w.mode === 'read' ? 'read' : 'write',
    site: str(w.site),
    start: epochNs(where, 'wait start', w.start),
    duration: num(w.duration),
    ...(w.gaveUp === true ? { gaveUp: true as const } : {}),
  };
}

/** One entry of `requests[]`; `waits` stays absent when the agent sent none (it cannot see them). */
export function decodeRequestRecord(where: string, r: unknown): RequestRecord {
  if (!isObject(r)) throw new RuntimeError(`${where}: invalid request record ${JSON.stringify(r)?.slice(0, 40)}`);
  return {
    trace: str(r.trace),
    parent: str(r.parent),
    start: epochNs(where, 'start', r.start),
    end: epochNs(where, 'end', r.end),
    method: str(r.method),
    path: str(r.path),
    status: num(r.status),
    bytes: num(r.bytes, -1),
    ...(Array.isArray(r.waits) ? { waits: r.waits.map((w) => decodeWait(where, isObject(w) ? w : {})) } : {}),
    ...(r.aborted === true ? { aborted: true as const } : {}),
  };
}

/** A `requests` list (the /requests answer's, or a capture's). */
export function decodeRequestRecords(where: string, list: unknown): RequestRecord[] {
  if (!Array.isArray(list)) throw new RuntimeError(`${where}: invalid records (no "requests" list)`);
  return list.map((r) => decodeRequestRecord(where, r));
}

/** GC `pauses` or event-loop `stalls` (`kind` is "" for stalls), oldest first. */
export function decodePauses(where: string, what: string, list: unknown): Pause[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new RuntimeError(`${where}: invalid ${what} (not a list)`);
  return list
    .map((p) => {
      const o = isObject(p) ? p : {};
      return { start: epochNs(where, `${what} start`, o.start), duration: num(o.duration), kind: str(o.kind) };
    })
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

/**
 * The /cpu answer: frames, stacks, and each sample's stack and wall-clock time. A sample's extra
 * fields (a Go profile's `trace` label and `weight`, see src/explain/labeled-cpu.ts) are `extra`'s
 * to read, so this stays the records format alone.
 */
export function decodeCpuSamples<S extends object = object>(
  where: string,
  j: unknown,
  extra: (sample: Json) => S = () => ({}) as S,
): Omit<CpuSamples, 'samples'> & { samples: Array<{ t: bigint; stack: number } & S> } {
  if (!isObject(j) || !Array.isArray(j.samples) || !Array.isArray(j.frames) || !Array.isArray(j.stacks)) {
    throw new RuntimeError(`${where}: invalid CPU samples (needs frames, stacks, samples)`);
  }
  return {
    start: epochNs(where, 'CPU window start', j.start),
    end: epochNs(where, 'CPU window end', j.end),
    intervalNs: num(j.intervalNs, 1e6),
    frames: j.frames.map((f) => {
      const o = isObject(f) ? f : {};
      return { name: str(o.name) || '(anonymous)', file: str(o.file), line: num(o.line) };
    }),
    stacks: j.stacks.map((s) => (Array.isArray(s) ? s.map((i) => num(i)) : [])),
    samples: j.samples.map((s) => {
      const o = isObject(s) ? s : {};
      return { t: epochNs(where, 'sample time', o.t), stack: num(o.stack), ...extra(o) };
    }),
  };
}
