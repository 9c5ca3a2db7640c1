import test from 'ava';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { apportion } from '../../../gateway/market/index.ts';
import { holds } from './book.ts';

test('largest remainder: floors first, leftovers to the largest remainders, ties to the lower index', (t) => {
  t.deepEqual(apportion(2, [1, 1, 1]), [1, 1, 0]); // ⅔ each; two left over, equal remainders → lower indices
  t.deepEqual(apportion(7, [5, 3, 2]), [4, 2, 1]); // 3.5, 2.1, 1.4 → floors 3,2,1; the 0.5 wins
  t.deepEqual(apportion(0, [5, 3]), [0, 0]);
  t.deepEqual(apportion(8, [5, 3]), [5, 3]);
  t.deepEqual(apportion(0, []), []);
  t.throws(() => apportion(9, [5, 3]), { instanceOf: RangeError });
});

test('shares sum to the total, never exceed their weight, and stay within one of the exact share', (t) => {
  holds(
    t,
    fc.property(
      fc.array(fc.integer({ min: 0, max: 1_000_000_000 }), { maxLength: 12 }).chain((ws) => {
        const sum = ws.reduce((a, b) => a + b, 0);
        return fc.tuple(fc.constant(ws), fc.integer({ min: 0, max: sum }));
      }),
      ([weights, total]) => {
        const shares = apportion(total, weights);
        const W = BigInt(weights.reduce((a, b) => a + b, 0));
        assert.equal(shares.reduce((a, b) => a + b, 0), total);
        shares.forEach((s, i) => {
          assert.ok(Number.isSafeInteger(s) && s >= 0 && s <= weights[i]);
          const dev = BigInt(s) * W - BigInt(total) * BigInt(weights[i]);
          assert.ok((dev < 0n ? -dev : dev) < W || W === 0n);
        });
      },
    ),
    { numRuns: 500 },
  );
});
