import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { authorize, checkBind, type Guard } from '../agent/security.js';
import type { AttackProgress } from '../attack/options.js';
import type { AttackPlugin } from '../attack/plugin.js';
import { RuntimeError, UsageError } from '../errors.js';
import { everyInterval, RollingWindow, type WindowInterval } from '../metrics/window.js';
import type { RunInfo } from '../results/result.js';
import { wallClockNs } from '../time/wall.js';
import { Exposition, PROTOBUF_CONTENT_TYPE, TEXT_CONTENT_TYPE, wantsProtobuf } from './exposition.js';

/**
 * `/metrics` during an attack, in Prometheus' text exposition: what the run has measured so far,
 * from the same Metrics the report prints (cumulative counters and HDR-derived histograms, so
 * `rate()` and `histogram_quantile()` work over any range Prometheus chooses), plus gauges over
 * the last rolling-window interval (src/metrics/window.ts) for a glance without PromQL.
 *
 * Safe by default like the agent (src/agent/security.ts, the same code): a loopback listener
 * answers loopback clients only; any other address needs a token (Bearer or ?token=).
 * A client that asks for the protobuf exposition in `Accept` (a Prometheus scraping native
 * histograms) gets it, with native histograms (schema 5) beside the classic buckets.
 */
export interface PrometheusOptions {
  /** Listener host (default 127.0.0.1). Anything but loopback needs `token`. */
  host?: string;
  /** Listener port (default 8880, vegeta's; 0 = any free port). */
  port?: number;
  token?: string;
  /** The rolling window's interval for the *_window gauges, ms (default 1000). */
  windowMs?: number;
  /**
   * Keep answering this long after the attack ends (with its final numbers), ms (default 0).
   * attack() does not wait for it (the run's other outputs are finished at once, so an interrupt
   * during the linger loses nothing); a timer keeps the process alive until the listener closes.
   */
  lingerMs?: number;
}

export const PROMETHEUS_GUARD: Guard = {
  who: 'tailprobe attack: prometheus',
  exposes: 'the attack\'s metrics',
  tokenHint: 'Set -prometheus-token (or TAILPROBE_PROMETHEUS_TOKEN)',
  tokenVar: 'TAILPROBE_PROMETHEUS_TOKEN',
};

/** Distinct error texts exported as labels; the rest are summed under error="(other)". */
const MAX_ERROR_LABELS = 50;

export interface PrometheusPlugin extends AttackPlugin {
  /** http://host:port/metrics */
  url: string;
  /** Stops the listener (onEnd has it done lingerMs after the end). */
  close(): Promise<void>;
}

/** Parses `host:port`, `[v6]:port` or `:port` (all interfaces). */
export function parseListenAddress(addr: string, flag = 'prometheus-addr'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new UsageError(`attack: invalid value "${addr}" for flag -${flag} (want HOST:PORT, e.g. 127.0.0.1:8880)`);
  }
  return { host: m[1] ?? m[2] ?? '', port };
}

/**
 * Binds the listener (so a busy port or a refused address fails before any load is sent) and
 * returns the plugin that feeds it during the attack.
 */
