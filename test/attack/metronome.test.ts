import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Clock } from '../../src/attack/clock.js';
import { Metronome } from '../../src/attack/metronome.js';

test('metronome: wakes the attack thread at published due times, never early, then goes quiet', async () => {
  const m = new Metronome();
  await m.ready;
  const clock = Clock.startingIn(0);
  const ticks: number[] = [];
  const dues = [5e6, 12e6, 30e6];
  let i = 0;
  const done = new Promise<void>((resolve) => {
    m.attach(clock, () => {
      ticks.push(clock.nowNs());
      i++;
      m.publish(i < dues.length ? dues[i]! : Infinity);
      if (i === dues.length) resolve();
    });
  });
  m.publish(dues[0]!);
  await done;
  // a few more ms: no tick after Infinity
  await new Promise((r) => setTimeout(r, 50));
  m.stop();
  assert.equal(ticks.length, 3);
  for (let k = 0; k < 3; k++) {
    // never early: a tick before the due time would find nothing to send
    assert.ok(ticks[k]! >= dues[k]!, `tick ${k} at ${ticks[k]} for due ${dues[k]}`);
  }
});
