/**
 * Summaries of V8 .cpuprofile files (what `node --cpu-prof` writes), to say where an attack's CPU goes:
 * the top functions by self time (like `go tool pprof -top`) and the share of each part of the
 * stack (tailprobe's own modules by folder, undici, Node internals, GC, idle).
 */
export interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
    hitCount?: number;
    children?: number[];
  }>;
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface FrameCost {
  /** "functionName file:line" with the file relative to the repository or package. */
  frame: string;
  /** Where the frame lives: "tailprobe/attack", "undici", "node:net", "gc", ... */
  part: string;
  /** µs of CPU with the frame on top of the stack. */
  self: number;
  /** µs with the frame anywhere on the stack (counted once per sample even under recursion). */
  cum: number;
}

export interface ProfileSummary {
  /** Profile length, µs. */
  totalUs: number;
  /** µs not idle. */
  busyUs: number;
  top: FrameCost[];
  /** Self time by part, µs, largest first. */
  parts: Array<{ part: string; self: number }>;
}

/** Where a frame's code lives, from its URL (file:///.../dist/src/attack/x.js -> tailprobe/attack). */
export function partOf(url: string, functionName: string): string {
  if (url === '') {
    if (functionName === '(garbage collector)') return 'gc';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'v8 (program)';
    if (functionName === '(root)') return 'root';
    return 'native';
  }
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1]!;
  const ours = /\/dist\/(src|bench)\/([^/]+)\//.exec(url);
  if (ours) return ours[1] === 'src' ? `tailprobe/${ours[2]}` : 'bench';
  if (/\/dist\/src\/[^/]+\.js$/.test(url)) return 'tailprobe';
  const internal = /^node:(?:internal\/)?([^/]+)/.exec(url);
  if (internal) return `node:${internal[1]}`;
  return 'other';
}

function frameName(cf: CpuProfile['nodes'][number]['callFrame']): string {
  const fn = cf.functionName || '(anonymous)';
  if (!cf.url) return fn;
  const file = cf.url.replace(/^file:\/\/.*?\/(dist\/|node_modules\/)/, '$1');
  return `${fn} ${file}:${cf.lineNumber + 1}`;
}

/**
 * `skipUs` leaves out the first microseconds of the profile (start-up: module loading, JIT warm-up),
 * so that the summary describes the steady state of an attack.
 */
export function summarizeCpuProfile(p: CpuProfile, n = 20, skipUs = 0): ProfileSummary {
  const byId = new Map(p.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of p.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
  // Self time per node from the samples and their time deltas (µs); fall back to hit counts.
  const selfById = new Map<number, number>();
  if (p.samples && p.timeDeltas && p.samples.length === p.timeDeltas.length) {
    // timeDeltas[i] is the time since the previous sample: it belongs to the sample before it.
    let t = p.startTime;
    for (let i = 0; i < p.samples.length; i++) {
      t += p.timeDeltas[i]!;
      if (t - p.startTime < skipUs) continue;
      const d = p.timeDeltas[i + 1] ?? 0;
      selfById.set(p.samples[i]!, (selfById.get(p.samples[i]!) ?? 0) + Math.max(0, d));
    }
  } else {
    const interval = (p.endTime - p.startTime) / Math.max(1, p.nodes.reduce((s, x) => s + (x.hitCount ?? 0), 0));
    for (const node of p.nodes) selfById.set(node.id, (node.hitCount ?? 0) * interval);
  }
  const costs = new Map<string, FrameCost>();
  const cost = (node: CpuProfile['nodes'][number]) => {
    const key = frameName(node.callFrame);
    let c = costs.get(key);
    if (!c) costs.set(key, (c = { frame: key, part: partOf(node.callFrame.url, node.callFrame.functionName), self: 0, cum: 0 }));
    return c;
  };
  let idle = 0;
  for (const [id, us] of selfById) {
    if (us === 0) continue;
    const leaf = byId.get(id);
    if (!leaf) continue;
    cost(leaf).self += us;
    if (leaf.callFrame.functionName === '(idle)') idle += us;
    // Cumulative: each distinct frame on the stack, once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const node = byId.get(cur)!;
      const c = cost(node);
      if (!seen.has(c.frame)) {
        seen.add(c.frame);
        c.cum += us;
      }
    }
  }
  const all = [...costs.values()].filter((c) => c.part !== 'root');
  const parts = new Map<string, number>();
  for (const c of all) parts.set(c.part, (parts.get(c.part) ?? 0) + c.self);
  const totalUs = Math.max(0, p.endTime - p.startTime - skipUs);
  return {
    totalUs,
    busyUs: totalUs - idle,
    top: all.filter((c) => c.part !== 'idle').sort((a, b) => b.self - a.self).slice(0, n),
    parts: [...parts].map(([part, self]) => ({ part, self })).filter((x) => x.self > 0).sort((a, b) => b.self - a.self),
  };
}

/** A `pprof -top`-like text table of a summary: shares are of busy (non-idle) time. */
export function formatProfileSummary(s: ProfileSummary, title: string): string {
  const pct = (us: number) => `${((100 * us) / Math.max(1, s.busyUs)).toFixed(1)}%`.padStart(6);
  const ms = (us: number) => `${(us / 1000).toFixed(0)}ms`.padStart(8);
  const lines = [
    `${title}: ${(s.totalUs / 1e6).toFixed(1)}s profiled, ${(s.busyUs / 1e6).toFixed(2)}s busy (${((100 * s.busyUs) / Math.max(1, s.totalUs)).toFixed(0)}%)`,
    '',
    `    flat  flat%      cum   cum%  function`,
    ...s.top.map((c) => `${ms(c.self)} ${pct(c.self)} ${ms(c.cum)} ${pct(c.cum)}  ${c.frame}`),
    '',
    'self time by part:',
    ...s.parts
      .filter((x) => x.part !== 'idle')
      .slice(0, 12)
      .map((x) => `${ms(x.self)} ${pct(x.self)}  ${x.part}`),
  ];
  return lines.join('\n') + '\n';
}
