import type { Profile } from 'pprof-format';
import { forEachStack } from '../profile/top.js';
import type { CpuSamples } from './capture.js';

/**
 * A Go CPU profile whose samples carry the `tailprobe_trace_id` pprof label (the Go middleware
 * runs each traced request under it) as the CPU samples explain reads. Go's CPU profile has no
 * per-sample times, but it says something better: which request each sample was taken for. So
 * "what ran during the slow requests" is the samples labelled with a slow request's trace id,
 * where a Node agent's answer is the samples timed inside a slow request's window.
 */
export const TRACE_LABEL = 'tailprobe_trace_id';

export function cpuSamplesFromLabeledProfile(p: Profile, startNs: bigint, endNs: bigint): CpuSamples {
  const frames: CpuSamples['frames'] = [];
  const frameIndex = new Map<string, number>();
  const stacks: number[][] = [];
  const stackIndex = new Map<string, number>();
  const samples: CpuSamples['samples'] = [];
  // Sample type 0 of a Go CPU profile is the count of samples ("samples/count").
  forEachStack(p, 0, (stack, value, labels) => {
    const ids = stack.map((f) => {
      let i = frameIndex.get(f.key);
      if (i === undefined) {
        i = frames.length;
        frames.push({ name: f.name, file: f.file, line: 0 });
        frameIndex.set(f.key, i);
      }
      return i;
    });
    const key = ids.join(',');
    let s = stackIndex.get(key);
    if (s === undefined) {
      s = stacks.length;
      stacks.push(ids);
      stackIndex.set(key, s);
    }
    samples.push({ t: 0n, stack: s, trace: labels.get(TRACE_LABEL) ?? '', weight: value });
  });
  const period = Number(p.period ?? 0);
  return { intervalNs: period > 0 ? period : 10_000_000, start: startNs, end: endNs, frames, stacks, samples };
}
