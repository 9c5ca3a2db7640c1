/** Benchmarks answer --help with their flags, and a flag they do not know with the usage — never a stack trace. */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const run = fileURLToPath(new URL('../../bench/run.js', import.meta.url));

for (const name of ['ledger', 'ingest', 'simulate']) {
  test(`npm run bench -- ${name} --help prints the flags`, (t) => {
    const r = spawnSync(process.execPath, [run, name, '--help'], { encoding: 'utf8', timeout: 60_000 });
    t.is(r.status, 0, r.stderr);
    t.regex(r.stdout, new RegExp(`npm run bench -- ${name} \\[flags\\]`));
    t.regex(r.stdout, /--help/);
    t.notRegex(r.stdout + r.stderr, /TypeError|at .*\.ts:\d+/);
  });
}

test('an unknown flag is answered with the usage and a non-zero exit', (t) => {
  const r = spawnSync(process.execPath, [run, 'ledger', '--bogus'], { encoding: 'utf8', timeout: 60_000 });
  t.not(r.status, 0);
  t.regex(r.stderr, /Unknown option '--bogus'/);
  t.regex(r.stderr, /--txs VALUE/);
  t.notRegex(r.stderr, /TypeError|at .*\.ts:\d+/);
});
