import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dominantKinds, explainMatches, type StageExplanation } from '../../src/demo/explain-step.js';
import type { CauseRow, Explanation } from '../../src/explain/index.js';

/** A stage's explanation with just the cause rows the demo's checks read (shares of the excess, share touched). */
function stage(rows: Array<[key: string, shareOfExcess: number, shareTouched: number]>, verdict: string[]): StageExplanation {
  const causes: CauseRow[] = rows.map(([key, shareOfExcess, shareTouched]) => ({
    key,
    label: key,
    named: !key.startsWith('handler') && !key.startsWith('queue'),
    requests: 0,
    shareOfRequests: 0,
    shareTouched,
    excessNs: Math.round(shareOfExcess * 1e9),
    shareOfExcess,
    meanNs: 0,
  }));
  const explanation = { causes, verdict: { causes: verdict, text: '' } } as unknown as Explanation;
  return { explanation, text: '', kinds: [...new Set(verdict.map((k) => k.split(':')[0]!))], missing: null };
}

test('the pooled stage holds whether or not GC is named beside the dominant lock (the 5 % bar is noise there)', () => {
  const lockAndScavenges = stage([['lock:lookup.table', 0.66, 0.9], ['handler', 0.2, 0.4], ['gc:scavenge', 0.07, 0.6]], ['lock:lookup.table', 'gc:scavenge']);
  const lockAlone = stage([['lock:lookup.table', 0.66, 0.9], ['handler', 0.2, 0.4], ['gc:scavenge', 0.07, 0.3]], ['lock:lookup.table']);
  assert.equal(explainMatches('pool', lockAndScavenges), true);
  assert.equal(explainMatches('pool', lockAlone), true);
  assert.deepEqual(dominantKinds(lockAndScavenges.explanation!).kinds, ['lock']);
});

test('a stage fails when another of the service mechanisms dominates, or the lock does not', () => {
  const gcToo = stage([['lock:lookup.table', 0.5, 0.9], ['gc:scavenge', 0.3, 0.9]], ['lock:lookup.table', 'gc:scavenge']);
  assert.equal(explainMatches('pool', gcToo), false);
  assert.equal(explainMatches('broken', gcToo), false);
  const noLock = stage([['handler', 0.8, 0.9], ['gc:scavenge', 0.1, 0.6]], ['gc:scavenge']);
  assert.equal(explainMatches('pool', noLock), false);
  assert.equal(explainMatches('broken', noLock), false);
});

test('generator lag dominating is the machine, not the service: it neither makes nor breaks a stage', () => {
  const lagged = stage([['lock:lookup.table', 0.6, 0.9], ['generator', 0.3, 0.7]], ['lock:lookup.table', 'generator']);
  assert.equal(explainMatches('pool', lagged), true);
  assert.deepEqual(dominantKinds(lagged.explanation!).kinds, ['lock']);
});

test('broken needs GC pauses inside its slow requests; fixed needs the lock gone from the verdict', () => {
  const noGc = stage([['lock:lookup.table', 0.9, 1]], ['lock:lookup.table']);
  assert.equal(explainMatches('broken', noGc), false);
  const withGc = stage([['lock:lookup.table', 0.85, 1], ['gc:scavenge', 0.05, 0.88]], ['lock:lookup.table', 'gc:scavenge']);
  assert.equal(explainMatches('broken', withGc), true);
  assert.equal(explainMatches('fixed', stage([['handler', 0.7, 0.5], ['gc:scavenge', 0.07, 0.2]], [])), true);
  assert.equal(explainMatches('fixed', stage([['handler', 0.7, 0.5], ['lock:lookup.table', 0.08, 0.6]], ['lock:lookup.table'])), false);
  assert.equal(explainMatches('fixed', { explanation: null, text: '', kinds: [], missing: 'no agent' }), false);
});
