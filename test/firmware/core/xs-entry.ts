/** Bundled and run inside XS by xs.test.ts: every core scenario, each reported as one JSON value. */
import { scenarios } from './scenarios.ts';

const g = globalThis as unknown as Record<string, unknown>;
report({ name: '(engine)', result: { ok: { hasProcess: typeof g.process !== 'undefined', hasBuffer: typeof g.Buffer !== 'undefined', hasPrint: typeof g.print === 'function' } } });

const names = xsInput as string[] | null;
for (const name of names ?? Object.keys(scenarios)) {
  let result: unknown;
  try {
    result = { ok: scenarios[name]() };
  } catch (e) {
    result = { threw: String((e as Error)?.stack ?? e) };
  }
  report({ name, result });
}