export async function prometheusAttackPlugin(opts: PrometheusOptions = {}): Promise<PrometheusPlugin> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 8880;
  const token = opts.token || undefined;
  try {
    checkBind(host, port, token, PROMETHEUS_GUARD);
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^tailprobe /, ''));
  }
  const windowMs = opts.windowMs ?? 1000;

  let state: 'waiting' | 'running' | 'ended' = 'waiting';
  let info: RunInfo | null = null;
  let live: (() => AttackProgress) | null = null;
  let finalProgress: AttackProgress | null = null;
  let window: RollingWindow | null = null;
  let ticker: { stop(final?: boolean): WindowInterval | null } | null = null;
  let last: { iv: WindowInterval; sent: number; scheduled: number | undefined; loopP99: number; loopMax: number } | null = null;
  let prevSent = 0;
  let prevScheduled: number | undefined = 0;
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const cpu0 = process.cpuUsage();

  const render = (): Exposition => {
    const e = new Exposition();
    e.gauge('tailprobe_attack_running', 'Whether the attack is sending (1), over (0, final numbers), or not started (0).', state === 'running' ? 1 : 0);
    const cpu = process.cpuUsage(cpu0);
    e.counter('tailprobe_generator_cpu_seconds_total', 'CPU time of the tailprobe process (all threads) since the exporter started.', (cpu.user + cpu.system) / 1e6);
    if (!info || !live) return e;
    const p: AttackProgress = finalProgress ?? live();
    const m = p.metrics;
    e.gauge('tailprobe_attack_info', 'The attack (value 1): its name, pacer and tailprobe version.', [[{ name: info.name, pacer: info.pacer, version: info.version }, 1]]);
    e.gauge('tailprobe_attack_start_time_seconds', 'When the schedule started, seconds since the epoch.', Number(info.startedAt / 1000n) / 1e6);
    e.gauge('tailprobe_attack_planned_duration_seconds', 'Length of the schedule (0: until interrupted).', info.duration / 1e9);
    e.gauge('tailprobe_rate_asked_mean', 'Mean rate the pacer asks for over the whole schedule, requests/s (0: max mode).', info.rate);
    if (p.scheduled !== undefined) {
      e.counter('tailprobe_requests_scheduled_total', 'Requests the schedule asked for by now: rate() of it is the asked rate.', p.scheduled);
    }
    e.counter('tailprobe_requests_sent_total', 'Requests handed to the connections: rate() of it is the achieved rate.', p.sent);
    e.gauge('tailprobe_requests_in_flight', 'Requests sent and not yet answered.', p.inFlight);
    e.counter('tailprobe_requests_total', 'Results recorded, by HTTP status code (0: no response).', [...m.statusCodes].sort((a, b) => a[0] - b[0]).map(([c, n]) => [{ code: String(c) }, n]));
    e.counter('tailprobe_requests_success_total', 'Results that succeeded (2xx, or 3xx with redirects off).', m.successes);
    const errs: Array<[Record<string, string>, number]> = [];
    let other = m.otherErrors;
    for (const [text, n] of m.errors) {
      if (errs.length < MAX_ERROR_LABELS) errs.push([{ error: text }, n]);
      else other += n;
    }
    if (other > 0) errs.push([{ error: '(other)' }, other]);
    e.counter('tailprobe_request_errors_total', `Results with an error, by error text (the first ${MAX_ERROR_LABELS} kinds; the rest as "(other)").`, errs);
    e.counter('tailprobe_late_sends_total', 'Requests the generator sent more than 1 ms after their scheduled time.', m.lateSends);
    e.counter('tailprobe_response_bytes_total', 'Response body bytes received.', m.bytesIn);
    e.counter('tailprobe_request_bytes_total', 'Request body bytes sent.', m.bytesOut);
    e.histogram('tailprobe_latency_seconds', 'Latency from the scheduled send time to the end of the response (coordinated omission included).', m.latency);
    e.histogram('tailprobe_send_lag_seconds', 'How late each request was sent after its scheduled time (the generator keeping up).', m.sendLag);
    if (last) {
      const secs = Number(last.iv.endNs - last.iv.startNs) / 1e9;
      const per = (n: number) => (secs > 0 ? n / secs : 0);
      e.gauge('tailprobe_window_seconds', 'Length of the last rolling-window interval the *_window gauges describe.', secs);
      if (last.scheduled !== undefined) e.gauge('tailprobe_window_rate_asked', 'Requests/s the schedule asked for in the last interval.', per(last.scheduled));
      e.gauge('tailprobe_window_rate_achieved', 'Requests/s sent in the last interval.', per(last.sent));
      e.gauge('tailprobe_window_rate_completed', 'Results/s recorded in the last interval.', per(last.iv.requests));
      e.gauge('tailprobe_window_latency_p99_seconds', 'p99 latency of the results recorded in the last interval.', last.iv.latency.percentile(99) / 1e9);
      e.gauge('tailprobe_generator_event_loop_delay_p99_seconds', 'p99 event-loop delay of the attack\'s main thread in the last interval.', last.loopP99);
      e.gauge('tailprobe_generator_event_loop_delay_max_seconds', 'Largest event-loop delay of the attack\'s main thread in the last interval.', last.loopMax);
    }
    return e;
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const verdict = authorize(req, url, token, PROMETHEUS_GUARD);
    if (!verdict.ok) {
      res.writeHead(verdict.status, { 'content-type': 'text/plain; charset=utf-8' }).end(`${verdict.message}\n`);
      return;
    }
    if (url.pathname !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('tailprobe: only /metrics here\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const proto = wantsProtobuf(req.headers.accept);
    let body: string | Uint8Array;
    try {
      const e = render();
      body = proto ? e.protobuf() : e.text();
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`tailprobe: ${(err as Error).message}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': proto ? PROTOBUF_CONTENT_TYPE : TEXT_CONTENT_TYPE, vary: 'Accept' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  const server: Server = createServer(handle);
  server.keepAliveTimeout = 65_000; // longer than Prometheus' scrape interval: one connection per target
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
      reject(
        e.code === 'EADDRINUSE'
          ? new RuntimeError(`attack: prometheus: ${where} is already in use (choose another -prometheus-addr, or port 0 for any free one)`)
          : new RuntimeError(`attack: prometheus: cannot listen on ${where}: ${e.code ?? e.message}`),
      );
    });
    server.listen(port, host || undefined, () => resolve());
  });
  server.on('error', () => {}); // after listening, a failing exporter never takes the attack down
  server.unref(); // the attack keeps the process alive, not its exporter (nor after a usage error)
  const bound = server.address() as AddressInfo;
  const shownHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  let lingering: NodeJS.Timeout | null = null;
  const close = () =>
    new Promise<void>((resolve) => {
      if (lingering) clearTimeout(lingering);
      lingering = null;
      loop.disable();
      ticker?.stop();
      server.close(() => resolve());
      server.closeAllConnections();
    });

  return {
    name: 'prometheus',
    url: `http://${shownHost}:${bound.port}/metrics`,
    close,
    onStart(ctx) {
      info = ctx.info;
      live = ctx.live ?? null;
      if (!live) return;
      const liveNow = live;
      state = 'running';
      loop.enable();
      window = new RollingWindow(liveNow().metrics, wallClockNs());
      ticker = everyInterval(window, windowMs, wallClockNs, (iv) => {
        const p = liveNow();
        last = {
          iv,
          sent: p.sent - prevSent,
          scheduled: p.scheduled === undefined || prevScheduled === undefined ? undefined : p.scheduled - prevScheduled,
          loopP99: loop.count > 0 ? loop.percentile(99) / 1e9 : 0,
          loopMax: loop.count > 0 ? loop.max / 1e9 : 0,
        };
        prevSent = p.sent;
        prevScheduled = p.scheduled;
        loop.reset();
      });
    },
    async onEnd(run) {
      ticker?.stop();
      // The final numbers: the run's Metrics, and the last sent/scheduled counts (live() is valid in onEnd).
      const p = live?.();
      finalProgress = { elapsedNs: p?.elapsedNs ?? 0, metrics: run.metrics, inFlight: 0, sent: p?.sent ?? run.metrics.requests, scheduled: p?.scheduled };
      state = 'ended';
      // Linger without holding the attack up: awaiting it here kept the results file and the -hlog
      // open for the whole linger (the other plugins' onEnd and the CLI's close come after this
      // one), and a Ctrl-C during it ended the process with the log's last interval and totals,
      // and the results' health record, never written.
      if (opts.lingerMs && opts.lingerMs > 0) lingering = setTimeout(() => void close(), opts.lingerMs);
      else await close();
    },
  };
}
