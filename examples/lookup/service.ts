import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { keyOf, LookupTable, type LockKind, type TableOptions } from './table.js';
import { PooledRenderer, renderFresh, RESPONSE_BUFFER_SIZE, type AllocKind, type Rendered } from './render.js';
import type { LookupView } from './table.js';

/**
 * The lookup service: `GET /api/lookup?key=k0000042` answers with the entry and a summary of its
 * related entries, read from the shared table and assembled in a byte buffer. Two switches select
 * the story's faults or their fixes:
 *
 *   alloc=fresh  a fresh buffer and a pile of intermediate objects per request (fault)
 *   alloc=pool   a pooled buffer from tailprobe/sync's BufferPool (fix)
 *   lock=mutex   every read of the table queues on one Mutex held across awaits (fault)
 *   lock=rwmutex readers share an RWMutex; only the rare writer is exclusive (fix)
 *
 * Nothing here sleeps or fakes latency: what the tail is made of is the garbage collector and the
 * queue on the lock, and a profiler can see both.
 */
export interface LookupServiceOptions extends TableOptions {
  alloc?: AllocKind;
  host?: string;
  /** 0 = any free port. */
  port?: number;
  /** The writer refreshes the table this often (ms; default 1000; 0 = never). */
  refreshMs?: number;
  /** Entries replaced per refresh (default 0.1% of the table). */
  refreshCount?: number;
  /** Capacity of each response buffer, bytes (default RESPONSE_BUFFER_SIZE, 1 MiB). */
  bufferSize?: number;
  /** Run the request path in-process before listening, so the first requests meet compiled code (default true). */
  warmup?: boolean;
}

export interface LookupService {
  url: string;
  port: number;
  server: Server;
  table: LookupTable;
  alloc: AllocKind;
  lock: LockKind;
  /** Requests answered, by status. */
  stats: { ok: number; notFound: number; bad: number };
  /** Time to build the table and to warm the request path up, ms. */
  buildMs: number;
  warmMs: number;
  close(): Promise<void>;
}

export async function startLookupService(opts: LookupServiceOptions = {}): Promise<LookupService> {
  const alloc = opts.alloc ?? 'fresh';
  const t0 = performance.now();
  const table = new LookupTable(opts);
  const buildMs = performance.now() - t0;
  const bufferSize = opts.bufferSize ?? RESPONSE_BUFFER_SIZE;
  const pooled = alloc === 'pool' ? new PooledRenderer(bufferSize) : null;
  const render: (v: LookupView) => Rendered = pooled ? (v) => pooled.render(v) : (v) => renderFresh(v, bufferSize);
  const stats = { ok: 0, notFound: 0, bad: 0 };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/';
    if (url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (!url.startsWith('/api/lookup') || req.method !== 'GET') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const key = queryKey(url);
    if (key === '') {
      stats.bad++;
      res.writeHead(400, { 'content-type': 'text/plain' }).end('missing ?key=\n');
      return;
    }
    const view = await table.lookup(key);
    if (view === undefined) {
      stats.notFound++;
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no such key\n');
      return;
    }
    const out = render(view);
    stats.ok++;
    // The buffer goes back to the pool only when the response is done with it ('close' comes after
    // the bytes are flushed, or after the socket died and dropped them).
    if (pooled) res.once('close', out.release);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': out.body.length });
    res.end(out.body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`internal error: ${(err as Error).message}\n`);
    });
  });
  server.keepAliveTimeout = 60_000;

  const refreshMs = opts.refreshMs ?? 1000;
  const refreshCount = opts.refreshCount ?? Math.max(1, Math.floor(table.size / 1000));
  const writer = refreshMs > 0 ? setInterval(() => void table.refresh(refreshCount), refreshMs) : null;
  writer?.unref();

  const t1 = performance.now();
  if (opts.warmup !== false) await warmUp(table, render);
  const warmMs = performance.now() - t1;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    server,
    table,
    alloc,
    lock: table.lockKind,
    stats,
    buildMs,
    warmMs,
    close: () =>
      new Promise<void>((resolve) => {
        if (writer) clearInterval(writer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Before taking traffic, run lookups and renders in-process until V8 has compiled the hot path:
 * a cold service is several times slower for its first thousands of requests, and that is not
 * the tail we are here to study.
 */
async function warmUp(table: LookupTable, render: (v: LookupView) => Rendered): Promise<void> {
  const keys = Math.min(table.size, 100);
  const views = await Promise.all(Array.from({ length: keys }, (_, i) => table.lookup(keyOf((i * 7919) % table.size))));
  for (let round = 0; round < 4; round++) {
    for (const v of views) if (v !== undefined) render(v).release();
  }
}

/** The `key` query parameter (keys are plain ASCII, so no decoding is needed). */
export function queryKey(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return '';
  let i = url.indexOf('key=', q + 1);
  while (i > 0 && url[i - 1] !== '?' && url[i - 1] !== '&') i = url.indexOf('key=', i + 1);
  if (i < 0) return '';
  const end = url.indexOf('&', i);
  return url.slice(i + 4, end < 0 ? url.length : end);
}
