import test from 'ava';
import { ManualClock } from '../../../protocol/index.ts';
import { MeterClock } from '../../../firmware/core/index.ts';
import { clockScenario } from './scenarios.ts';
import { T0 } from '../helpers/world.ts';

test('Time steps an unset clock; a set clock only when more than 30 s off; SNTP always', (t) => {
  const base = new ManualClock(1000);
  const c = new MeterClock(base, false);
  t.is(c.wall(), undefined);
  t.true(c.learn(T0, 'gateway'));
  t.is(c.wall(), T0);
  base.advance(5000);
  t.is(c.now(), T0 + 5000, 'the wall clock runs with the base clock');
  t.false(c.learn(T0 + 5000 + 30_000, 'gateway'));
  t.true(c.learn(T0 + 5000 + 30_001, 'gateway'));
  t.true(c.learn(T0 + 5000 + 30_002, 'sntp'));
  t.is(c.now(), T0 + 35_002);
  c.learn(T0 + 40_000.6, 'sntp');
  t.true(Number.isInteger(c.now()), 'an SNTP fraction never reaches a reading');
});

test('with the clock unset the meter sends no reading and says so; Time sets it and readings start', (t) => {
  const r = clockScenario() as {
    unset: { seq: number; outbox: number[]; clock: string; imported: boolean };
    statusUnset: string[]; statusSet: string[];
    readings1: Array<{ seq: number; t: number }>;
    notStepped: number;
    beforeStep: number[]; afterStep: number[];
    readings2: Array<{ seq: number; t: number }>;
  };
  t.deepEqual(r.unset, { seq: 0, outbox: [], clock: 'unset', imported: false });
  t.true(r.statusUnset.length > 0 && r.statusUnset.every((c) => c === 'unset'));
  t.is(r.statusSet[r.statusSet.length - 1], 'set');
  t.is(r.readings1[0].seq, 1, 'the first reading after the clock was set');
  t.true(r.readings1.every((x) => x.t >= T0 && x.t < T0 + 3 * 60_000));
  t.is(r.notStepped, 1000, 'a Time 20 s off did not move the clock (only the 1 s that passed)');
  t.deepEqual(r.beforeStep, [4]);
  t.deepEqual(r.afterStep, [], 'a reading stamped in the corrected clock\'s future is dropped: the gateway would refuse it forever');
  const last = r.readings2[r.readings2.length - 1];
  t.is(last.seq, 5);
  t.true(last.t < T0, 'stepped back ten minutes');
});
