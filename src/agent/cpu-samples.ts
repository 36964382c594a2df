import type { CpuFrameJson, CpuSamplesJson } from '../profile/records.js';
import { RECORDS_FORMAT } from '../profile/records.js';
import { v8Frame, type V8CpuProfile } from '../profile/v8.js';
import { perfToWallNs } from '../time/wall.js';
import { captureV8CpuProfile, type CpuCaptureOptions, type V8CpuCapture } from './profilers.js';

/**
 * /debug/tailprobe/cpu: a CPU profile whose samples keep their times (docs/records-format.md), so
 * `explain` can say what ran while a slow request waited.
 *
 * V8 stamps samples on its monotonic clock (µs): `startTime` plus the running sum of `timeDeltas`.
 * On Linux and macOS that is the clock libuv's hrtime (and so performance.now()) reads, so a
 * sample's wall-clock time is exact: µs * 1000 - (hrtime at performance.now() = 0), on to
 * perfToWallNs. If V8's start does not land within a few ms of when we asked it to start (another
 * platform, another clock), the samples are anchored at our own wall clock just before
 * Profiler.start instead (exact in spacing, off by the start-up latency, well under a ms).
 */

const PSEUDO = new Set(['(root)']);

function frameOf(cf: V8CpuProfile['nodes'][number]['callFrame']): CpuFrameJson {
  if (cf.functionName.startsWith('(') && !cf.url) return { name: cf.functionName, file: '', line: 0 };
  const f = v8Frame(cf);
  return { name: f.name, file: f.file, line: f.line };
}

/** Converts a capture to the records format's cpu JSON. */
export function cpuSamplesJson(c: V8CpuCapture): CpuSamplesJson {
  const p = c.profile as unknown as V8CpuProfile;
  // µs on V8's clock -> performance.now() ms, if the clocks agree (see above).
  const mapped = (p.startTime * 1000 - c.hrOriginNs) / 1e6;
  const sameClock = mapped >= c.startPerfMs[0] - 5 && mapped <= c.startPerfMs[1] + 5;
  const toWall = sameClock
    ? (us: number) => perfToWallNs((us * 1000 - c.hrOriginNs) / 1e6)
    : (us: number) => c.startWallNs + BigInt(Math.round((us - p.startTime) * 1000));

  const parent = new Map<number, number>();
  const nodes = new Map<number, V8CpuProfile['nodes'][number]>();
  for (const n of p.nodes) {
    nodes.set(n.id, n);
    for (const ch of n.children ?? []) parent.set(ch, n.id);
    if (n.parent !== undefined) parent.set(n.id, n.parent);
  }
  const frames: CpuFrameJson[] = [];
  const frameIndex = new Map<string, number>();
  const frameOfNode = (id: number): number => {
    const cf = nodes.get(id)!.callFrame;
    const f = frameOf(cf);
    const key = `${f.name}\0${f.file}\0${f.line}`;
    let k = frameIndex.get(key);
    if (k === undefined) {
      k = frames.length;
      frames.push(f);
      frameIndex.set(key, k);
    }
    return k;
  };
  const stacks: number[][] = [];
  const stackOfNode = new Map<number, number>();
  const stackOf = (leaf: number): number => {
    let s = stackOfNode.get(leaf);
    if (s !== undefined) return s;
    const st: number[] = [];
    for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
      if (PSEUDO.has(nodes.get(id)?.callFrame.functionName ?? '(root)')) continue;
      st.push(frameOfNode(id));
    }
    s = stacks.length;
    stacks.push(st);
    stackOfNode.set(leaf, s);
    return s;
  };
  const samples: CpuSamplesJson['samples'] = [];
  const ids = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  let t = p.startTime;
  for (let k = 0; k < ids.length; k++) {
    t += deltas[k] ?? 0;
    if (!nodes.has(ids[k]!)) continue;
    samples.push({ t: toWall(t).toString(), stack: stackOf(ids[k]!) });
  }
  return {
    format: RECORDS_FORMAT,
    start: toWall(p.startTime).toString(),
    end: toWall(p.endTime).toString(),
    intervalNs: c.intervalUs * 1000,
    frames,
    stacks,
    samples,
  };
}

/** Samples the JS thread for `seconds` (one CPU profile at a time, as /debug/pprof/profile). */
export async function captureCpuSamples(opts: CpuCaptureOptions): Promise<CpuSamplesJson> {
  return cpuSamplesJson(await captureV8CpuProfile(opts));
}
