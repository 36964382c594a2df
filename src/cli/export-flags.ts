import { openSync, createWriteStream } from 'node:fs';
import { UsageError } from '../errors.js';
import { hlogAttackPlugin } from '../export/hlog.js';
import { parseListenAddress, prometheusAttackPlugin } from '../export/prometheus.js';
import type { AttackExtension } from './attack-extension.js';
import { writeError } from './output.js';

/**
 * The flag adapters of `attack -prometheus-addr` and `attack -hlog`: flags in, library plugins
 * (src/export) out. Both are checked before any load is sent: a busy port, a non-loopback address
 * without a token or an unwritable log path is one line and an exit code, with no attack run.
 */
export const PROMETHEUS_ATTACK_EXTENSION: AttackExtension = {
  flags: [
    {
      name: 'prometheus-addr',
      type: 'string',
      value: 'HOST:PORT',
      help: 'Serve /metrics (Prometheus text; protobuf with native histograms when asked) during the attack, e.g. 127.0.0.1:8880; beyond loopback a token is required',
    },
    { name: 'prometheus-token', type: 'string', value: 'TOKEN', help: 'Token /metrics requires (Bearer or ?token=) (default: $TAILPROBE_PROMETHEUS_TOKEN)' },
    { name: 'prometheus-linger', type: 'duration', default: '0', help: 'Keep serving the final numbers this long after the attack (one scrape interval, so the totals are scraped)' },
  ],
  async create(args, io) {
    const addr = args.string('prometheus-addr');
    if (!addr) {
      for (const f of ['prometheus-token', 'prometheus-linger']) {
        if (args.has(f)) throw new UsageError(`attack: -${f} needs -prometheus-addr=HOST:PORT`);
      }
      return null;
    }
    const { host, port } = parseListenAddress(addr);
    const plugin = await prometheusAttackPlugin({
      host,
      port,
      token: args.string('prometheus-token') || io.env.TAILPROBE_PROMETHEUS_TOKEN || undefined,
      lingerMs: args.number('prometheus-linger') / 1e6,
    });
    io.stderr.write(`tailprobe: attack: prometheus metrics at ${plugin.url}\n`);
    return plugin;
  },
};

export const HLOG_ATTACK_EXTENSION: AttackExtension = {
  flags: [
    { name: 'hlog', type: 'string', value: 'FILE', help: 'Write an HdrHistogram interval log (latency and send lag, one histogram per -hlog-interval)' },
    { name: 'hlog-interval', type: 'duration', default: '1s', help: 'Interval of the -hlog histograms' },
  ],
  create(args) {
    const path = args.string('hlog');
    if (!path) {
      if (args.has('hlog-interval')) throw new UsageError('attack: -hlog-interval needs -hlog=FILE');
      return null;
    }
    const intervalNs = args.number('hlog-interval');
    if (!(intervalNs >= 1e6)) throw new UsageError('attack: -hlog-interval must be at least 1ms');
    let fd: number;
    try {
      fd = openSync(path, 'w');
    } catch (err) {
      // As -output fails to open (src/cli/output.ts): the same line, exit 1.
      throw writeError('attack', path, err as NodeJS.ErrnoException);
    }
    return hlogAttackPlugin({ out: createWriteStream('', { fd }), name: path, intervalMs: intervalNs / 1e6 });
  },
};
