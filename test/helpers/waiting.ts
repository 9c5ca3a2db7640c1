/** Small waits the firmware's end-to-end tests share (mcsim.test.ts, mcsim-powercut.test.ts). */
import { createServer } from 'node:net';

/** Whether nothing listens on 127.0.0.1:`port` (the firmware's broker port is compiled in, so tests pick from a fixed list). */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** Poll `f` until it gives a value; fail with `what` after `ms`. */
export async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms: number, everyMs = 250): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
