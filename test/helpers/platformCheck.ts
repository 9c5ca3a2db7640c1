/**
 * The app that checks the firmware's platform modules and protocol/ on the real
 * Moddable runtime (test/firmware/mcsim-platform): one build, shared by the mcsim-*
 * check tests, cached with the firmware's builds (simulator/mcsim.ts), preloaded as
 * the firmware preloads (test/firmware/manifest.test.ts holds the two lists together).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { buildLinFirmware, findSdk, startMcsim, type LinApp, type Sdk } from '../../simulator/mcsim.ts';
import { exclusive } from './exclusive.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

export const platformCheckApp: LinApp = {
  manifest: join(root, 'test/firmware/mcsim-platform/manifest.json'),
  name: 'helios-platform-check',
  inputs: ['test/firmware/mcsim-platform', 'firmware/core', 'firmware/platform/moddable/crypto', 'firmware/platform/moddable/types',
    'firmware/platform/moddable/lin/store.ts', 'protocol'].map((p) => join(root, p)),
};

/** One case for test/firmware/mcsim-platform/cases.js: a function of its table, and its arguments (hex bytes, or { text }). */
export interface XsCase { fn: string; args: Array<string | { text: string }> }

/**
 * Run cases on XS in mcsim and return each one's result as cases.js prints it; undefined
 * when the test was skipped (no SDK outside CI) or failed to run them (already reported).
 */
export async function runCasesOnXs(t: ExecutionContext, what: string, list: XsCase[]): Promise<Map<number, unknown> | undefined> {
  const sdk = findSdk();
  if ('missing' in sdk) {
    // CI builds the firmware on every run (.ci/run sets MODDABLE): there a missing SDK is a failure, not a skip.
    if (process.env.CI === 'true') t.fail(`CI must run ${what} on XS: ${sdk.missing}`);
    else t.pass(`skipped: ${sdk.missing}`);
    return undefined;
  }
  const build = buildLinFirmware(sdk as Sdk, {}, { app: platformCheckApp });
  t.log(`${build.cached ? 'cached' : 'built'}: ${build.mcso}`);
  const dir = mkdtempSync(join(tmpdir(), 'helios-xs-cases-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'vectors.json'), JSON.stringify(list.map(({ fn, args }) => ({ fn, args }))));
  const release = await exclusive('mcsim'); // one XS app in mcsim at a time (test/helpers/exclusive.ts)
  t.teardown(release);
  const sim = startMcsim(sdk as Sdk, build.mcso, dir);
  t.teardown(() => sim.stop());
  await sim.waitFor(/^CASES (done|error.*)$/m, 120_000);
  t.notRegex(sim.output(), /^CASES error/m);
  const got = new Map<number, unknown>();
  for (const m of sim.output().matchAll(/^CASE (\d+) (.*)$/gm)) got.set(Number(m[1]), JSON.parse(m[2]));
  t.is(got.size, list.length, 'a result for every case');
  return got;
}
