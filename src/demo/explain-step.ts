import { writeCapture, explain, formatExplanation, loadClientRequests, type AgentCapture, type Explanation } from '../explain/index.js';

/**
 * The demo's "explain the tail" step: each measured run's results joined with the agent's records
 * of the same run (see src/explain), and what the story expects explain to name at each stage:
 * broken, the garbage (GC pauses) and the table's lock; pooled, the lock alone; fixed, nothing.
 */

export interface StageExplanation {
  explanation: Explanation | null;
  /** The full explanation as text (written to <n>-<stage>.explain.txt). */
  text: string;
  /** The named causes of the verdict, as kinds: 'gc', 'lock', 'stall', 'generator'. */
  kinds: string[];
  /** Why there is no explanation, when there is none. */
  missing: string | null;
}

export function causeKind(key: string): string {
  return key.split(':')[0]!;
}

export async function explainStage(resultsFile: string, capture: AgentCapture | null, captureFile: string): Promise<StageExplanation> {
  if (!capture) return { explanation: null, text: '', kinds: [], missing: 'the agent\'s records could not be read' };
  await writeCapture(captureFile, capture);
  const { client, info } = await loadClientRequests([resultsFile]);
  const e = explain(client, info, capture, { above: { percentile: 99 }, slowest: 5 });
  return { explanation: e, text: formatExplanation(e), kinds: [...new Set(e.verdict.causes.map(causeKind))], missing: null };
}

/** What the story expects explain to name at each stage. */
export const EXPECTED_KINDS: Record<'broken' | 'pool' | 'fixed', string[]> = {
  broken: ['gc', 'lock'],
  pool: ['lock'],
  fixed: [],
};

/**
 * Whether explain named exactly the story's causes among the service's own mechanisms (GC, locks,
 * stalls). Generator lag is the machine's, not the service's: explain names it when it is there,
 * and the demo's other lines say how much the machine disturbed the run.
 */
export function explainMatches(stage: 'broken' | 'pool' | 'fixed', s: StageExplanation): boolean {
  if (!s.explanation) return false;
  const want = EXPECTED_KINDS[stage];
  const got = s.kinds.filter((k) => k !== 'generator');
  return want.length === got.length && want.every((k) => got.includes(k));
}

/** The claim of a stage's explain check, for the demo's summary. */
export function explainClaim(stage: 'broken' | 'pool' | 'fixed'): string {
  const want = EXPECTED_KINDS[stage];
  return want.length === 0
    ? `explain: the ${stage} tail has no cause in the service (no GC, lock or stall named)`
    : `explain: the ${stage} tail is ${want.map((k) => (k === 'gc' ? 'GC pauses' : 'the table lock')).join(' and ')}${want.length === 1 ? ' alone' : ''}`;
}

/** The lines the demo prints: the verdict, then the causes that hold at least 5 % of the excess. */
export function explainLines(s: StageExplanation): string[] {
  if (!s.explanation) return [`explain: not available (${s.missing})`];
  const e = s.explanation;
  const out = [`${e.slow} requests at or above ${e.threshold.text}, each split by the agent's records (clock offset ±${Math.round(e.clock?.uncertaintyNs ?? 0) / 1000} µs):`, e.verdict.text];
  for (const c of e.causes.filter((c) => c.shareOfExcess >= 0.05)) {
    out.push(`  ${c.label.padEnd(40)} ${String(c.requests).padStart(4)} slow requests, ${(100 * c.shareOfExcess).toFixed(0).padStart(3)}% of the excess`);
  }
  return out;
}
