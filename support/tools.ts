import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * External tools the tests and the benchmarks need (Go for pprof interop, Chromium for HTML,
 * nginx/wrk/vegeta for the peer benchmarks): the first candidate path that exists, else the PATH's.
 */
export function findTool(name: string, candidates: string[] = []): string | null {
  for (const c of candidates) if (existsSync(c)) return c;
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

export const GO_CANDIDATES = ['/usr/lib/go/bin/go', '/usr/bin/go'];
export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
