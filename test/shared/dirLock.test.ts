/**
 * shared/dirLock.ts, the lock the mcsim tests take turns with and firmware builds share
 * their work directory behind: one holder at a time, a dead holder's lock taken over,
 * and a release that never removes a lock someone else has taken since.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tryLock } from '../../shared/dirLock.ts';
import { tempDir } from '../helpers/grid.ts';

test('one holder at a time; a second release (the holder\'s exit handler) leaves the next holder\'s lock alone', (t) => {
  const dir = join(tempDir('helios-lock-'), 'lock');
  const a = tryLock(dir);
  if (!('release' in a)) return t.fail('the free lock was not taken');
  t.deepEqual(tryLock(dir), { heldBy: process.pid }, 'held: the next caller is told by whom');
  a.release();
  const b = tryLock(dir);
  t.true('release' in b, 'free again after the release');
  a.release(); // what `process.once('exit', release)` does after a release by hand
  t.true(existsSync(dir), "the first holder's second release did not remove the second holder's lock");
  t.deepEqual(tryLock(dir), { heldBy: process.pid });
  if ('release' in b) b.release();
  t.false(existsSync(dir));
});

test('a lock whose holder has died is taken over', (t) => {
  const dir = join(tempDir('helios-lock-'), 'lock');
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
  mkdirSync(dir);
  writeFileSync(join(dir, 'pid'), dead);
  const l = tryLock(dir);
  t.true('release' in l, `the lock of the dead pid ${dead} was taken over`);
  t.is(readFileSync(join(dir, 'pid'), 'utf8'), String(process.pid));
});
