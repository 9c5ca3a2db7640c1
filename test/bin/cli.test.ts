import test from 'ava';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { commands } from '../../bin/commands.ts';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../bin/helios.js', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string; bin: Record<string, string> };

test('helios --help lists every command that exists, and only those', async (t) => {
  const { stdout } = await run(process.execPath, [bin, '--help']);
  t.regex(stdout, /Usage: helios <command>/);
  const listed = [...stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]);
  t.deepEqual(listed.sort(), Object.keys(commands).sort());
});

test('helios --version prints the package version', async (t) => {
  const { stdout } = await run(process.execPath, [bin, '--version']);
  t.is(stdout.trim(), pkg.version);
  t.is(pkg.bin.helios, 'bin/helios.js');
});

test('an unknown command exits 2 and says how to find the right one', async (t) => {
  const err = await t.throwsAsync(run(process.execPath, [bin, 'frobnicate'])) as Error & { code: number; stderr: string };
  t.is(err.code, 2);
  t.regex(err.stderr, /unknown command "frobnicate".*helios --help/);
});
