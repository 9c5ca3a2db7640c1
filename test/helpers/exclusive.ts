/**
 * One at a time across the test processes: ava runs test files side by side, and two
 * firmware meters in mcsim beside each other (each with a gateway, the SDK's X server,
 * and sometimes a cold mcconfig build of the other file) on two cores starve one
 * another — a meter that makes no reading for 30 s fails a test that is right.
 * The lock is shared/dirLock.ts's: a directory naming its owner, taken over when the
 * owner is gone.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tryLock } from '../../shared/dirLock.ts';

/** Wait for the lock `name` and hold it; the returned function releases it (so does this process's exit). */
export async function exclusive(name: string, waitMs = 10 * 60_000): Promise<() => void> {
  const dir = join(tmpdir(), `helios-exclusive-${name}`);
  const end = Date.now() + waitMs;
  for (;;) {
    const lock = tryLock(dir);
    if ('release' in lock) {
      process.once('exit', lock.release);
      return lock.release;
    }
    if (Date.now() > end) throw new Error(`waited ${waitMs} ms for ${dir} (held by pid ${lock.heldBy})`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
