/**
 * The Linux-host storage of the real firmware (firmware/platform/moddable/lin/store.ts)
 * on the real Moddable runtime: built with mcconfig (the platform check app,
 * test/firmware/mcsim-platform, store.js), run in mcsim twice in one directory, with the
 * records damaged between the runs the way a cut would leave them — a write killed
 * before its rename (a stray `.new` file) and a record cut short in place. Skipped
 * where the SDK or xvfb-run is missing, except under CI=true.
 */
import test from 'ava';
import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildLinFirmware, findSdk, startMcsim, type Sdk } from '../../simulator/mcsim.ts';
import { exclusive } from '../helpers/exclusive.ts';
import { platformCheckApp } from '../helpers/platformCheck.ts';

/** Run the store check in mcsim in `dir` until it prints STORE done (or an error); what it said, by name. */
async function run(sdk: Sdk, mcso: string, dir: string): Promise<Record<string, unknown>> {
  const sim = startMcsim(sdk, mcso, dir);
  try {
    await sim.waitFor(/^STORE (done|error) .*$/m, 60_000);
  } finally {
    await sim.stop();
  }
  const said: Record<string, unknown> = {};
  for (const m of sim.output().matchAll(/^STORE (\S+) (.*)$/gm)) {
    try {
      said[m[1]] = JSON.parse(m[2]);
    } catch {
      said[m[1]] = m[2];
    }
  }
  return said;
}

test('the Linux-host store keeps a file per record: a write killed before its rename and a record cut short leave the previous record, on the real Moddable runtime', async (t) => {
  const sdk = findSdk();
  if ('missing' in sdk) {
    // CI builds the firmware on every run (.ci/run sets MODDABLE): there a missing SDK is a failure, not a skip.
    if (process.env.CI === 'true') return t.fail(`CI must build and run the firmware: ${sdk.missing}`);
    return t.pass(`skipped: ${sdk.missing}`);
  }
  t.timeout(15 * 60_000);
  const { mcso } = buildLinFirmware(sdk, {}, { app: platformCheckApp });
  const dir = mkdtempSync(join(tmpdir(), 'helios-mcsim-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const records = join(dir, 'helios');
  const release = await exclusive('mcsim'); // one firmware meter in mcsim at a time (test/helpers/exclusive.ts)
  t.teardown(release);

  const first = await run(sdk, mcso, dir);
  t.deepEqual(first.state, { payload: null, corrupt: [] });
  t.is(first.done, true, JSON.stringify(first));
  t.deepEqual(readdirSync(records).sort(), ['helios.b', 'helios.enrol', 'helios.key', 'helios.n', 'helios.state0', 'helios.state1'], 'a file per record, nothing left over');
  // The newest record (generation 2, [8, 8, 8]) is in state0. Damage it the way a cut would:
  // a write of generation 3 into state1 killed before its rename, and state0 cut short in place.
  writeFileSync(join(records, 'helios.state1.new'), Buffer.from([0x78, 0x48, 0, 0, 0]));
  truncateSync(join(records, 'helios.state0'), 6);
  const second = await run(sdk, mcso, dir);
  t.deepEqual(second.state, { payload: [7, 7, 7], corrupt: ['state0'] }, 'the previous record, and the damaged slot named');
  t.deepEqual(second.key, [1, 2, 3, 4]);
  t.is(second.enrol, '{"body":"é€😀"}');
  t.is(second.n, -123456);
  t.is(second.b, true);
  t.is(second.gone, null);
  // The ESP32 limits hold on the Linux host too: a 16-character key is refused with the meter's own code.
  t.is(second.limit, 'E_STORAGE_LIMIT');
  t.is(second.done, true, JSON.stringify(second));
});
