import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = join(fileURLToPath(new URL('.', import.meta.url)), 'service-main.js');

export interface InjectedService {
  url: string;
  agent: string;
  child: ChildProcess;
  /** The windows the service injected its cause in (its own clock, epoch ns). */
  truth(): Promise<Array<[bigint, bigint]>>;
  close(): Promise<void>;
}

/** Starts test/explain/service-main.ts in its own process (see there for the modes). */
export async function startInjected(mode: 'stall' | 'lock' | 'gc' | 'none', env: NodeJS.ProcessEnv = {}): Promise<InjectedService> {
  // One GC thread: on a 2-core machine V8's parallel marking would take the generator's core too,
  // and the slow requests would be (truly) sent late rather than only paused in the service.
  const args = mode === 'gc' ? ['--expose-gc', '--single-threaded-gc', MAIN, mode] : [MAIN, mode];
  const child = spawn(process.execPath, args, { env: { ...process.env, TAILPROBE_AGENT: '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const ready = await new Promise<string>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => {
      child.kill('SIGKILL'); // a service that never got ready must not outlive the test
      reject(new Error(`service ${mode} did not start: ${err}`));
    }, 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('ready '));
      if (line) {
        clearTimeout(t);
        resolve(line);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`service ${mode} exited (${code}): ${err}`));
    });
  });
  const url = /url=(\S+)/.exec(ready)![1]!;
  const agent = /agent=(\S+)/.exec(ready)![1]!;
  return {
    url,
    agent,
    child,
    async truth() {
      const res = await fetch(`${url}/truth`);
      const j = (await res.json()) as { windows: Array<[string, string]> };
      return j.windows.map(([a, b]) => [BigInt(a), BigInt(b)]);
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin!.end();
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}
