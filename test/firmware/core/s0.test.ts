import test from 'ava';
import { PulseCounter, S0EnergySource } from '../../../firmware/core/index.ts';
import { s0Scenario } from './scenarios.ts';

test('S0 pulses with chatter at both ends count once each; energy and power are exact integers', (t) => {
  const r = s0Scenario() as { pulses: number; rejected: number; mWh: number; powerAt: number[]; odd: number; activeHigh: { pulses: number; mWh: number } };
  t.is(r.pulses, 10);
  t.is(r.rejected, 20);
  t.is(r.mWh, 10_000, '10 pulses at 1000 imp/kWh = 10 Wh');
  // One pulse a second at 1000 imp/kWh is 3.6 kW; three seconds after the last pulse it can be at most 1.2 kW; an hour later, 0.
  t.deepEqual(r.powerAt, [3600, 3600, 1200, 0]);
  t.is(r.odd, 2_333_333, '7 pulses at 3 imp/kWh, remainder carried, never rounded up');
  t.deepEqual(r.activeHigh, { pulses: 2, mWh: 2500 });
});

test('a long run at an awkward pulse rate does not drift', (t) => {
  const c = new PulseCounter(3200, 20, 0);
  for (let i = 0; i < 32_000; i++) c.count(i * 100);
  t.is(c.mWh, 10_000_000, '32 000 pulses at 3200 imp/kWh are exactly 10 kWh');
});

test('the S0 source notifies the meter on each counted pulse and nets import against export', (t) => {
  const imp = new PulseCounter(1000, 20, 0);
  const exp = new PulseCounter(1000, 20, 0);
  const src = new S0EnergySource(imp, exp);
  let calls = 0;
  src.onChange(() => calls++);
  src.edge('import', 0, 100);
  src.edge('import', 1, 140);
  src.edge('import', 0, 1100);
  src.edge('export', 0, 1000);
  src.edge('export', 0, 1005); // still active: not a new pulse
  t.is(calls, 3);
  const s = src.read(1200);
  t.is(s.importMWh, 2000);
  t.is(s.exportMWh, 1000);
  t.is(s.powerW, 3600, 'export power unknown until its second pulse');
});
