import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as hdr from 'hdr-histogram-js';
import { DurationHistogram, HIST_HIGHEST_US, HIST_LOWEST_US, integerIndexing } from '../../src/metrics/histogram.js';

/** A histogram as DurationHistogram builds it, left with hdr-histogram-js's own index arithmetic. */
function libraryHistogram(): hdr.Histogram {
  return hdr.build({ bitBucketSize: 64, autoResize: false, lowestDiscernibleValue: HIST_LOWEST_US, highestTrackableValue: HIST_HIGHEST_US, numberOfSignificantValueDigits: 3, useWebAssembly: false });
}

type Indexing = { countsArrayIndex(v: number): number };

test('histogram: the integer counts index is the library\'s for every bucket edge and a million random values', () => {
  const lib = libraryHistogram() as unknown as Indexing;
  const fast = libraryHistogram();
  integerIndexing(fast);
  const f = fast as unknown as Indexing;
  assert.notEqual(f.countsArrayIndex, lib.countsArrayIndex, 'the fast index is installed');
  const values: number[] = [];
  for (let v = 0; v <= 5000; v++) values.push(v);
  for (let k = 1; k <= 32; k++) for (const d of [-2, -1, 0, 1, 2]) values.push(2 ** k + d);
  values.push(HIST_HIGHEST_US, HIST_HIGHEST_US - 1, 0xffffffff);
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < 1_000_000; i++) values.push(Math.floor(rnd() ** 4 * HIST_HIGHEST_US));
  for (const v of values) if (v >= 0 && v <= 0xffffffff) assert.equal(f.countsArrayIndex(v), lib.countsArrayIndex(v), `value ${v}`);
  // Outside whole 32-bit numbers the library's own arithmetic answers.
  for (const v of [1.5, 2 ** 32, 2 ** 40 + 3]) assert.equal(f.countsArrayIndex(v), lib.countsArrayIndex(v), `value ${v}`);
});

test('histogram: a DurationHistogram records exactly what the library alone records (same encoded histogram)', () => {
  const d = new DurationHistogram();
  const lib = libraryHistogram();
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < 200_000; i++) {
    const ns = Math.floor(rnd() ** 6 * 60e9);
    d.record(ns);
    let us = Math.round(ns / 1000);
    if (us < HIST_LOWEST_US) us = HIST_LOWEST_US;
    lib.recordValue(us);
  }
  assert.equal(d.count, 200_000);
  assert.equal(hdr.encodeIntoCompressedBase64(d.h), hdr.encodeIntoCompressedBase64(lib));
  for (const p of [50, 90, 99, 99.9, 99.99]) assert.equal(d.h.getValueAtPercentile(p), lib.getValueAtPercentile(p), `p${p}`);
});
