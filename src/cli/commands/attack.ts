import { readFileSync } from 'node:fs';
import { attack, type AttackOptions, type AttackPlugin, defaultWorkers, formatProgress, resolveOptions } from '../../attack/index.js';
import { UsageError } from '../../errors.js';
import { formatDuration } from '../../units/duration.js';
import { constantPacer, linearPacer, parseRate, sinePacer, type BuiltinPacer } from '../../pacer/index.js';
import { createResultWriter, parseResultFormat } from '../../results/index.js';
import { parseHeaderFlag, readTargets, type Target } from '../../targets/index.js';
import type { CliIO, Command } from '../command.js';
import type { FlagSpec, ParsedArgs } from '../flags.js';
import { isExtensionRun, type AttackExtension, type ExtensionRun } from '../attack-extension.js';
import { EXPLAIN_ATTACK_EXTENSION } from '../explain-flags.js';
import { SLO_ATTACK_EXTENSION } from '../slo-flags.js';
import { PROFILE_ATTACK_EXTENSION } from '../profile-flags.js';
import { openOutput } from '../output.js';
import { SHARD_FLAGS, shardOptions } from '../shard-flags.js';
import { HLOG_ATTACK_EXTENSION, PROMETHEUS_ATTACK_EXTENSION } from '../export-flags.js';

export const ATTACK_EXTENSIONS: AttackExtension[] = [
  SLO_ATTACK_EXTENSION,
  PROFILE_ATTACK_EXTENSION,
  EXPLAIN_ATTACK_EXTENSION,
  PROMETHEUS_ATTACK_EXTENSION,
  HLOG_ATTACK_EXTENSION,
];

const FLAGS: FlagSpec[] = [
  { name: 'rate', type: 'string', default: '50/1s', value: 'RATE', help: 'Requests per time unit: 500, 500/1s, 30000/1m; 0 or infinity = max mode (closed loop, like wrk)' },
  { name: 'duration', type: 'duration', default: '0', help: 'Length of the attack, e.g. 60s or 2m [0 = until interrupted]' },
  { name: 'timeout', type: 'duration', default: '30s', help: 'Whole-request timeout, from dispatch to the end of the body [0 = none]' },
  { name: 'targets', type: 'string', value: 'FILE', help: 'Targets file (default: stdin)' },
  { name: 'format', type: 'string', default: 'http', help: 'Targets format: http or json (vegeta\'s)' },
  { name: 'header', type: 'strings', value: '"Name: value"', help: 'Request header added to every target (repeatable)' },
  { name: 'body', type: 'string', value: 'FILE', help: 'Request body file, for targets without their own @body' },
  { name: 'output', type: 'string', default: 'stdout', value: 'FILE', aliases: ['o'], help: 'Results file' },
  { name: 'output-format', type: 'string', default: 'binary', help: 'Results format: binary (tailprobe, keeps send times), json or csv (vegeta\'s)' },
  { name: 'name', type: 'string', help: 'Attack name, stored in every result' },
  { name: 'connections', type: 'int', default: 10, help: 'Connections per target host opened before the start; in max mode, connections kept busy' },
  { name: 'max-connections', type: 'int', default: 0, help: 'Max connections per target host [0 = unlimited, as an open model needs]' },
  { name: 'max-in-flight', type: 'int', default: 0, help: 'Most requests in flight at once; due ones beyond it wait as a count, never a queue (sent late, or counted as never sent at the end) [0 = from the open-file limit, at most 20000]' },
  { name: 'drain', type: 'duration', default: '5s', help: 'After Ctrl-C, how long requests in flight may still take before they are recorded as interrupted' },
  { name: 'workers', type: 'int', default: 0, help: 'Worker threads sharing the schedule [0 = half the cores, at most one per 5000 req/s]' },
  { name: 'keepalive', type: 'bool', default: true, help: 'Reuse connections (-keepalive=false closes each after one request)' },
  { name: 'traceparent', type: 'bool', default: true, help: 'Send a W3C traceparent header with every request (trace id = attack id + seq; a target\'s own is kept)' },
  { name: 'http2', type: 'bool', default: false, help: 'Use HTTP/2 on https targets when the server offers it (ALPN)' },
  { name: 'h2c', type: 'bool', default: false, help: 'HTTP/2 over cleartext (prior knowledge) on http targets' },
  { name: 'pipelining', type: 'int', default: 1, help: 'HTTP/1.1 requests in flight per connection (HTTP/2: streams per connection in max mode)' },
  { name: 'insecure', type: 'bool', default: false, help: 'Skip TLS certificate verification' },
  { name: 'redirects', type: 'int', default: 10, help: 'Redirects to follow [-1 = none, and a 3xx counts as success]' },
  { name: 'max-body', type: 'bytes', default: '0', help: 'Response body bytes kept per result (all are read and counted) [-1 = all]' },
  { name: 'ramp-to', type: 'string', value: 'RATE', help: 'Linear ramp: from -rate to this rate over -ramp-duration' },
  { name: 'ramp-duration', type: 'duration', default: '0', help: 'Length of the ramp [0 = the whole -duration]; the rate holds after it' },
  { name: 'sine-period', type: 'duration', default: '0', help: 'Sine pacer: period of the wave around -rate [0 = off]' },
  { name: 'sine-amp', type: 'string', value: 'RATE', help: 'Sine pacer: amplitude, a rate (at most -rate), e.g. 200/1s' },
  { name: 'quiet', type: 'bool', default: false, aliases: ['q'], help: 'No progress line on stderr' },
];

