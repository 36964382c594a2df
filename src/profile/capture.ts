import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Profile } from 'pprof-format';
import { RuntimeError, UsageError } from '../errors.js';
import { fetchProfile, PROFILE_TYPES, probeServer, profileRequestPath, type ProfileType, type ServerInfo } from './fetch.js';
import { encodeProfile } from './builder.js';
import { isGzip, str } from './parse.js';

/**
 * Capturing several profiles from one service at once, under load: the heart of `tailprobe profile`
 * and of `attack -profile`. Windowed profiles run concurrently where the server allows it (Go: all
 * of them; the agent: the heap sampler serves one of heap/allocs at a time, so those two queue).
 */

export interface CaptureOptions {
  /** The service's pprof address: http://host:port, or .../debug/pprof/. */
  url: string;
  types: ProfileType[];
  /** Length of the CPU window and of the delta/windowed profiles, in seconds. */
  seconds: number;
  /** Directory for `<type>.pb.gz` files (created if missing). */
  outDir: string;
  token?: string;
  signal?: AbortSignal;
  /** Extra time allowed beyond `seconds` for the server to answer (default 30 s). */
  graceMs?: number;
  /** The server, if already probed (skips probing again). */
  server?: ServerInfo;
  /** Called as each profile lands (the CLI prints it at once). */
  onProfile?: (p: CapturedProfile) => void;
}

export interface CapturedProfile {
  type: ProfileType;
  /** Path of the written `<type>.pb.gz`. */
  file: string;
  profile: Profile;
  /** The URL it was fetched from. */
  url: string;
}

/** Some profiles failed; the others were written and are in `captured`. */
export class CaptureError extends RuntimeError {
  constructor(
    readonly captured: CapturedProfile[],
    readonly failures: Array<{ type: ProfileType; error: Error }>,
  ) {
    super(failures.map((f) => f.error.message).join('\n'));
  }
}

/** Parses "cpu,heap,block" into profile types, rejecting unknown names as a usage error. */
export function parseProfileTypes(list: string | string[]): ProfileType[] {
  const items = (Array.isArray(list) ? list : [list]).flatMap((s) => s.split(',')).map((s) => s.trim().toLowerCase()).filter(Boolean);
  const out: ProfileType[] = [];
  for (const it of items) {
    const t = (it === 'profile' ? 'cpu' : it) as ProfileType;
    if (!PROFILE_TYPES.includes(t)) throw new UsageError(`unknown profile type "${it}" (known: ${PROFILE_TYPES.join(', ')})`);
    if (!out.includes(t)) out.push(t);
  }
  if (out.length === 0) throw new UsageError('no profile types given (e.g. -types=cpu,heap,block,mutex)');
  return out;
}

/** Which types must wait for one another on this server (same sampler). */
function queues(types: ProfileType[], server: ServerInfo['kind']): ProfileType[][] {
  if (server !== 'agent') return types.map((t) => [t]);
  const heapLike = types.filter((t) => t === 'heap' || t === 'allocs');
  const rest = types.filter((t) => t !== 'heap' && t !== 'allocs').map((t) => [t]);
  return heapLike.length ? [heapLike, ...rest] : rest;
}

/** Makes `type` the profile's default sample type; true if that changed anything. */
function preferSampleType(p: Profile, type: string): boolean {
  if (str(p, p.defaultSampleType) === type) return false;
  const i = p.stringTable.strings.indexOf(type);
  if (i < 0 || !p.sampleType.some((t) => Number(t.type) === i)) return false;
  p.defaultSampleType = i;
  return true;
}

/** Captures the profiles, writes `<outDir>/<type>.pb.gz`, and returns them parsed. */
export async function captureProfiles(opts: CaptureOptions): Promise<CapturedProfile[]> {
  if (!(opts.seconds > 0)) throw new UsageError(`profile window must be at least 1s (got ${opts.seconds})`);
  const http = { token: opts.token, signal: opts.signal };
  const server = opts.server ?? (await probeServer(opts.url, http));
  await mkdir(opts.outDir, { recursive: true }).catch((e: NodeJS.ErrnoException) => {
    throw new RuntimeError(`${opts.outDir}: cannot create the output directory (${e.code ?? e.message})`);
  });
  const captured: CapturedProfile[] = [];
  const failures: Array<{ type: ProfileType; error: Error }> = [];
  const timeoutMs = Math.round(opts.seconds * 1000) + (opts.graceMs ?? 30_000);

  const one = async (type: ProfileType) => {
    const url = server.base + profileRequestPath(type, opts.seconds, server.kind);
    try {
      const { bytes, profile } = await fetchProfile(url, { ...http, timeoutMs });
      const file = join(opts.outDir, `${type}.pb.gz`);
      if (type === 'allocs' && preferSampleType(profile, 'alloc_space')) {
        // Go's delta profiles (allocs?seconds=N) lose the allocs default: show allocation, not in-use.
        await writeFile(file, encodeProfile(profile));
      } else {
        // Always gzipped on disk, as Go writes them, whatever the server sent.
        await writeFile(file, isGzip(bytes) ? bytes : gzipSync(bytes));
      }
      const c: CapturedProfile = { type, file, profile, url };
      captured.push(c);
      opts.onProfile?.(c);
    } catch (err) {
      failures.push({ type, error: err as Error });
    }
  };
  await Promise.all(
    queues(opts.types, server.kind).map(async (q) => {
      for (const t of q) await one(t);
    }),
  );
  // Report in the order asked, not in the order they finished.
  const order = (t: ProfileType) => opts.types.indexOf(t);
  captured.sort((a, b) => order(a.type) - order(b.type));
  failures.sort((a, b) => order(a.type) - order(b.type));
  if (failures.length) throw new CaptureError(captured, failures);
  return captured;
}
