/**
 * One at a time across the test processes: ava runs test files side by side, and two
 * firmware meters in mcsim beside each other (each with a gateway, the SDK's X server,
 * and sometimes a cold mcconfig build of the other file) on two cores starve one
 * another — a meter that makes no reading for 30 s fails a test that is right.
 * A directory is the lock (mkdir is atomic); it names its owner's pid, and a lock
 * whose owner is gone is taken over.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Wait for the lock `name` and hold it; the returned function releases it (so does this process's exit). */
export async function exclusive(name: string, waitMs = 10 * 60_000): Promise<() => void> {
  const dir = join(tmpdir(), `helios-exclusive-${name}`);
  const end = Date.now() + waitMs;
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'pid'), String(process.pid));
      const release = () => rmSync(dir, { recursive: true, force: true });
      process.once('exit', release);
      return release;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let owner = NaN;
    try {
      owner = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    } catch { /* being written */ }
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && !alive(owner)) {
      rmSync(dir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > end) throw new Error(`waited ${waitMs} ms for ${dir} (held by pid ${owner})`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
