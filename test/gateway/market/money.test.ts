import test from 'ava';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { escrow, payment } from '../../../gateway/market/money.ts';
import { escrowMicroHec, paymentMicroHec } from '../../../protocol/units.ts';
import { holds } from './book.ts';

// The engine's allocation-free rounding must agree with protocol/units.ts to the µHEC.
test('payment and escrow equal protocol/units.ts on random inputs across the whole range', (t) => {
  const energy = fc.oneof(fc.integer({ min: 0, max: 1_000_000_000 }), fc.integer({ min: 0, max: 10_000 }));
  const price = fc.oneof(fc.integer({ min: 0, max: 1_000_000_000_000 }), fc.integer({ min: 0, max: 2_000_000 }));
  holds(
    t,
    fc.property(energy, price, (e, p) => {
      assert.equal(payment(e, p), paymentMicroHec(e, p));
      assert.equal(escrow(e, p), escrowMicroHec(e, p));
    }),
    { numRuns: 20_000 },
  );
});

test('payment and escrow equal protocol/units.ts at the boundaries: exact multiples, ±1, and products around 2^52', (t) => {
  const cases: Array<[number, number]> = [[0, 0], [0, 7], [1, 999_999], [1, 1_000_000], [1, 1_000_001], [333_333, 300_000], [317, 9_463_722_398]];
  // Products just below, at and above 2^52 = 4 503 599 627 370 496 (the fast path's limit).
  for (const p of [4_503_599, 4_503_600, 1_000_000_000_000, 999_999_999_999]) {
    const e0 = Math.floor(2 ** 52 / p);
    for (let d = -2; d <= 2; d++) cases.push([e0 + d, p]);
  }
  for (const [e, p] of cases) {
    t.is(payment(e, p), paymentMicroHec(e, p), `payment(${e}, ${p})`);
    t.is(escrow(e, p), escrowMicroHec(e, p), `escrow(${e}, ${p})`);
  }
});
