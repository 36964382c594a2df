import type { AttackPlugin } from '../attack/plugin.js';
import { everyInterval, RollingWindow } from '../metrics/window.js';
import { HlogWriter } from '../metrics/hlog.js';
import { wallClockNs } from '../time/wall.js';

/**
 * `attack -hlog=FILE`: an HdrHistogram interval log written while the attack runs, one latency
 * histogram (and one send-lag histogram) per `intervalMs`, from the attack's rolling window
 * (src/metrics/window.ts). A result belongs to the interval in which the attack recorded it (on
 * completion; with worker threads, within their 100 ms flush). The last, partial interval and the
 * totals line are written at the end.
 *
 * A failing log (disk full, closed stream) stops the log, never the attack: the results file is
 * written as usual and the failure is reported at the end (exit 1).
 */
export interface HlogPluginOptions {
  /** Where the log goes (a file stream the caller opened: an unwritable path fails before the attack). */
  out: NodeJS.WritableStream;
  /** Name for messages (the path). */
  name: string;
  /** Interval length, ms (default 1000). */
  intervalMs?: number;
}

export function hlogAttackPlugin(opts: HlogPluginOptions): AttackPlugin {
  let failure: string | null = null;
  opts.out.on('error', (e: NodeJS.ErrnoException) => {
    failure ??= e.code ?? e.message;
  });
  const write = (text: string) => {
    if (failure === null) opts.out.write(text);
  };
  let writer: HlogWriter | null = null;
  let window: RollingWindow | null = null;
  let startNs = 0n;
  let ticker: ReturnType<typeof everyInterval> | null = null;
  let pending: NodeJS.Timeout | null = null;
  return {
    name: 'hlog',
    onStart({ info, live }) {
      if (!live) return;
      writer = new HlogWriter(write, {
        startNs: info.startedAt,
        comment: `tailprobe ${info.version} attack${info.name ? ` "${info.name}"` : ''}, ${info.pacer}: latency in µs from the scheduled send time; Tag=send-lag: send lag in µs`,
      });
      const w = writer;
      const win = new RollingWindow(live().metrics, info.startedAt);
      window = win;
      startNs = info.startedAt;
      // Intervals count from the schedule's start, which may still be ahead (a -start-at shard is
      // ready up to 3 s early): tick from there, or the first interval would end before it starts
      // (a negative length) and the next ones would have negative timestamps.
      const tick = () => {
        pending = null;
        ticker = everyInterval(win, opts.intervalMs ?? 1000, wallClockNs, (iv) => w.interval(iv));
      };
      const leadMs = Number(info.startedAt - wallClockNs()) / 1e6;
      if (leadMs > 0) {
        pending = setTimeout(tick, leadMs);
        pending.unref();
      } else tick();
    },
    async onEnd(run) {
      if (writer) {
        try {
          if (pending) clearTimeout(pending);
          if (ticker) ticker.stop(true);
          else if (wallClockNs() > startNs) writer.interval(window!.cut(wallClockNs())); // ended before the first tick
          writer.totals(run.metrics, { info: run.info, health: run.health });
        } catch (e) {
          failure ??= (e as Error).message;
        }
      }
      await new Promise<void>((resolve) => {
        if (failure !== null) return resolve();
        opts.out.once('error', () => resolve());
        opts.out.end(() => resolve());
      });
      if (failure !== null) {
        return { messages: [`tailprobe: attack: -hlog ${opts.name}: ${failure} (the log is incomplete; the results are not affected)`], exitCode: 1 };
      }
      return;
    },
  };
}
