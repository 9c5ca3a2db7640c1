import test from 'ava';
import { Battery } from '../../../simulator/profiles/battery.ts';
import { loadPowerW } from '../../../simulator/profiles/load.ts';
import { clearSkyPlaneIrradiance, pvPowerW, sunPosition } from '../../../simulator/profiles/solar.ts';
import { generate } from '../../../simulator/scenario.ts';
import { HouseholdModel } from '../../../simulator/household.ts';

const karachi = { latitude: 24.93, longitude: 67.11 };
const day = Date.UTC(2026, 5, 21);
const H = 3_600_000;

test('the sun: below the horizon at night, highest near local solar noon, higher in June than December', (t) => {
  t.true(sunPosition(karachi, day + 20 * H).zenithDeg > 90, 'midnight in Karachi');
  // Solar noon at 67°E is about 07:30 UTC.
  const noon = sunPosition(karachi, day + 7.5 * H);
  t.true(noon.zenithDeg < 5, `June noon zenith ${noon.zenithDeg.toFixed(1)}° (latitude 24.9° ≈ declination 23.4°)`);
  const winter = sunPosition(karachi, Date.UTC(2026, 11, 21) + 7.5 * H);
  t.true(winter.zenithDeg > 45 && winter.zenithDeg < 52, `December noon zenith ${winter.zenithDeg.toFixed(1)}°`);
  t.true(sunPosition(karachi, day + 3 * H).azimuthDeg < 180, 'morning sun in the east');
  t.true(sunPosition(karachi, day + 11 * H).azimuthDeg > 180, 'afternoon sun in the west');
});

test('clear-sky irradiance and PV power have plausible magnitudes, and a day of 5 kWp gives a plausible yield', (t) => {
  const array = { kWp: 5, tiltDeg: 20, azimuthDeg: 180 };
  const poa = clearSkyPlaneIrradiance(karachi, array, day + 7.5 * H);
  t.true(poa > 850 && poa < 1100, `noon plane irradiance ${poa.toFixed(0)} W/m²`);
  t.is(pvPowerW(karachi, array, { cloudiness: 0, seed: 1 }, 1, day + 20 * H), 0);
  let wh = 0;
  for (let m = 0; m < 24 * 60; m++) wh += pvPowerW(karachi, array, { cloudiness: 0, seed: 1 }, 1, day + m * 60_000) / 60;
  t.true(wh > 25_000 && wh < 40_000, `clear June day: ${(wh / 1000).toFixed(1)} kWh from 5 kWp (5–8 kWh/kWp is typical)`);
  let cloudy = 0;
  for (let m = 0; m < 24 * 60; m++) cloudy += pvPowerW(karachi, array, { cloudiness: 1, seed: 1 }, 1, day + m * 60_000) / 60;
  t.true(cloudy < wh * 0.8, 'clouds cut the yield');
});

test('a household load uses its yearly energy, day by day', (t) => {
  for (const shape of ['family', 'working', 'retired'] as const) {
    let wh = 0;
    for (let d = 0; d < 14; d++) for (let m = 0; m < 1440; m += 2) wh += loadPowerW({ shape, kWhPerYear: 3650, seed: 3 }, day + d * 86_400_000 + m * 60_000, 5) / 30;
    const perDay = wh / 14 / 1000;
    t.true(perDay > 8.5 && perDay < 12.5, `${shape}: ${perDay.toFixed(2)} kWh/day for 3650 kWh/year (≈10, plus appliances)`);
  }
});

test('a battery stores surplus and covers load, never beyond its capacity or power, and loses only its efficiency', (t) => {
  const b = new Battery({ capacityWh: 5000, maxPowerW: 2000, efficiency: 0.9 }, 0);
  t.is(b.step(0, -3000), -1000, 'charges at its 2 kW limit; the rest is exported');
  for (let m = 1; m <= 300; m++) b.step(m * 60_000, -3000);
  t.true(b.stateOfChargeWh <= 5000 && b.stateOfChargeWh > 4900, `full: ${b.stateOfChargeWh.toFixed(0)} Wh`);
  t.is(b.step(301 * 60_000, -3000), -3000, 'full: all surplus is exported');
  t.is(b.step(302 * 60_000, 1500), 0, 'covers the load from storage');
  const empty = new Battery({ capacityWh: 5000, maxPowerW: 2000 }, 0);
  t.is(empty.step(0, 800), 800, 'an empty battery covers nothing');
});

test('the same seed gives the same neighbourhood and the same net power, minute by minute', (t) => {
  const a = generate({ seed: 5, start: '2026-06-21T04:00:00Z' });
  const b = generate({ seed: 5, start: '2026-06-21T04:00:00Z' });
  t.deepEqual(a, b);
  t.notDeepEqual(a.households, generate({ seed: 6, start: '2026-06-21T04:00:00Z' }).households);
  t.is(a.households.filter((h) => h.role === 'prosumer').length, 5);
  const site = { ...a.site };
  const series = (sc: typeof a) => {
    const m = new HouseholdModel(sc.households[0], site, { cloudiness: sc.cloudiness, seed: sc.seed });
    return Array.from({ length: 120 }, (_, i) => m.netW(day + 4 * H + i * 60_000));
  };
  t.deepEqual(series(a), series(b));
  t.true(series(a).some((w) => w < 0), 'a prosumer exports in the morning sun');
});
