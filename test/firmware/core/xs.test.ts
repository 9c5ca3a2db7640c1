/**
 * The core scenarios inside the real XS engine (Moddable's, via @agoric/xsnap),
 * bundled for es2020, with the fake platform injected: every scenario must give
 * the very same JSON as on Node.
 */
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { runInXS } from '../../helpers/xs.ts';
import { scenarios } from './scenarios.ts';

interface Report {
  name: string;
  result: { ok?: unknown; threw?: string };
}

const entry = fileURLToPath(new URL('./xs-entry.ts', import.meta.url));
// One XS worker runs every scenario; each test below compares one of them.
const xs = runInXS<Report>(entry);

for (const name of Object.keys(scenarios)) {
  test(`XS and Node agree byte for byte: ${name}`, async (t) => {
    const run = await xs;
    const got = run.reports.find((r) => r.name === name);
    t.truthy(got, `XS reported nothing for ${name}`);
    t.is(got!.result.threw, undefined, `XS threw: ${got!.result.threw}`);
    t.is(JSON.stringify(got!.result.ok), JSON.stringify(scenarios[name]()));
  });
}

test('the XS run really is XS: no process, no Buffer, xsnap\'s print', async (t) => {
  const run = await xs;
  t.deepEqual(run.reports[0], { name: '(engine)', result: { ok: { hasProcess: false, hasBuffer: false, hasPrint: true } } });
  t.is(run.reports.length, Object.keys(scenarios).length + 1);
});
