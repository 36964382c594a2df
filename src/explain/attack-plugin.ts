import type { AttackPlugin } from '../attack/plugin.js';
import { profileWindow } from '../profile/during-attack.js';
import { fetchAgentCpuSamples } from '../profile/records-fetch.js';
import { fetchProfile, pprofBase } from '../profile/fetch.js';
import { cpuSamplesFromLabeledProfile } from './labeled-cpu.js';
import { wallClockNs } from '../time/wall.js';
import { fetchCapture, writeCapture, type AgentCapture, type CpuSamples } from './capture.js';

/**
 * `attack -explain=URL`: capture what the service's agent records while the attack runs, so the
 * run can be explained at once or later (`tailprobe explain RESULTS -capture=FILE`). During the
 * steady part of the attack (the window `-profile` uses) it takes CPU samples with their times, the
 * one thing that cannot be fetched afterwards; at the end it fetches the request records, GC pauses
 * and stalls of the attack's window and saves them to `captureFile`. It joins the attack as a
 * plugin: the engine knows nothing of it, and a failure here never costs the attack's results.
 */

export interface ExplainPluginOptions {
  url: string;
  token?: string;
  captureFile: string;
  /**
   * CPU during the steady window: 'samples', the Node agent's timed samples (/debug/tailprobe/cpu);
   * 'labels', a Go CPU profile whose samples carry the request's trace id (pprof labels); 'none'
   * (another CPU profile will run on the service: one at a time).
   */
  cpu: 'samples' | 'labels' | 'none';
}

/** The service's CPU over the next `seconds`, as explain reads it (see ExplainPluginOptions.cpu). */
async function cpuWindow(opts: ExplainPluginOptions, seconds: number): Promise<CpuSamples> {
  if (opts.cpu === 'samples') return fetchAgentCpuSamples(opts.url, seconds, opts.token);
  const start = wallClockNs();
  const { profile } = await fetchProfile(`${pprofBase(opts.url)}profile?seconds=${seconds}`, { token: opts.token, timeoutMs: (seconds + 30) * 1000 });
  return cpuSamplesFromLabeledProfile(profile, start, wallClockNs());
}

/** Margin around the attack's window (the agent's clock may be off; explain estimates by how much). */
const MARGIN_NS = 10_000_000_000n;

export function explainAttackPlugin(opts: ExplainPluginOptions): { plugin: AttackPlugin; captured: () => AgentCapture | null } {
  let captured: AgentCapture | null = null;
  let startedAt = 0n;
  let cpu: Promise<CpuSamples | Error | null> = Promise.resolve(null);
  const plugin: AttackPlugin = {
    name: 'explain',
    onStart({ info, signal }) {
      startedAt = info.startedAt;
      if (opts.cpu === 'none') return;
      const w = profileWindow(info.duration);
      cpu = new Promise<void>((resolve) => {
        const t = setTimeout(resolve, w.delayMs);
        signal.addEventListener('abort', () => {
          clearTimeout(t);
          resolve();
        }, { once: true });
      }).then(() => (signal.aborted ? null : cpuWindow(opts, w.seconds).catch((err: Error) => err)));
    },
    async onEnd() {
      const messages: string[] = [];
      const samples = await cpu;
      if (samples instanceof Error) messages.push(`tailprobe: explain: CPU samples: ${samples.message}`);
      try {
        captured = await fetchCapture(opts.url, startedAt - MARGIN_NS, wallClockNs() + MARGIN_NS, {
          token: opts.token,
          cpu: samples instanceof Error ? null : samples,
        });
        await writeCapture(opts.captureFile, captured);
        messages.push(`explain: the agent's records -> ${opts.captureFile} (${captured.requests?.length ?? 0} requests, ${captured.gc.length} GC pauses${captured.cpu ? `, ${captured.cpu.samples.length} CPU samples` : ''})`);
      } catch (err) {
        messages.push(`tailprobe: explain: ${(err as Error).message}`);
        return { messages, exitCode: 1 };
      }
      return { messages };
    },
  };
  return { plugin, captured: () => captured };
}
