/**
 * A tester's scenario file is checked before anything starts: a mistake gets
 * E_BAD_SCENARIO and a message naming the field, instead of a run that quietly
 * ignores it. The shipped scenarios load as they are.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HeliosError } from '../../protocol/index.ts';
import { loadScenario } from '../../simulator/scenario.ts';
import { tempDir } from '../helpers/grid.ts';

const dir = tempDir('helios-scenario-');
let n = 0;
function file(content: unknown): string {
  const p = join(dir, `s${n++}.json`);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

const base = { seed: 3, start: '2026-06-21T05:40:00Z', durationMinutes: 60, households: { count: 4, prosumers: 2 } };

test('the shipped scenarios load, and fields left out take the generated defaults', (t) => {
  for (const name of ['faults.json', 'sunny-day.json']) {
    const s = loadScenario(fileURLToPath(new URL(`../../simulator/scenarios/${name}`, import.meta.url)));
    t.true(s.households.length > 0, name);
  }
  const s = loadScenario(file(base));
  t.is(s.households.length, 4);
  t.is(s.households.filter((h) => h.role === 'prosumer').length, 2);
  t.is(s.clearing, 'pay-as-clear');
  t.is(s.readingPeriodSeconds, 60);
});

const bad: Array<[string, unknown, RegExp]> = [
  ['not JSON', '{"seed": 1,', /cannot read scenario/],
  ['not an object', [1, 2], /JSON object/],
  ['an unknown field (a typo)', { ...base, durationMinuts: 60 }, /unknown field "durationMinuts"/],
  ['a speed of zero', { ...base, speed: 0 }, /speed must lie in/],
  ['a fractional duration', { ...base, durationMinutes: 1.5 }, /durationMinutes must be an integer/],
  ['cloudiness above 1', { ...base, cloudiness: 2 }, /cloudiness must lie in \[0, 1\]/],
  ['an unknown clearing mechanism', { ...base, clearing: 'vickrey' }, /clearing must be one of seed, pay-as-bid, pay-as-clear/],
  ['an unknown strategy', { ...base, strategy: 'greedy' }, /strategy must be one of/],
  ['more prosumers than households', { ...base, households: { count: 2, prosumers: 3 } }, /households.prosumers must lie in \[0, 2\]/],
  ['an empty household list', { ...base, households: [] }, /households is empty/],
  ['a household with an unknown role', { ...base, households: [{ name: 'A', role: 'utility' }] }, /households\[0\].role must be one of prosumer, consumer/],
  ['a site without longitude', { ...base, site: { latitude: 10, utcOffsetHours: 0 } }, /site needs latitude, longitude and utcOffsetHours/],
  ['a latitude off the globe', { ...base, site: { latitude: 95, longitude: 0, utcOffsetHours: 0 } }, /site.latitude must lie in \[-90, 90\]/],
  ['an unknown fault', { ...base, faults: [{ kind: 'meteor', at: '2026-06-21T06:00:00Z' }] }, /faults\[0\].kind must be one of meter-offline/],
  ['a fault missing its household', { ...base, faults: [{ kind: 'tampered-reading', at: '2026-06-21T06:00:00Z' }] }, /faults\[0\] \(tampered-reading\) needs "household"/],
  ['a fault with a stray field', { ...base, faults: [{ kind: 'broker-restart', at: '2026-06-21T06:00:00Z', household: 'Zarak' }] }, /unknown field "household"/],
  ['a fault naming a stranger', { ...base, faults: [{ kind: 'forged-credit', household: 'Nobody', at: '2026-06-21T06:00:00Z' }] }, /names household "Nobody", which is not in the scenario/],
  ['a fault after the run', { ...base, faults: [{ kind: 'broker-restart', at: '2026-06-21T09:00:00Z' }] }, /is outside the run/],
  ['a restart with an unknown signal', { ...base, faults: [{ kind: 'broker-restart', at: '2026-06-21T06:00:00Z', signal: 'SIGHUP' }] }, /signal must be one of SIGKILL, SIGTERM/],
];

for (const [what, content, message] of bad) {
  test(`a scenario with ${what} is refused with E_BAD_SCENARIO, naming the problem`, (t) => {
    const e = t.throws(() => loadScenario(file(content)), { instanceOf: HeliosError });
    t.is((e as HeliosError).code, 'E_BAD_SCENARIO');
    t.regex(e!.message, message);
  });
}
