import { wallClockNs } from '../time/wall.js';
import type { AttackPlugin } from '../attack/plugin.js';
import type { RunEvent } from '../results/result.js';
import { attackEvents, profileDuringAttack, summarizeEvents, type DuringAttackResult } from './during-attack.js';
import type { ProfileType, ServerInfo } from './fetch.js';
import { headline } from './summary.js';

/**
 * `tailprobe attack -profile=URL -profile-types=cpu,heap,block`: reproducing and profiling in one
 * command (the flags are read in src/cli/profile-flags.ts). Joins the attack as a plugin
 * (src/attack/plugin.ts): the service is probed before any load is sent (a wrong URL fails at
 * once), the capture runs during the steady part of the attack, and at the end the agent's GC pauses and event-loop stalls go into the results file as RunEvents.
 */

export interface ProfilePluginOptions {
  url: string;
  types: ProfileType[];
  outDir: string;
  token?: string;
  /** The probed server (probe first, before the load starts). */
  server: ServerInfo;
  log?: (line: string) => void;
}

export function profileAttackPlugin(opts: ProfilePluginOptions): AttackPlugin {
  let capture: Promise<{ done: Promise<DuringAttackResult> }> | null = null;
  let startedAt = 0n;
  return {
    name: 'profile',
    onStart({ info, signal }) {
      startedAt = info.startedAt;
      // The attack aborts `signal` whenever it ends. At its scheduled end the capture (which should be
      // over, or about to be) is left to finish; an attack that ended early was interrupted, and the
      // rest of the window would profile a service no longer under load: that capture is cancelled.
      const cancel = new AbortController();
      const scheduledEnd = info.duration > 0 ? info.startedAt + BigInt(Math.round(info.duration)) - 100_000_000n : null;
      signal.addEventListener('abort', () => {
        if (scheduledEnd === null || wallClockNs() < scheduledEnd) cancel.abort();
      }, { once: true });
      capture = profileDuringAttack({ ...opts, durationNs: info.duration, signal: cancel.signal });
      // Not awaited: the capture runs alongside the load; onEnd collects it.
      capture.catch(() => {});
    },
    async onEnd() {
      const messages: string[] = [];
      let result: DuringAttackResult | null = null;
      try {
        result = capture ? await (await capture).done : null;
      } catch (err) {
        messages.push(`tailprobe: profile: ${(err as Error).message}`);
      }
      for (const c of result?.captured ?? []) messages.push(`profile: ${c.type} -> ${c.file}: ${headline(c.profile, c.type)}`);
      for (const f of result?.failures ?? []) messages.push(`tailprobe: profile: ${f.message}`);
      let events: RunEvent[] = [];
      if (opts.server.kind === 'agent') {
        try {
          events = await attackEvents(opts.url, opts.server, startedAt, wallClockNs(), opts.token);
          messages.push(summarizeEvents(events));
        } catch (err) {
          messages.push(`tailprobe: profile: ${(err as Error).message}`);
        }
      }
      const failed = (result?.failures.length ?? 0) > 0 || result === null;
      return { meta: events.length ? { events } : undefined, messages, exitCode: failed ? 1 : 0 };
    },
  };
}
