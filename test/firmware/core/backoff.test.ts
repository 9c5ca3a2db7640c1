import test from 'ava';
import { backoffCeiling, backoffDelay } from '../../../firmware/core/index.ts';
import { backoffScenario } from './scenarios.ts';

const cfg = { baseMs: 1000, capMs: 60_000, stableMs: 30_000 };

test('the ceiling doubles from the base and stops at the cap', (t) => {
  t.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 50].map((a) => backoffCeiling(cfg, a)), [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
});

test('equal jitter: every delay lies in [ceiling/2, ceiling), spread by the entropy', (t) => {
  const r = backoffScenario() as { growth: number[]; samplesMin: number; samplesMax: number; distinct: number; extremes: number[]; afterShort: number; afterStable: number };
  r.growth.forEach((d, i) => {
    const c = backoffCeiling(cfg, i);
    t.true(d >= c / 2 && d < c, `attempt ${i}: ${d} in [${c / 2}, ${c})`);
  });
  t.true(r.samplesMin >= 4000 && r.samplesMax < 8000);
  t.is(r.distinct, 200, 'different entropy, different delays');
  t.deepEqual(r.extremes, [4000, 7999, 45_000]);
  t.is(backoffDelay(cfg, 0, 0), 500);
  // A connection that lasted 10 s does not reset the growth; one that lasted the stable time does.
  t.true(r.afterShort >= 30_000, `after a short connection: ${r.afterShort}`);
  t.true(r.afterStable >= 500 && r.afterStable < 1000, `after a stable connection: ${r.afterStable}`);
});

test('a meter whose broker is down keeps metering and retries ever more slowly, never faster than the base, never slower than the cap; a long-lived connection resets it', (t) => {
  const r = backoffScenario() as { whileDown: number[]; seqWhileDown: number; upAfter: { state: string; connects: number }; afterDrop: { state: string; lastDelayMs: number } };
  const gaps = r.whileDown.slice(1).map((x, i) => x - r.whileDown[i]);
  t.is(r.whileDown[0], 0, 'the first attempt is at boot');
  gaps.forEach((g, i) => {
    const c = Math.min(16_000, 1000 * 2 ** i);
    t.true(g >= c / 2 && g <= c, `gap ${i}: ${g} within [${c / 2}, ${c}]`);
  });
  t.true(gaps.slice(-3).every((g) => g >= 8000), 'capped at 16 s, jittered in its upper half');
  t.is(r.seqWhileDown, 1, 'it took its reading while the broker was down');
  t.is(r.upAfter.state, 'online');
  t.is(r.afterDrop.state, 'online');
  t.true(r.afterDrop.lastDelayMs < 1000, 'back to the base after a stable connection');
});
