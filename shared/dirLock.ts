/**
 * A lock between processes on one machine: a directory (mkdir is atomic) naming its
 * owner's pid. A lock whose owner has died is taken over, so a killed test or build
 * never leaves it held. Used by the test files that take turns on mcsim
 * (test/helpers/exclusive.ts) and by builds sharing a work directory (simulator/mcsim.ts).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Take the lock `dir` if it is free or its owner is gone: its release, or undefined and who holds it. */
export function tryLock(dir: string): { release: () => void } | { heldBy: number } {
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'pid'), String(process.pid));
      // Released once: a second call (the holder's exit handler after it released by hand) must not
      // remove the lock another process has taken since.
      let held = true;
      return {
        release: () => {
          if (!held) return;
          held = false;
          rmSync(dir, { recursive: true, force: true });
        },
      };
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
    return { heldBy: owner };
  }
}
