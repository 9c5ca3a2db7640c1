/**
 * The fault scenario testers start from (simulator/scenarios/faults.json), run in
 * full: a real gateway process, eight virtual meters on the real firmware core,
 * real MQTT, every fault of the issue, and every check passing.
 */
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { loadScenario } from '../../simulator/scenario.ts';
import { simulate } from '../../simulator/run.ts';
import { tempDir } from '../helpers/grid.ts';

test('the every-fault scenario: tampered reading and forged credit refused, offline readings delivered, restart loses nothing, invariants hold', async (t) => {
  const scenario = loadScenario(fileURLToPath(new URL('../../simulator/scenarios/faults.json', import.meta.url)));
  const r = await simulate({ scenario, dataDir: tempDir('helios-sim-test-'), view: 'none', print: () => undefined });
  const byName = (part: string) => r.checks.find((c) => c.name.includes(part));
  for (const c of r.checks) t.true(c.ok, `${c.name}: ${c.detail}`);
  t.truthy(byName('tampered reading'));
  t.truthy(byName('forged credit token refused'));
  t.truthy(byName('a household publishing a credit token'));
  t.truthy(byName('offline window'));
  t.truthy(byName('broker restart'));
  t.truthy(byName('skewed clock'));
  t.truthy(byName('tokens conserved'));
  t.truthy(byName('summary matches the ledger'));
  t.truthy(byName('ledger verify'));
  t.true(r.stats.readings > 200, `${r.stats.readings} readings stored`);
  t.true(r.ok);
});