export const command: Command = {
  spec: {
    name: 'attack',
    summary: 'Send HTTP requests at a constant rate (open model) and record every result',
    usage: '[flags]',
    description: [
      'Reads targets (vegeta http or json format) from stdin or -targets, sends them round-robin on the',
      "pacer's schedule, and streams every result to -output as it completes. Latency counts from each",
      "request's intended send time, so a generator that falls behind shows it instead of hiding the tail.",
    ].join('\n'),
    get flags() {
      return [...FLAGS, ...SHARD_FLAGS, ...ATTACK_EXTENSIONS.flatMap((e) => e.flags)];
    },
    examples: [
      'echo "GET http://127.0.0.1:8080/api/lookup" | tailprobe attack -duration=60s -rate=500 | tailprobe report',
      'tailprobe attack -targets=targets.txt -rate=100 -ramp-to=2000 -duration=2m -output=ramp.bin',
      'tailprobe attack -targets=targets.txt -rate=0 -connections=64 -duration=30s | tailprobe report',
      'tailprobe attack -targets=targets.txt -rate=500 -duration=10m -prometheus-addr=127.0.0.1:8880 -hlog=run.hlog > run.bin',
    ],
  },

  async run(args: ParsedArgs, io: CliIO): Promise<number> {
    const format = parseResultFormat(args.string('output-format'), 'output-format', 'attack');
    const pacer = buildPacer(args);
    let { targets, headers } = await readTargetFlags(args, io);
    if (args.string('body')) targets = withDefaultBody(targets, args.string('body'));

    const stderr = io.stderr as NodeJS.WritableStream & { isTTY?: boolean };
    const live = !args.bool('quiet') && stderr.isTTY === true;
    const perSec = pacer ? pacer.rateAt(0) : null;
    const stop = new AbortController();
    const abandon = new AbortController();
    const base: Partial<AttackOptions> & { targets: Target[] } = {
      targets,
      pacer,
      durationNs: args.number('duration'),
      ...connectionOptions(args),
      maxInFlight: args.number('max-in-flight'),
      drainNs: args.number('drain'),
      // A shard's default workers follow its share of the rate (resolveOptions knows the shard).
      workers: args.number('workers') || (args.string('shard') ? 0 : defaultWorkers(perSec)),
      traceparent: args.bool('traceparent'),
      pipelining: args.number('pipelining'),
      redirects: args.number('redirects'),
      maxBody: args.number('max-body'),
      // vegeta's JSON and CSV results carry the response headers; our binary format keeps them only if asked.
      keepHeaders: format !== 'binary',
      headers,
      ...shardOptions(args),
      signal: stop.signal,
      abandonSignal: abandon.signal,
    };
    resolveOptions(base); // every usage error before the output file is touched

    // After resolveOptions: the extensions act on the world (-hlog truncates its file, -prometheus-addr
    // binds, -explain asks the agent), which a usage error in the attack's own flags must not do.
    const plugins: AttackPlugin[] = [];
    const afterResults: ExtensionRun[] = [];
    for (const ext of ATTACK_EXTENSIONS) {
      const p = await ext.create(args, io);
      if (p && isExtensionRun(p)) {
        plugins.push(p.plugin);
        afterResults.push(p);
      } else if (p) plugins.push(p);
    }

    const output = await openOutput('attack', args.string('output'), io);
    const out = output.stream;
    const writer = createResultWriter(out, format, { end: output.isFile });
    // Nothing measured can be saved any more: stop the attack (the error is reported at the end).
    output.onFailure(() => {
      stop.abort();
      abandon.abort();
    });

    let signals = 0;
    const onSignal = () => {
      signals++;
      const eol = live ? '\r\x1b[K' : '';
      if (signals === 1) {
        // Say what the wait is for: a hanging target holds its requests up to -drain.
        stderr.write(`${eol}tailprobe: attack: stopping: waiting up to ${formatDuration(base.drainNs!)} for the requests in flight (interrupt again to stop now)\n`);
        stop.abort();
      } else if (signals === 2) {
        // Second interrupt: the user will not wait. What is still in flight is recorded as
        // interrupted now, and the run ends as usual (health record, flush).
        stderr.write(`${eol}tailprobe: attack: stopping now: requests still in flight are recorded as interrupted\n`);
        abandon.abort();
        // If even that does not end the run soon, keep what was received and exit.
        setTimeout(() => {
          writer.flush();
          exitOnceWritten(out, 130);
        }, 2000).unref();
      } else {
        writer.flush();
        exitOnceWritten(out, 130);
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    const opts: Partial<AttackOptions> & { targets: Target[] } = {
      ...base,
      onEncoded: (chunk) => writer.writeEncoded(chunk),
      plugins: [{ name: 'results-file', onStart: ({ info }) => writer.writeMeta({ info }) }, ...plugins],
      ...(live ? { onProgress: (p) => stderr.write(`\r${formatProgress(p)}\x1b[K`) } : {}),
    };

    try {
      const out = await attack(opts, (r) => writer.write(r));
      if (live) {
        // The final numbers, on the same line the progress was drawn on.
        const elapsedNs = out.metrics.requests > 0 ? Number(out.metrics.end - out.info.startedAt) : 0;
        stderr.write(`\r${formatProgress({ elapsedNs, metrics: out.metrics, inFlight: 0, sent: out.metrics.requests })}\x1b[K\n`);
      }
      const events = out.meta[0]!.events;
      // The info again: a shard's now says how its start went (RunInfo.shard.clock.firstSendLagNs).
      writer.writeMeta({ info: out.info, health: out.health, ...(events.length ? { events } : {}) });
      await writer.close().catch((err) => {
        throw output.failure() ?? err;
      });
      await output.close();
      for (const o of out.outcomes) for (const m of o.messages ?? []) stderr.write(`${m}\n`);
      for (const a of afterResults) for (const line of await a.afterResults(output.isFile ? args.string('output') : null)) stderr.write(`${line}\n`);
      for (const f of out.failures) stderr.write(`tailprobe: attack: ${f}\n`);
      if (out.metrics.requests === 0 && !stop.signal.aborted) {
        stderr.write('tailprobe: attack: no requests were sent\n');
      }
      const codes = out.outcomes.map((o) => o.exitCode ?? 0);
      if (out.failures.length > 0) codes.push(1);
      return Math.max(0, ...codes);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};

/**
 * attack's definitions of the flags sweep shares with it (-targets, -format, -header, -timeout, the
 * connection flags, -name, -quiet): one definition each, so their spelling and help cannot drift.
 */
export function attackFlags(...names: string[]): FlagSpec[] {
  return names.map((n) => {
    const f = FLAGS.find((x) => x.name === n);
    if (!f) throw new Error(`internal: attack has no flag -${n}`);
    return f;
  });
}

/** -targets, -format and -header, read and checked the same way for attack and sweep. */
export async function readTargetFlags(args: ParsedArgs, io: CliIO): Promise<{ targets: Target[]; headers: Record<string, string[]> }> {
  const format = args.string('format');
  if (format !== 'http' && format !== 'json') {
    throw new UsageError(`${args.command}: invalid value "${format}" for flag -format (want http or json)`);
  }
  const headers: Record<string, string[]> = {};
  for (const h of args.list('header')) {
    const [k, v] = parseHeaderFlag(h);
    (headers[k] ??= []).push(v);
  }
  const targets = await readTargets({ file: args.string('targets') || undefined, format, stdin: io.stdin });
  return { targets, headers };
}

/** The connection flags attack and sweep share, as attack options. */
export function connectionOptions(args: ParsedArgs): Partial<AttackOptions> {
  return {
    timeoutNs: args.number('timeout'),
    connections: args.number('connections'),
    maxConnections: args.number('max-connections'),
    keepalive: args.bool('keepalive'),
    http2: args.bool('http2'),
    h2c: args.bool('h2c'),
    insecure: args.bool('insecure'),
    name: args.string('name'),
  };
}

/** -rate, with -ramp-to (linear) or -sine-period/-sine-amp (sine); null = max mode. */
export function buildPacer(args: ParsedArgs): BuiltinPacer | null {
  const rate = parseRate(args.string('rate'), 'rate');
  const rampTo = args.string('ramp-to');
  const sinePeriod = args.number('sine-period');
  if (rampTo && sinePeriod > 0) throw new UsageError('attack: -ramp-to and -sine-period are two different pacers: choose one');
  if (rate === 0) {
    if (rampTo || sinePeriod > 0) throw new UsageError('attack: max mode (-rate=0) has no schedule to ramp or wave');
    if (args.number('duration') === 0) throw new UsageError('attack: max mode (-rate=0) needs a -duration');
    return null;
  }
  if (rampTo) {
    const to = parseRate(rampTo, 'ramp-to');
    if (to === 0) throw new UsageError('attack: -ramp-to must be a rate, not max mode');
    const rampNs = args.number('ramp-duration') || args.number('duration');
    if (rampNs <= 0) throw new UsageError('attack: -ramp-to needs -duration or -ramp-duration');
    return linearPacer(rate, to, rampNs);
  }
  if (sinePeriod > 0) {
    if (!args.string('sine-amp')) throw new UsageError('attack: -sine-period needs -sine-amp');
    return sinePacer(rate, parseRate(args.string('sine-amp'), 'sine-amp'), sinePeriod);
  }
  if (args.string('sine-amp')) throw new UsageError('attack: -sine-amp needs -sine-period');
  return constantPacer(rate);
}

function withDefaultBody(targets: Target[], file: string): Target[] {
  let body: Uint8Array;
  try {
    body = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`attack: cannot read -body "${file}": ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  return targets.map((t) => (t.body ? t : { ...t, body }));
}

/** Exits when `out` has nothing left queued, or after `capMs` whatever it still holds. */
function exitOnceWritten(out: NodeJS.WritableStream, code: number, capMs = 1000): void {
  const queued = () => (out as NodeJS.WritableStream & { writableLength?: number }).writableLength ?? 0;
  if (queued() === 0) process.exit(code);
  setInterval(() => queued() === 0 && process.exit(code), 5);
  setTimeout(() => process.exit(code), capMs);
}
