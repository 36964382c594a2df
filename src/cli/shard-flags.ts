import { UsageError } from '../errors.js';
import { checkShard, type Shard } from '../pacer/shard.js';
import { parseRfc3339 } from '../results/timestamp.js';
import { wallClockNs } from '../time/wall.js';
import { parseNtpAddress } from '../time/sntp.js';
import { parseDuration } from '../units/duration.js';
import type { FlagSpec, ParsedArgs } from './flags.js';

/** `attack -shard=K/N -start-at=...`: one schedule split across N generators (docs/distributed.md). */
export const SHARD_FLAGS: FlagSpec[] = [
  { name: 'shard', type: 'string', value: 'K/N', help: 'Send only the requests i ≡ K (mod N) of the schedule: shard K of N generators sharing it' },
  {
    name: 'start-at',
    type: 'string',
    value: 'TIME',
    help: 'Wall-clock instant of the schedule\'s start, RFC 3339 (2026-12-02T15:00:00Z) or +DURATION from now (+10s); every shard must get the same one',
  },
  { name: 'clock-ref', type: 'string', value: 'HOST[:PORT]', help: 'NTP server a shard measures its clock against (SNTP); recorded with its results' },
];

/** Parses "K/N" (K from 0). */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new UsageError(`attack: invalid -shard "${text}" (want K/N, e.g. 0/4: K from 0 to N-1)`);
  const s = { index: Number(m[1]), count: Number(m[2]) };
  try {
    return checkShard(s);
  } catch {
    throw new UsageError(`attack: invalid -shard "${text}": K must be 0..N-1 and N at least 1`);
  }
}

/** Parses an RFC 3339 instant or "+DURATION" (from `nowNs`) to epoch ns. */
export function parseStartAt(text: string, nowNs: bigint = wallClockNs()): bigint {
  const t = text.trim();
  if (t.startsWith('+')) {
    let d: number;
    try {
      d = parseDuration(t.slice(1));
    } catch {
      throw new UsageError(`attack: invalid -start-at "${text}" (want an RFC 3339 time or +DURATION, e.g. +10s)`);
    }
    if (!(d > 0)) throw new UsageError(`attack: -start-at "${text}" must be in the future`);
    return nowNs + BigInt(Math.round(d));
  }
  const at = parseRfc3339(t);
  if (at === null) throw new UsageError(`attack: invalid -start-at "${text}" (want an RFC 3339 time like 2026-12-02T15:00:00Z, or +10s)`);
  return at;
}

/** The attack options the shard flags set (none when they are absent). */
export function shardOptions(args: ParsedArgs): { shard?: Shard; startAtNs?: bigint; clockRef?: string } {
  const out: { shard?: Shard; startAtNs?: bigint; clockRef?: string } = {};
  if (args.string('clock-ref')) {
    try {
      parseNtpAddress(args.string('clock-ref'));
    } catch (e) {
      throw new UsageError(`attack: ${(e as Error).message} for -clock-ref`);
    }
    out.clockRef = args.string('clock-ref');
  }
  if (args.string('shard')) out.shard = parseShard(args.string('shard'));
  if (args.string('start-at')) out.startAtNs = parseStartAt(args.string('start-at'));
  if (out.shard && out.shard.count > 1 && out.startAtNs === undefined) {
    throw new UsageError('attack: -shard needs -start-at: every shard must start its part of the schedule at one agreed instant');
  }
  return out;
}
