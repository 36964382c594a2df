import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { Metrics } from './metrics.js';
import { readMetrics, type ReadMetricsOptions } from './read.js';
import { openResults, type ResultSource } from '../results/reader.js';
import type { PlanInfo, RunInfo, RunMeta } from '../results/result.js';

/**
 * Shards of one schedule, put back together. `attack -shard=K/N` writes one results file per shard;
 * every file carries its RunInfo.shard (K, N, the plan, its clock). Merging is exact by construction
 * (Metrics add HDR histograms and sum counts; every shard's timestamps are on the one schedule's
 * timeline), so what is left to check is the set itself: one plan, every K once, and how well the
 * shards met the start. report, compare, plot and explain all call this one module.
 */

/** The plan's id: a digest of the schedule, the targets, the agreed start and the shard count. */
export function planId(plan: Omit<PlanInfo, 'id'>, count: number): string {
  const text = JSON.stringify([plan.pacer, plan.durationNs, plan.targets, plan.startAt, count]);
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/** A digest of any text (the attack digests its targets with it). */
export function digest(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/**
 * Paths with every directory replaced by the files in it (sorted by name, hidden files skipped): a
 * directory of shard files is one run. Other paths (files, '-') are kept as given.
 */
export async function expandInputs(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const st = p === '-' || p === 'stdin' ? null : await stat(p).catch(() => null);
    if (!st?.isDirectory()) {
      out.push(p);
      continue;
    }
    const names = (await readdir(p)).filter((n) => !n.startsWith('.')).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    const files: string[] = [];
    for (const n of names) if ((await stat(join(p, n)).catch(() => null))?.isFile()) files.push(join(p, n));
    if (files.length === 0) throw new UsageError(`${p}: an empty directory (want the results files of a run's shards)`);
    out.push(...files);
  }
  return out;
}

/** One input of a merge: its name and its run info (null: none, e.g. vegeta's formats). */
export interface ShardEntry {
  name: string;
  info: RunInfo | null;
}

export interface ShardStart {
  index: number;
  name: string;
  /** How late the shard was for the agreed start, ns (its own clock). */
  startMissNs: number;
  /** How late its first request left, ns (its own clock); the start miss when the file does not say. */
  firstSendLagNs: number;
  /** Its clock minus NTP time, ns, when known. */
  offsetNs: number | null;
  maxErrorNs: number | null;
  clock: string;
}

/** What a set of shard files holds, and what is wrong with it. */
export interface ShardSet {
  plan: PlanInfo;
  /** N. */
  count: number;
  /** The K present, ascending, each once. */
  present: number[];
  /** The K absent. */
  missing: number[];
  /** K present in more than one file: their requests would be counted twice. */
  duplicates: Array<{ index: number; files: string[] }>;
  /** One per file. */
  starts: ShardStart[];
  /**
   * Spread of the shards' starts, ns: max − min over shards of (how late the first request left +
   * clock offset where chrony knew it). What the files can say; the clocks' own error bound is `clockErrorNs`.
   */
  startSkewNs: number;
  /** The largest error bound any shard's clock reported, ns; null when a shard did not know its own. */
  clockErrorNs: number | null;
}

/**
 * Checks that the inputs are shards of one plan and describes the set; null when none of them is a
 * shard (an ordinary merge of runs). Shards of different plans (another start, rate, duration, set
 * of targets or shard count), or a shard merged with a file that is not one, are a one-line
 * UsageError: their union is not one schedule.
 */
export function checkShardSet(entries: ShardEntry[]): ShardSet | null {
  const shards = entries.filter((e) => e.info?.shard);
  if (shards.length === 0) return null;
  const first = shards[0]!;
  const p0 = first.info!.shard!;
  for (const e of entries) {
    const s = e.info?.shard;
    if (!s) {
      throw new UsageError(`${e.name} is not a shard (no -shard) and ${first.name} is shard ${p0.index}/${p0.count}: merge the shards of one plan only`);
    }
    const why = planDifference(p0.plan, p0.count, s.plan, s.count);
    if (why) throw new UsageError(`${first.name} and ${e.name} are shards of different plans (${why}): their union is not one schedule`);
  }
  const files = new Map<number, string[]>();
  const starts: ShardStart[] = [];
  for (const e of shards) {
    const s = e.info!.shard!;
    files.set(s.index, [...(files.get(s.index) ?? []), e.name]);
    starts.push({
      index: s.index,
      name: e.name,
      startMissNs: s.clock.startMissNs,
      firstSendLagNs: s.clock.firstSendLagNs ?? s.clock.startMissNs,
      offsetNs: s.clock.offsetNs,
      maxErrorNs: s.clock.maxErrorNs,
      clock: s.clock.detail,
    });
  }
  const present = [...files.keys()].sort((a, b) => a - b);
  const missing: number[] = [];
  for (let k = 0; k < p0.count; k++) if (!files.has(k)) missing.push(k);
  const duplicates = [...files.entries()].filter(([, f]) => f.length > 1).map(([index, f]) => ({ index, files: f }));
  const effective = starts.map((s) => s.firstSendLagNs + (s.offsetNs ?? 0));
  const errors = starts.map((s) => s.maxErrorNs);
  return {
    plan: p0.plan,
    count: p0.count,
    present,
    missing,
    duplicates,
    starts,
    startSkewNs: Math.max(...effective) - Math.min(...effective),
    clockErrorNs: errors.some((x) => x === null) ? null : Math.max(...(errors as number[])),
  };
}

function planDifference(a: PlanInfo, an: number, b: PlanInfo, bn: number): string | null {
  if (an !== bn) return `${an} shards vs ${bn}`;
  if (a.startAt !== b.startAt) return `start ${a.startAt} vs ${b.startAt}`;
  if (JSON.stringify(a.pacer) !== JSON.stringify(b.pacer)) return `pacer ${JSON.stringify(a.pacer)} vs ${JSON.stringify(b.pacer)}`;
  if (a.durationNs !== b.durationNs) return `duration ${a.durationNs} ns vs ${b.durationNs} ns`;
  if (a.targets !== b.targets) return `targets ${a.targets} vs ${b.targets}`;
  if (a.id !== b.id) return `plan ${a.id} vs ${b.id}`;
  return null;
}

function ms(ns: number): string {
  return `${(ns / 1e6).toFixed(ns < 1e7 ? 3 : 1)}ms`;
}

/** The report lines about a shard set: warnings for missing and overlapping shards, a note with the start skew. */
export function shardSetLines(s: ShardSet): string[] {
  const out: string[] = [];
  if (s.missing.length > 0) {
    out.push(
      `Warning: shards missing: ${s.missing.length} of ${s.count} absent (${s.missing.map((k) => `${k}/${s.count}`).join(', ')}): ` +
        `these results are ${s.present.length} of the plan's ${s.count} shares; counts and rates are of the shards present.`,
    );
  }
  for (const d of s.duplicates) {
    out.push(`Warning: shards overlap: shard ${d.index}/${s.count} is in ${d.files.join(' and ')}: its requests are counted ${d.files.length} times.`);
  }
  const late = s.starts.reduce((a, x) => (x.firstSendLagNs > a.firstSendLagNs ? x : a), s.starts[0]!);
  const clocks = s.clockErrorNs === null ? 'clock error not known on every shard (no chrony)' : `clock error bound ${ms(s.clockErrorNs)}`;
  out.push(
    `Note: ${s.present.length} of ${s.count} shards of plan ${s.plan.id} (start ${s.plan.startAt}); start skew ${ms(s.startSkewNs)} ` +
      `(latest: shard ${late.index}, first request ${ms(late.firstSendLagNs)} late${late.startMissNs > 0 ? `, ready ${ms(late.startMissNs)} after the start` : ''}); ${clocks}.`,
  );
  return out;
}

/**
 * shardSetLines from the run metadata of the inputs (what report, plot and compare hold). Never
 * throws: shards of different plans are a warning line here (the commands refuse them with
 * checkShardSet once the inputs are read; a rolling report may render before that).
 */
export function shardNotes(meta: RunMeta[], names: string[] = []): string[] {
  try {
    const set = checkShardSet(meta.map((m, i) => ({ name: names[i] ?? `input ${i + 1}`, info: m.info })));
    return set ? shardSetLines(set) : [];
  } catch (e) {
    if (e instanceof UsageError) return [`Warning: ${e.message}.`];
    throw e;
  }
}

/**
 * Reads shard files (or directories of them) into one Metrics and checks the set: the merge that
 * report, compare, plot and explain share. Throws a UsageError when the files are shards of
 * different plans; `shards` is null when none of them is a shard.
 */
export async function loadShards(
  paths: string[],
  opts: ReadMetricsOptions = {},
): Promise<{ metrics: Metrics; sources: ResultSource[]; shards: ShardSet | null }> {
  const files = await expandInputs(paths);
  const { metrics, sources } = await readMetrics(files, opts);
  const shards = checkShardSet(sources.map((s) => ({ name: s.name, info: s.meta.info })));
  return { metrics, sources, shards };
}

/**
 * Groups inputs into runs for commands where each input is a run (compare, plot): a directory is one
 * run, and consecutive files that are shards of one plan are one run. Meta is read from the files' heads.
 */
export interface RunGroup {
  /** Label: the directory, or the first file's name with its shard suffix. */
  label: string;
  files: string[];
}

/** The run info at the head of a results file (binary files carry it before their results); null when none. */
export async function readHeadInfo(path: string, stdin?: NodeJS.ReadableStream): Promise<RunInfo | null> {
  if (path === '-' || path === 'stdin') return null; // stdin can be read once only
  // Not a results file (a sweep, a saved report) or unreadable: no info; the command's own reader says why.
  const src = await openResults(path, stdin).catch(() => null);
  if (!src) return null;
  try {
    for await (const _batch of src.batches()) break;
  } catch {
    return null;
  } finally {
    src.close();
  }
  return src.meta.info;
}

export async function groupRuns(paths: string[], stdin?: NodeJS.ReadableStream): Promise<RunGroup[]> {
  const groups: Array<RunGroup & { plan: string | null; dir: boolean }> = [];
  for (const p of paths) {
    const expanded = await expandInputs([p]);
    const isDir = expanded.length !== 1 || expanded[0] !== p;
    if (isDir) {
      groups.push({ label: p, files: expanded, plan: null, dir: true });
      continue;
    }
    const info = await readHeadInfo(p, stdin);
    const plan = info?.shard?.plan.id ?? null;
    const last = groups[groups.length - 1];
    if (plan !== null && last && !last.dir && last.plan === plan) last.files.push(p);
    else groups.push({ label: p, files: [p], plan, dir: false });
  }
  return groups.map(({ label, files }) => ({ label, files }));
}
