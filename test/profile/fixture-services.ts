import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { FIXTURES, REPO_ROOT, tempDir } from '../helpers/paths.js';
import { GO_CANDIDATES, requireTool } from '../helpers/tools.js';

/**
 * The real services the profile and agent tests talk to: the Go fixture (net/http/pprof, built
 * here with the system's Go) and the Node fixture (with tailprobe/agent). Each exits by itself
 * after a bound, and `stop()` kills it, so no test leaves a process behind.
 */

export interface RunningService {
  /** Base URL printed by the service (Go: its address; Node: the agent's). */
  url: string;
  /** The Node fixture's own HTTP address (GET /lookup), to attack it. */
  serviceUrl?: string;
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

/** Spawns a process and resolves once `pattern` shows up in its stdout or stderr. */
export function spawnAndWait(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; pattern: RegExp; timeoutMs?: number },
): Promise<{ match: RegExpMatchArray; service: RunningService }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? REPO_ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let settled = false;
    const stop = () =>
      new Promise<void>((res) => {
        if (child.exitCode !== null || child.signalCode !== null) return res();
        child.once('exit', () => res());
        child.kill('SIGKILL');
      });
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      void stop();
      reject(new Error(`${cmd} did not print ${opts.pattern} within ${opts.timeoutMs ?? 20_000}ms; output:\n${out}`));
    }, opts.timeoutMs ?? 20_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = out.match(opts.pattern);
      if (m && !settled) {
        settled = true;
        clearTimeout(timer);
        resolve({ match: m, service: { url: m[1] ?? '', serviceUrl: m[2], child, output: () => out, stop } });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`${cmd} exited (${code}) before it was ready; output:\n${out}`));
    });
  });
}

/**
 * Builds a Go program (default: the Go fixture; `source`: another module's folder, e.g.
 * examples/lookup-go) with the system's Go into a temp dir (own GOCACHE/GOPATH). Null if skipped.
 */
export function buildGoService(t: TestContext, source = join(FIXTURES, 'goservice')): { binary: string; go: string; dir: string } | null {
  const go = requireTool(t, 'go', GO_CANDIDATES, 'golang-go');
  if (!go) return null;
  const dir = tempDir('tailprobe-go-');
  const binary = join(dir, 'goservice');
  const r = spawnSync(go, ['build', '-o', binary, '.'], {
    cwd: source,
    env: { ...process.env, GOFLAGS: '-mod=mod', GOCACHE: join(dir, 'cache'), GOPATH: join(dir, 'gopath'), GO111MODULE: 'on' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`go build of ${source} failed:\n${r.stderr}${r.error ?? ''}`);
  return { binary, go, dir };
}

export async function startGoService(binary: string, exitAfter = '60s'): Promise<RunningService> {
  const { service } = await spawnAndWait(binary, [`-exit-after=${exitAfter}`], { pattern: /listening on (http:\/\/\S+)/ });
  return service;
}

/** The Node fixture with `node --import tailprobe/agent`, the agent on a free loopback port. */
export async function startNodeService(env: NodeJS.ProcessEnv = {}, exitAfterMs = 60_000): Promise<RunningService> {
  const { service } = await spawnAndWait(
    process.execPath,
    ['--import', 'tailprobe/agent', join(FIXTURES, 'nodeservice', 'server.mjs')],
    {
      env: { TAILPROBE_AGENT: '127.0.0.1:0', EXIT_AFTER_MS: String(exitAfterMs), ...env },
      // Both lines, in whichever order they come.
      pattern: /^(?=[\s\S]*profiling endpoints on (http:\/\/[^/\s]+)\/debug\/pprof\/)(?=[\s\S]*service on (http:\/\/\S+))/,
    },
  );
  return service;
}
