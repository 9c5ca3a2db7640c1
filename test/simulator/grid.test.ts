/**
 * A simulated day (24 simulated hours, seeded weather) with the same households in
 * each mode of the grid connection (docs/market.md §9), each a real gateway process
 * and real virtual meters over real MQTT, on a clock fast enough that a day passes in
 * well under a minute. On-grid nobody whose balance lasted goes dark and the bills
 * are compared with the utility's; islanded, the load the market could not cover is
 * measured as unmet.
 */
import test from 'ava';
import { generate, type Scenario } from '../../simulator/scenario.ts';
import { simulate, type SimulationResult } from '../../simulator/run.ts';
import { tempDir } from '../helpers/grid.ts';

function day(grid: Scenario['grid']): Scenario {
  const s = generate({ households: 8, prosumers: 3, seed: 7, start: '2026-06-21T00:00:00.000Z', durationMinutes: 24 * 60, speed: 1440, grid, clearing: 'pay-as-clear' });
  // One consumer starts with 0.4 HEC, less than a day at the utility's 0.30 HEC/kWh: on-grid her supply
  // lasts while her balance does, and no longer.
  s.households[7].initialMicroHec = 400_000;
  return s;
}

// The two days run one after the other, not side by side: each is a gateway and eleven meters on a
// clock 1,440 times real time, and two of them on two cores (beside the rest of the suite) fall behind
// their own clock.
const runs = new Map<Scenario['grid'], Promise<SimulationResult>>();
let previous: Promise<unknown> = Promise.resolve();
const run = (grid: Scenario['grid']) => {
  if (!runs.has(grid)) {
    const next = previous.catch(() => undefined).then(() => simulate({ scenario: day(grid), dataDir: tempDir(`helios-day-${grid}-`), view: 'none', print: () => undefined }));
    runs.set(grid, next);
    previous = next;
  }
  return runs.get(grid)!;
};

test('on-grid, a simulated day: no unmet load for anyone whose balance lasted, the utility supplies and buys, every bill beside the utility-only one', async (t) => {
  const r = await run('on-grid');
  t.log(r.summary);
  for (const c of r.checks) t.true(c.ok, `${c.name}: ${c.detail}`);
  const g = r.grid;
  t.is(g.mode, 'on-grid');
  t.true(r.stats.simMinutes >= 23 * 60, `${r.stats.simMinutes} simulated minutes`);
  const poor = g.households[7];
  for (const h of g.households) {
    if (h === poor) continue;
    t.true(h.balanceMicroHec > 0, `${h.name}'s balance lasted`);
    t.is(h.unmetMWh, 0, `${h.name} (balance ${h.balanceMicroHec} µHEC) never went dark`);
  }
  t.true(poor.balanceMicroHec < 300_000, `${poor.name} spent her balance (${poor.balanceMicroHec} µHEC left)`);
  t.true(g.utilityImportMWh > 0, 'the utility supplied the night');
  t.true(g.utilityExportMWh > 0, 'the utility bought the midday surplus nobody else did');
  t.true(g.p2pMWh > 0 && g.p2pMWh < g.importMWh, `P2P ${g.p2pMWh} of ${g.importMWh} mWh`);
  // A prosumer sells at no less than the feed-in tariff and buys at no more than the import tariff: it never
  // does worse than with the utility alone. (A consumer may: its standing order pays for energy delivered to
  // it whether it used it or not, docs/market.md §4.1 rule 6 — the bill shows it.)
  const prosumers = g.households.filter((h) => h.role === 'prosumer');
  t.true(prosumers.every((h) => h.billMicroHec <= h.utilityOnlyMicroHec), prosumers.map((h) => `${h.name} ${h.billMicroHec}/${h.utilityOnlyMicroHec}`).join(', '));
  t.true(g.households.every((h) => h.utilityOnlyMicroHec !== 0), 'every household has a utility-only bill to compare with');
  t.regex(r.summary, /P2P share of consumption/);
  t.regex(r.summary, /utility import \/ export/);
});

test('islanded, the same day: the load the market and the storage could not cover is measured as unmet load', async (t) => {
  const r = await run('islanded');
  t.log(r.summary);
  for (const c of r.checks) t.true(c.ok, `${c.name}: ${c.detail}`);
  const g = r.grid;
  t.is(g.mode, 'islanded');
  t.is(g.utilityImportMWh, 0);
  t.is(g.utilityExportMWh, 0);
  t.true(g.unmetMWh > 0, 'at night nobody sells: consumers go dark');
  t.true(g.unmetHouseholdHours > 1, `${g.unmetHouseholdHours} household-hours`);
  t.regex(r.summary, /unmet load/);
  const on = await run('on-grid');
  t.true(g.unmetMWh > on.grid.unmetMWh, 'islanded leaves more load unmet than on-grid');
});
