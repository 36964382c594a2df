/**
 * tailprobe/agent: Go's net/http/pprof for Node services.
 *
 *   node --import tailprobe/agent server.js                       # 127.0.0.1:6060
 *   TAILPROBE_AGENT=127.0.0.1:7070 node --import tailprobe/agent server.js
 *   TAILPROBE_AGENT=0.0.0.0:6060 TAILPROBE_AGENT_TOKEN=s3cret node --import tailprobe/agent server.js
 *
 * or from code: `await startAgent({ port: 6060 })`, or `mountAgent(server)` on the service's own
 * http.Server. See docs/agent.md.
 *
 * When it starts by itself: loading this module with `--import` is the opt-in, and the agent then
 * listens on TAILPROBE_AGENT or, without it, on 127.0.0.1:6060 (loopback: safe by default, as the
 * `localhost:6060` of Go's documentation). Imported from code, it starts only if TAILPROBE_AGENT is
 * set; TAILPROBE_AGENT=off disables it everywhere. A failure to start is one line on stderr, never a
 * crash of the service it was meant to observe.
 */
import { isMainThread } from 'node:worker_threads';
import { startAgent, type AgentHandle } from './server.js';

export { startAgent, mountAgent, requestsEnabled, lockWaitsEnabled, type AgentOptions, type AgentHandle } from './server.js';
export { RequestRecorder, type RequestRecorderOptions } from './requests.js';
export { parseTraceparent } from '../results/trace-id.js';
export { createAgentHandler, AGENT_HEADER, agentId, type AgentContext, type ResolvedAgentOptions } from './handler.js';
export { AgentConfigError, isLoopbackHost, checkBind } from './security.js';
export { captureCpuProfile, captureHeapProfile, BusyError, type CpuCaptureOptions, type HeapCaptureOptions } from './profilers.js';
export { captureContentionProfile } from './contention.js';
export { GcRecorder, gcKindName, GC_KIND_NAMES } from './gc.js';
export { EventLoopMonitor, type EventLoopOptions, type EventLoopSummary } from './eventloop.js';
export { wallClockNs, perfToWallNs } from '../time/wall.js';

/** The default address, as Go's documentation has it (localhost:6060). */
export const DEFAULT_AGENT_ADDRESS = '127.0.0.1:6060';

/** Parses "host:port", ":port", "port" or "[::1]:port". */
export function parseAgentAddress(text: string): { host: string; port: number } {
  const s = text.trim();
  let host = '127.0.0.1';
  let portText = s;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(s);
  if (v6) {
    host = v6[1]!;
    portText = v6[2]!;
  } else if (s.includes(':')) {
    const i = s.lastIndexOf(':');
    host = s.slice(0, i) || '127.0.0.1';
    portText = s.slice(i + 1);
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new Error(`tailprobe agent: invalid TAILPROBE_AGENT "${text}" (expected host:port, e.g. 127.0.0.1:6060)`);
  }
  return { host, port };
}

/** True when this module was loaded by `--import tailprobe/agent` (argv or NODE_OPTIONS). */
export function loadedByImportFlag(execArgv = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): boolean {
  const args = [...execArgv, ...nodeOptions.split(/\s+/).filter(Boolean)];
  const isAgent = (spec: string) => /(^|[/\\])tailprobe\/agent$|[/\\]agent[/\\]index\.js$/.test(spec.replace(/^["']|["']$/g, ''));
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--import' && i + 1 < args.length && isAgent(args[i + 1]!)) return true;
    if (a.startsWith('--import=') && isAgent(a.slice('--import='.length))) return true;
  }
  return false;
}

/** Where to start by ourselves, or null. */
export function autoStartAddress(env = process.env, byImport = loadedByImportFlag()): string | null {
  const v = env.TAILPROBE_AGENT?.trim();
  if (v && /^(0|off|false|no|none)$/i.test(v)) return null;
  if (v) return v;
  return byImport ? DEFAULT_AGENT_ADDRESS : null;
}

/** The agent this module started by itself (if any). */
export let autoStarted: Promise<AgentHandle | null> = Promise.resolve(null);

if (isMainThread) {
  const address = autoStartAddress();
  if (address) {
    autoStarted = (async () => {
      try {
        const { host, port } = parseAgentAddress(address);
        const agent = await startAgent({ host, port });
        process.stderr.write(`tailprobe agent: profiling endpoints on ${agent.url}/debug/pprof/\n`);
        return agent;
      } catch (err) {
        process.stderr.write(`${(err as Error).message.startsWith('tailprobe agent') ? '' : 'tailprobe agent: '}${(err as Error).message}\n`);
        return null;
      }
    })();
  }
}
