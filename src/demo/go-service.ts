import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RuntimeError } from '../errors.js';
import { superviseService, type AllocMode, type LockMode, type LookupProcess } from './service.js';

/**
 * The Go lookup service (examples/lookup-go) as a child of the demo: built from source with the
 * local Go toolchain (the module in go/ next to it, no network), started with one of its -fix
 * modes on a loopback port, stopped however the demo ends (it also exits when its stdin closes).
 */

/** The Go service's source, at the package root (dist/src/demo -> examples/lookup-go). */
export const LOOKUP_GO_DIR = fileURLToPath(new URL('../../../examples/lookup-go', import.meta.url));

/** The Go service's -fix flag for a demo stage. */
export function goFix(alloc: AllocMode, lock: LockMode): 'none' | 'pool' | 'rwmutex' {
  if (lock === 'rwmutex') return 'rwmutex';
  return alloc === 'pool' ? 'pool' : 'none';
}

/** A file (not a folder: /usr/local/go is Go's own install folder, and /usr/local may be on PATH). */
function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The Go toolchain: `go` on PATH, else $GOROOT/bin/go; null when there is none. */
export function findGo(env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && isFile(join(dir, 'go'))) return join(dir, 'go');
  }
  const fromRoot = env.GOROOT ? join(env.GOROOT, 'bin', 'go') : '';
  return fromRoot && isFile(fromRoot) ? fromRoot : null;
}

/** Builds examples/lookup-go into `dir`; returns the binary and the Go version. One clear line when Go is missing. */
export function buildGoLookup(dir: string): { binary: string; goVersion: string } {
  const go = findGo();
  if (!go) throw new RuntimeError('demo: -service=go needs the Go toolchain to build examples/lookup-go, and there is no `go` on PATH (install Go 1.19 or later, e.g. apt-get install golang-go)');
  if (!existsSync(join(LOOKUP_GO_DIR, 'go.mod'))) throw new RuntimeError(`demo: the Go service's source is missing (${LOOKUP_GO_DIR})`);
  const binary = join(dir, 'lookup-go');
  const env = { ...process.env, GOPROXY: 'off', GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', GO111MODULE: 'on', CGO_ENABLED: '0' };
  const r = spawnSync(go, ['build', '-o', binary, '.'], { cwd: LOOKUP_GO_DIR, env, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) {
    const why = `${r.stderr ?? ''}${r.error ? String(r.error) : ''}`.trim().split('\n').slice(0, 3).join(' | ');
    throw new RuntimeError(`demo: go build of examples/lookup-go failed: ${why}`);
  }
  const v = spawnSync(go, ['version'], { encoding: 'utf8' });
  return { binary, goVersion: (v.stdout ?? '').trim().split(' ')[2] ?? 'go' };
}


/** Starts the built service; resolves with it once it printed its ready line. */
export async function startGoLookup(
  binary: string,
  config: { alloc: AllocMode; lock: LockMode; entries?: number; port?: number },
  opts: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<LookupProcess> {
  const args = [`-addr=127.0.0.1:${config.port ?? 0}`, `-fix=${goFix(config.alloc, config.lock)}`, '-watch-stdin'];
  if (config.entries !== undefined) args.push(`-entries=${config.entries}`);
  // GOGC and friends from our environment would change the service behind the demo's back.
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(GOGC|GOMEMLIMIT|GODEBUG|GOMAXPROCS)$/.test(k)) env[k] = v;
  const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
  const { ready, stop } = await superviseService(child, `Go lookup service (-fix=${goFix(config.alloc, config.lock)})`, opts);
  return {
    config: { alloc: config.alloc, lock: config.lock, entries: config.entries, port: config.port },
    url: ready.url!,
    pprof: ready.pprof!,
    pid: child.pid ?? 0,
    entries: Number(ready.entries ?? 0),
    heapMB: Number(ready.heapMB ?? 0),
    buildMs: Number(ready.buildMs ?? 0),
    stop,
  };
}
