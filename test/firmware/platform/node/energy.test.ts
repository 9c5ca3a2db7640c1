import test from 'ava';
import { ProfileEnergySource } from '../../../../firmware/platform/node/index.ts';

test('a constant load integrates exactly: 1 kW for an hour is 1 kWh, however it is read', (t) => {
  const a = new ProfileEnergySource({ power: 1000, startMs: 0 });
  t.is(a.read(3_600_000).importMWh, 1_000_000);
  const b = new ProfileEnergySource({ power: 1000, startMs: 0 });
  for (let ms = 7; ms <= 3_600_000; ms += 7) b.read(ms);
  t.is(b.read(3_600_000).importMWh, 1_000_000, 'no drift from many small reads');
});

test('a PV profile exports, a load imports; a cut supply does neither', (t) => {
  // Import 500 W in the first minute, export 1200 W in the second, sampled per minute.
  const s = new ProfileEnergySource({ power: (ms) => (ms < 60_000 ? 500 : -1200), stepMs: 60_000, startMs: 0 });
  const r = s.read(120_000);
  t.is(r.importMWh, 8333);
  t.is(r.exportMWh, 20_000);
  t.is(r.powerW, -1200);
  t.is(s.nextChangeAt(90_000), 120_000);
  s.setSupplied(false, 120_000);
  const off = s.read(240_000);
  t.is(off.exportMWh, 20_000);
  t.is(off.powerW, 0);
});
