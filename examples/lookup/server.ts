#!/usr/bin/env node
/**
 * The lookup service as a program, profiled by the tailprobe agent:
 *
 *   node dist/examples/lookup/server.js --port 8080 --alloc=fresh --lock=mutex
 *   LOOKUP_ALLOC=pool LOOKUP_LOCK=rwmutex node dist/examples/lookup/server.js
 *
 * Flags win over environment variables (LOOKUP_<FLAG>, e.g. LOOKUP_PORT, LOOKUP_ENTRIES).
 * Once listening it prints one line, which `tailprobe demo` reads to find it:
 *
 *   lookup ready url=http://127.0.0.1:8080 pprof=http://127.0.0.1:6060 alloc=fresh lock=mutex entries=300000 ...
 */
import { parseArgs } from 'node:util';
import { startAgent } from 'tailprobe/agent';
import { setContentionProfiling } from 'tailprobe/sync';
import { startLookupService } from './service.js';
import { RESPONSE_BUFFER_SIZE, type AllocKind } from './render.js';
import type { LockKind } from './table.js';

const USAGE = `Usage: node dist/examples/lookup/server.js [flags]

  --host HOST          listen address (default 127.0.0.1)              LOOKUP_HOST
  --port N             port, 0 = any free one (default 8080)           LOOKUP_PORT
  --alloc fresh|pool   response buffers: fresh per request, or pooled  LOOKUP_ALLOC
  --lock mutex|rwmutex table lock: one mutex, or read-write           LOOKUP_LOCK
  --entries N          table size (default 300000)                     LOOKUP_ENTRIES
  --related N          related entries fetched per lookup (default 8)  LOOKUP_RELATED
  --popular-every N    every Nth entry is popular, 0 = none (default 400)  LOOKUP_POPULAR_EVERY
  --popular-related N  related entries of a popular entry (default 1000)  LOOKUP_POPULAR_RELATED
  --chunks N           pieces each entry is read in, one event-loop turn each (default 8)  LOOKUP_CHUNKS
  --refresh-ms N       writer period, 0 = no writer (default 1000)     LOOKUP_REFRESH_MS
  --buffer-kib N       response buffer capacity, KiB (default 1024)    LOOKUP_BUFFER_KIB
  --pprof PORT|off     tailprobe agent (/debug/pprof) on 127.0.0.1:PORT (default 0 = any free port)  LOOKUP_PPROF
  --watch-stdin        exit when stdin closes (used by tailprobe demo, so the service never outlives it)
`;

function fail(msg: string): never {
  process.stderr.write(`lookup: ${msg}\n${USAGE}`);
  process.exit(2);
}

function intOf(name: string, raw: string | undefined, dflt: number): number {
  if (raw === undefined || raw === '') return dflt;
  if (!/^\d+$/.test(raw)) fail(`invalid --${name} "${raw}": expected a non-negative integer`);
  return Number(raw);
}

function oneOf<T extends string>(name: string, raw: string | undefined, allowed: readonly T[], dflt: T): T {
  if (raw === undefined || raw === '') return dflt;
  if (!(allowed as readonly string[]).includes(raw)) fail(`invalid --${name} "${raw}": expected ${allowed.join(' or ')}`);
  return raw as T;
}

async function main(): Promise<void> {
  const names = ['host', 'port', 'alloc', 'lock', 'entries', 'related', 'popular-every', 'popular-related', 'refresh-ms', 'buffer-kib', 'chunks', 'pprof'] as const;
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(names.map((n) => [n, { type: 'string' as const }]));
    const parsed = parseArgs({
      // Go-style single-dash long flags (-port=8080) are accepted too.
      args: process.argv.slice(2).map((a) => (/^-[a-z][a-z-]+/.test(a) ? `-${a}` : a)),
      options: { ...options, 'watch-stdin': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    });
    values = parsed.values as Record<string, string | boolean | undefined>;
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const opt = (n: (typeof names)[number]): string | undefined =>
    (values[n] as string | undefined) ?? process.env[`LOOKUP_${n.toUpperCase().replaceAll('-', '_')}`];

  const alloc = oneOf<AllocKind>('alloc', opt('alloc'), ['fresh', 'pool'], 'fresh');
  const lock = oneOf<LockKind>('lock', opt('lock'), ['mutex', 'rwmutex'], 'mutex');
  const pprof = opt('pprof') ?? '0';
  const service = await startLookupService({
    host: opt('host') ?? '127.0.0.1',
    port: intOf('port', opt('port'), 8080),
    alloc,
    lock,
    entries: intOf('entries', opt('entries'), 300_000),
    related: intOf('related', opt('related'), 8),
    popularEvery: intOf('popular-every', opt('popular-every'), 400),
    popularRelated: intOf('popular-related', opt('popular-related'), 1000),
    chunks: intOf('chunks', opt('chunks'), 8),
    refreshMs: intOf('refresh-ms', opt('refresh-ms'), 1000),
    bufferSize: intOf('buffer-kib', opt('buffer-kib'), RESPONSE_BUFFER_SIZE / 1024) * 1024,
  });

  let agent: { url: string; close(): Promise<void> } | null = null;
  if (pprof !== 'off') {
    // Record lock waits from the start, as a Go service calls runtime.SetBlockProfileRate(1).
    setContentionProfiling(true);
    agent = await startAgent({ host: '127.0.0.1', port: intOf('pprof', pprof, 0) });
  }

  let closing = false;
  const shutdown = async (code: number) => {
    if (closing) return;
    closing = true;
    await Promise.allSettled([service.close(), agent?.close()]);
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  if (values['watch-stdin']) {
    process.stdin.on('end', () => void shutdown(0));
    process.stdin.on('error', () => void shutdown(0));
    process.stdin.resume();
  }

  const heapMB = Math.round(process.memoryUsage().heapUsed / 2 ** 20);
  process.stdout.write(
    `lookup ready url=${service.url} pprof=${agent?.url ?? 'off'} alloc=${alloc} lock=${lock} ` +
      `entries=${service.table.size} heapMB=${heapMB} buildMs=${Math.round(service.buildMs)} warmMs=${Math.round(service.warmMs)} pid=${process.pid}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`lookup: ${(err as Error).message}\n`);
  process.exit(1);
});
