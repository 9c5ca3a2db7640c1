import test from 'ava';
import { IcEnergySource, type EnergyIcReading } from '../../../firmware/core/index.ts';

test('an energy IC\'s counters become registers that never go backwards or jump: baseline, failed reads, chip reset', (t) => {
  const chip: Array<EnergyIcReading | undefined> = [
    { importMWh: 5_000_000, exportMWh: 100, powerW: 230.4 }, // the chip's own total at boot: the baseline, not energy
    { importMWh: 5_001_000, exportMWh: 100, powerW: 240 },
    undefined, // Modbus timeout
    { importMWh: 5_003_000, exportMWh: 600, powerW: -90 },
    { importMWh: 400, exportMWh: 0, powerW: 500 }, // the chip was power-cycled and counts from zero
    { importMWh: 1_400, exportMWh: 10, powerW: 500 },
  ];
  let i = 0;
  const src = new IcEnergySource({ read: () => chip[i++] });
  const seen = chip.map(() => src.read());
  t.deepEqual(seen.map((s) => s.importMWh), [0, 1000, 1000, 3000, 3400, 4400]);
  t.deepEqual(seen.map((s) => s.exportMWh), [0, 0, 0, 500, 500, 510]);
  t.deepEqual(seen.map((s) => s.powerW), [230, 240, 240, -90, 500, 500]);
  t.is(src.failedReads, 1);
  t.is(src.resets, 1);
});
