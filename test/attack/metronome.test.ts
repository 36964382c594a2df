import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Clock } from '../../src/time/clock.js';
import { Metronome } from '../../src/attack/metronome.js';
import { constantPacer } from '../../src/pacer/index.js';

test('metronome: one wake-up per due request, never early, none for requests already sent', async () => {
  const pacer = constantPacer(100); // due every 10 ms
  const m = new Metronome(pacer.spec, 1, Infinity);
  await m.ready;
  const clock = Clock.startingIn(2);
  const ticks: Array<[number, number]> = [];
  const skipped: number[] = [];
  let next = 0;
  const done = new Promise<void>((resolve) => {
    m.attach(clock, () => {
      ticks.push([next, clock.nowNs()]);
      // like the runner: send what is due, publish what comes next
      while (pacer.offsetOf(next) <= clock.nowNs()) next++;
      if (ticks.length === 3) {
        // pretend the next two went out on their own (a completion saw them due): no tick for them
        skipped.push(next, next + 1);
        next += 2;
      }
      m.publish(ticks.length >= 4 ? Infinity : next);
      if (ticks.length === 4) resolve();
    });
  });
  m.publish(0);
  await done;
  await new Promise((r) => setTimeout(r, 60)); // nothing more once nothing is scheduled
  m.stop();
  const idx = ticks.map(([i]) => i);
  assert.equal(idx[0], 0);
  for (let k = 1; k < idx.length; k++) assert.ok(idx[k]! > idx[k - 1]!, `ticks in order: ${idx}`);
  for (const i of skipped) assert.ok(!idx.includes(i), `no tick for request ${i}, already sent (${idx})`);
  for (const [i, t] of ticks) assert.ok(t >= pacer.offsetOf(i), `tick for request ${i} at ${t} ns, due ${pacer.offsetOf(i)} ns`);
});
