import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RuntimeError } from '../errors.js';

/**
 * The lookup service (examples/lookup) as a child process of the demo: started with a given pair
 * of switches, on loopback ports the OS picks, with the tailprobe agent on its own loopback port;
 * stopped, always, however the demo ends.
 */

export type AllocMode = 'fresh' | 'pool';
export type LockMode = 'mutex' | 'rwmutex';

/** The compiled service, next to this module in dist/ (dist/src/demo -> dist/examples/lookup). */
export const LOOKUP_SERVER_JS = fileURLToPath(new URL('../../examples/lookup/server.js', import.meta.url));

export interface LookupConfig {
  alloc: AllocMode;
  lock: LockMode;
  /** Table size (default: the service's own, 300000). */
  entries?: number;
  /** Port to listen on (default 0: any free one). */
  port?: number;
}

export interface LookupProcess {
  config: LookupConfig;
  /** Base URL of the service, e.g. http://127.0.0.1:40123. */
  url: string;
  /** Base URL of its agent (/debug/pprof/...). */
  pprof: string;
  pid: number;
  entries: number;
  /** Heap in use once the table was built, MiB, and how long the build took, ms (as the service said). */
  heapMB: number;
  buildMs: number;
  /** Stops it (SIGTERM, then SIGKILL after a grace period) and resolves once it has exited. */
  stop(): Promise<void>;
}

/** Every child started and not yet reaped, so any exit path can stop them. */
const live = new Set<ChildProcess>();

/** Kills every service child still running, synchronously (for process 'exit' and signals). */
export function killAllServices(): void {
  for (const c of live) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort: whatever path ends this process, no service outlives it. (The service also
  // watches its stdin, which closes when we die, even by SIGKILL.)
  process.once('exit', killAllServices);
}

/**
 * Watches a service child the demo started (Node's lookup service or Go's): kept in the set every
 * exit path kills, its stderr tail kept for the error, resolved with the fields of its ready line
 * (`lookup ready url=... pprof=...`), or rejected with one line when it exits, times out or the
 * start is interrupted. `stop()` ends it (SIGTERM, then SIGKILL after 3 s).
 */
export async function superviseService(
  child: ChildProcess,
  what: string,
  opts: StartOptions = {},
): Promise<{ ready: Record<string, string>; stop: () => Promise<void> }> {
  installExitHook();
  live.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    stderr = (stderr + d).slice(-4000);
  });
  child.stdin!.on('error', () => {});

  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      live.delete(child);
      resolve();
    });
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };

  const ready = await new Promise<Record<string, string>>((resolve, reject) => {
    let out = '';
    const timeoutMs = opts.timeoutMs ?? 120_000;
    const fail = (why: string) => {
      cleanup();
      void stop();
      const detail = stderr.trim().split('\n').slice(-3).join(' | ');
      reject(new RuntimeError(`demo: ${what} ${why}${detail ? `: ${detail}` : ''}`));
    };
    const onData = (d: Buffer) => {
      out += d.toString('utf8');
      for (const line of out.split('\n')) {
        const r = parseReadyLine(line);
        if (r) {
          cleanup();
          resolve(r);
          return;
        }
      }
    };
    const onExit = (code: number | null, sig: string | null) => fail(`exited before it was ready (${sig ?? `code ${code}`})`);
    const onAbort = () => fail('start interrupted');
    const timer = setTimeout(() => fail(`not ready after ${Math.round(timeoutMs / 1000)}s`), timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
  });
  // Keep draining stdout so the child never blocks on a full pipe.
  child.stdout!.resume();
  return { ready, stop };
}

/** The ready line the service prints: `lookup ready url=... pprof=... entries=... heapMB=... buildMs=...`. */
export function parseReadyLine(line: string): Record<string, string> | null {
  const m = /^lookup ready (.*)$/.exec(line.trim());
  if (!m) return null;
  const out: Record<string, string> = {};
  for (const kv of m[1]!.split(/\s+/)) {
    const i = kv.indexOf('=');
    if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

export interface StartOptions {
  /** Give up if the service is not listening after this long (the table build is the slow part). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Path of the server script (tests may point elsewhere). */
  script?: string;
}

export async function startLookup(config: LookupConfig, opts: StartOptions = {}): Promise<LookupProcess> {
  const script = opts.script ?? LOOKUP_SERVER_JS;
  if (!existsSync(script)) throw new RuntimeError(`demo: the lookup service is not built (${script} is missing; run npm run build)`);
  const args = [script, '--host=127.0.0.1', `--port=${config.port ?? 0}`, '--pprof=0', `--alloc=${config.alloc}`, `--lock=${config.lock}`, '--watch-stdin'];
  if (config.entries !== undefined) args.push(`--entries=${config.entries}`);
  // The service's own environment must not switch it to something else behind our back.
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LOOKUP_') && k !== 'TAILPROBE_AGENT' && k !== 'NODE_OPTIONS') env[k] = v;
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
  const { ready, stop } = await superviseService(child, `lookup service (${config.alloc}, ${config.lock})`, opts);
  if (!ready.url || !ready.pprof || ready.pprof === 'off') {
    await stop();
    throw new RuntimeError('demo: lookup service started without its agent');
  }
  return {
    config,
    url: ready.url,
    pprof: ready.pprof,
    pid: child.pid ?? 0,
    entries: Number(ready.entries ?? 0),
    heapMB: Number(ready.heapMB ?? 0),
    buildMs: Number(ready.buildMs ?? 0),
    stop,
  };
}
