/**
 * CLI errors a person meets before any gateway is involved: each names the flag to
 * change, in the units the flag takes, exits 2 (a mistyped command) or 1, and
 * leaves nothing behind. (Refusals by a running gateway: test/gateway/market/cli.test.ts.)
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { heliosBin } from '../helpers/gateway.ts';
import { tempDir } from '../helpers/grid.ts';

const run = promisify(execFile);

async function fails(t: import('ava').ExecutionContext, args: string[]): Promise<{ code: number; stderr: string }> {
  const e = await t.throwsAsync(run(process.execPath, [heliosBin, ...args])) as Error & { code: number; stderr: string };
  return { code: e.code, stderr: e.stderr };
}

const initCases: Array<[string, string[], RegExp]> = [
  ['a cap of 0', ['--price-cap', '0'], /^helios: --price-cap must be more than 0 HEC\/kWh/],
  ['a cap that is not HEC', ['--price-cap', '1e4'], /^helios: --price-cap: "1e4" is not an amount in HEC/],
  ['a storage that buys dearer than it sells', ['--storage-buy-price', '0.3', '--storage-sell-price', '0.2'], /^helios: --storage-buy-price \(0.3 HEC\/kWh\) is above --storage-sell-price \(0.2 HEC\/kWh\)/],
  ['a market period that is not whole minutes', ['--market-period', '90000'], /^helios: --market-period must be a whole number of minutes in ms/],
  ['a block period the genesis refuses', ['--block-period', '0'], /^helios: E_OUT_OF_RANGE: --block-period is 0; it must be between 100 and 3600000/],
  ['a storage capacity in too fine a unit', ['--storage-capacity', '1.2345678'], /^helios: --storage-capacity: "1.2345678" is not an energy in kWh/],
];

for (const [what, args, message] of initCases) {
  test(`helios init refuses ${what}, naming the flag, and makes no grid`, async (t) => {
    const dir = join(tempDir('helios-init-'), 'grid');
    const r = await fails(t, ['init', '--data', dir, '--insecure-demo-key', ...args]);
    t.regex(r.stderr, message);
    t.false(existsSync(join(dir, 'genesis.json')));
  });
}

test('helios meter run and wait name the flag to change', async (t) => {
  const dir = tempDir('helios-meter-');
  const noDir = await fails(t, ['meter', 'run', '--power', '19']);
  t.is(noDir.code, 2);
  t.regex(noDir.stderr, /--dir DIR is required/);
  t.regex((await fails(t, ['meter', 'run', '--dir', join(dir, 'm'), '--power', '-28'])).stderr, /--power is the household's load, drawn from the grid; for a PV surplus fed into it say --export 28/);
  t.regex((await fails(t, ['meter', 'run', '--dir', join(dir, 'm'), '--power', 'lots'])).stderr, /--power must be watts, 0…1000000 \(e\.g\. 19\), got lots/);
  t.regex((await fails(t, ['meter', 'run', '--dir', join(dir, 'm'), '--power', '5', '--export', '5'])).stderr, /give --power \(a load, imported\) or --export \(a PV surplus\), not both/);
  const noGateway = await fails(t, ['meter', 'run', '--dir', join(dir, 'm'), '--data', join(dir, 'nogrid')]);
  t.regex(noGateway.stderr, /no running gateway found for .*nogrid.*helios gateway --data/);
  t.false(existsSync(join(dir, 'm', 'preferences')), 'no meter key made for a run that never started');
  t.regex((await fails(t, ['meter', 'wait', '--dir', join(dir, 'm'), '--for', 'lunch'])).stderr, /--for must be hello, enrolled or credit-used, got lunch/);
  const late = await fails(t, ['meter', 'wait', '--dir', join(dir, 'm'), '--for', 'enrolled', '--timeout', '0.3']);
  t.is(late.code, 1);
  t.regex(late.stderr, /E_TIMEOUT: the meter in .* is not enrolled after 0.3 s \(no status.json: is "helios meter run --dir .*" running\?\); raise --timeout/);
});

test('helios gateway wait says what to start when no gateway answers', async (t) => {
  const dir = tempDir('helios-gw-');
  const r = await fails(t, ['gateway', 'wait', '--data', dir, '--timeout', '0.3']);
  t.is(r.code, 1);
  t.regex(r.stderr, /E_TIMEOUT: no gateway answers for .* after 0.3 s \(no run\/gateway.json\)\. Start one with "helios gateway --data .*", or raise --timeout/);
});
