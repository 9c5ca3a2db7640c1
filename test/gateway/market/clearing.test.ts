import test from 'ava';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  clear, MECHANISMS, welfarePicoHec, type ClearingResult, type Mechanism, type Order,
} from '../../../gateway/market/index.ts';
import { bookArb, bruteForceOptimum, ceilValue, codeOf, floorValue, holds, order, shuffled, type Book } from './book.ts';

/** Trades as "seller→buyer kWh@HEC/kWh = µHEC" lines: what docs/market.md shows. */
function lines(r: ClearingResult): string[] {
  return r.trades.map((t) => `${t.seller.split('@')[0]}→${t.buyer.split('@')[0]} ${t.energyMWh / 1e6}@${t.priceMicroHecPerKWh / 1e6} = ${t.paymentMicroHec}`);
}

// docs/market.md, "The example book".
const exampleBook: Book = {
  offers: [order('bilal', 1, 2, 0.30), order('zarak', 2, 2, 0.10), order('chen', 3, 2, 0.25)],
  bids: [order('asad', 4, 2, 0.30), order('dana', 5, 2, 0.20), order('eve', 6, 3, 0.25)],
};

test('docs example, seed: offers in submission order, each to the highest remaining bids it reaches, at the bid', (t) => {
  const r = clear('seed', exampleBook.offers, exampleBook.bids);
  t.deepEqual(lines(r), ['bilal→asad 2@0.3 = 600000', 'zarak→eve 2@0.25 = 500000', 'chen→eve 1@0.25 = 250000']);
  t.is(r.tradedMWh, 5_000_000);
  t.is(r.clearingPriceMicroHecPerKWh, undefined);
  t.deepEqual(r.offers.map((o) => o.unsoldMWh), [0, 0, 1_000_000]); // chen: 1 kWh unsold (dana's 0.20 < 0.25)
  const dana = r.bids.find((b) => b.id === exampleBook.bids[1].id)!;
  t.deepEqual(dana, { id: dana.id, boughtMWh: 0, unboughtMWh: 2_000_000, escrowMicroHec: 400_000, paymentMicroHec: 0, unusedEscrowMicroHec: 400_000 });
  t.is(welfarePicoHec(r.trades, exampleBook.offers, exampleBook.bids), 300_000n * 1_000_000n); // 0.30 HEC
});

test('docs example, pay-as-bid: dearest offer first, highest bids first, at the bid — most volume', (t) => {
  const r = clear('pay-as-bid', exampleBook.offers, exampleBook.bids);
  t.deepEqual(lines(r), [
    'bilal→asad 2@0.3 = 600000', 'chen→eve 2@0.25 = 500000', 'zarak→eve 1@0.25 = 250000', 'zarak→dana 1@0.2 = 200000',
  ]);
  t.is(r.tradedMWh, 6_000_000);
  t.is(welfarePicoHec(r.trades, exampleBook.offers, exampleBook.bids), 250_000n * 1_000_000n);
});

test('docs example, pay-as-clear: merit order, one price for all — most surplus', (t) => {
  const r = clear('pay-as-clear', exampleBook.offers, exampleBook.bids);
  t.deepEqual(lines(r), ['zarak→asad 2@0.25 = 500000', 'chen→eve 2@0.25 = 500000']);
  t.is(r.clearingPriceMicroHecPerKWh, 250_000);
  t.is(r.tradedMWh, 4_000_000);
  // Asad bid 0.30 and pays 0.25: 100 000 µHEC of his escrow is price improvement.
  t.deepEqual(r.bids.map((b) => [b.escrowMicroHec, b.paymentMicroHec, b.unusedEscrowMicroHec]), [
    [600_000, 500_000, 100_000], [750_000, 500_000, 250_000], [400_000, 0, 400_000],
  ]);
  t.is(welfarePicoHec(r.trades, exampleBook.offers, exampleBook.bids), 400_000n * 1_000_000n);
});

test('docs example, the three side by side: traded, welfare, what buyers pay', (t) => {
  const row = (m: Mechanism) => {
    const r = clear(m, exampleBook.offers, exampleBook.bids);
    return [m, r.tradedMWh / 1e6, Number(welfarePicoHec(r.trades, exampleBook.offers, exampleBook.bids)) / 1e12, r.trades.reduce((a, x) => a + x.paymentMicroHec, 0)];
  };
  t.deepEqual(MECHANISMS.map(row), [['seed', 5, 0.3, 1_350_000], ['pay-as-bid', 6, 0.25, 1_550_000], ['pay-as-clear', 4, 0.4, 1_000_000]]);
});

test('docs example, pay-as-clear on a flat step: the midpoint of [L, U], rounded down', (t) => {
  const offers = [order('zarak', 1, 2, 0.10), order('chen', 2, 1, 0.28)];
  const bids = [order('asad', 3, 2, 0.30), order('eve', 4, 1, 0.150001)];
  const r = clear('pay-as-clear', offers, bids);
  // L = max(0.10 last reserve that trades, 0.150001 best bid left out) = 0.150001
  // U = min(0.30 last bid that trades, 0.28 cheapest offer left out) = 0.28
  t.is(r.clearingPriceMicroHecPerKWh, 215_000); // floor(430 001 / 2)
  t.deepEqual(lines(r), ['zarak→asad 2@0.215 = 430000']);
});

test('docs example, ties: equal bids are served in submission order, the later one partly', (t) => {
  const offers = [order('zarak', 1, 3, 0.10)];
  const bids = [order('asad', 3, 2, 0.20), order('dana', 2, 2, 0.20)];
  for (const m of MECHANISMS) {
    const r = clear(m, offers, bids);
    t.deepEqual(r.trades.map((x) => [x.buyer.split('@')[0], x.energyMWh]), [['dana', 2_000_000], ['asad', 1_000_000]], m);
  }
  // pay-as-clear: asad is left with 1 kWh at 0.20, so L = U = 0.20.
  t.is(clear('pay-as-clear', offers, bids).clearingPriceMicroHecPerKWh, 200_000);
});

test('docs example, rounding: a payment is floored, escrow is ceiled, the difference goes back', (t) => {
  const offers = [order('zarak', 1, 0.333333, 0.30)];
  const bids = [order('asad', 2, 0.333333, 0.30)];
  const r = clear('seed', offers, bids);
  t.is(r.trades[0].paymentMicroHec, 99_999); // 333 333 mWh × 300 000 / 10⁶ = 99 999.9
  t.is(r.bids[0].escrowMicroHec, 100_000);
  t.is(r.bids[0].unusedEscrowMicroHec, 1);
});

test('seed checks reserves — the paper\'s published code did not', (t) => {
  // An early offer whose reserve is above every bid sells nothing; a later, cheaper one still sells.
  const offers = [order('chen', 1, 5, 0.50), order('zarak', 2, 1, 0.05)];
  const bids = [order('asad', 3, 2, 0.30)];
  const r = clear('seed', offers, bids);
  t.deepEqual(lines(r), ['zarak→asad 1@0.3 = 300000']);
});

test('an empty or one-sided book clears to nothing', (t) => {
  for (const m of MECHANISMS) {
    const empty = clear(m, [], []);
    t.deepEqual([empty.trades, empty.tradedMWh, empty.clearingPriceMicroHecPerKWh], [[], 0, undefined]);
    const oneSided = clear(m, [order('zarak', 1, 1, 0)], []);
    t.deepEqual(oneSided.offers, [{ id: oneSided.offers[0].id, soldMWh: 0, unsoldMWh: 1_000_000 }]);
    const noMatch = clear(m, [order('zarak', 1, 1, 0.5)], [order('asad', 2, 1, 0.4)]);
    t.is(noMatch.trades.length, 0, m);
    t.is(noMatch.clearingPriceMicroHecPerKWh, undefined);
  }
});

// --- Invariants, on random books ----------------------------------------------------

function checkInvariants(book: Book, m: Mechanism, r: ClearingResult): void {
  const offerById = new Map(book.offers.map((o) => [o.id, o]));
  const bidById = new Map(book.bids.map((b) => [b.id, b]));
  const sold = new Map<string, number>();
  const bought = new Map<string, number>();
  const paid = new Map<string, number>();
  let traded = 0;
  for (const tr of r.trades) {
    const o = offerById.get(tr.offer);
    const b = bidById.get(tr.bid);
    assert.ok(o !== undefined && b !== undefined, 'trade refers to orders in the book');
    if (!o || !b) return;
    assert.ok(Number.isSafeInteger(tr.energyMWh) && tr.energyMWh >= 1, 'trade energy is a positive integer');
    assert.ok(o.priceMicroHecPerKWh <= tr.priceMicroHecPerKWh && tr.priceMicroHecPerKWh <= b.priceMicroHecPerKWh, `${m}: price within [reserve, bid]`);
    assert.equal(tr.paymentMicroHec, floorValue(tr.energyMWh, tr.priceMicroHecPerKWh), 'payment = floor(e·p/10⁶)');
    assert.equal(tr.seller, o.owner);
    assert.equal(tr.sellerMeter, o.meter);
    assert.equal(tr.buyer, b.owner);
    assert.equal(tr.buyerMeter, b.meter);
    sold.set(o.id, (sold.get(o.id) ?? 0) + tr.energyMWh);
    bought.set(b.id, (bought.get(b.id) ?? 0) + tr.energyMWh);
    paid.set(b.id, (paid.get(b.id) ?? 0) + tr.paymentMicroHec);
    traded += tr.energyMWh;
  }
  assert.equal(r.tradedMWh, traded, 'tradedMWh = Σ trades');
  assert.equal(r.offers.length, book.offers.length, 'every offer reported once');
  assert.equal(new Set(r.offers.map((f) => f.id)).size, book.offers.length);
  for (const f of r.offers) {
    const o = offerById.get(f.id)!;
    assert.equal(f.soldMWh, sold.get(f.id) ?? 0, 'soldMWh = Σ its trades');
    assert.ok(f.soldMWh <= o.energyMWh, 'no offer over-filled');
    assert.equal(f.unsoldMWh, o.energyMWh - f.soldMWh);
  }
  assert.equal(r.bids.length, book.bids.length, 'every bid reported once');
  for (const f of r.bids) {
    const b = bidById.get(f.id)!;
    assert.equal(f.boughtMWh, bought.get(f.id) ?? 0, 'boughtMWh = Σ its trades');
    assert.ok(f.boughtMWh <= b.energyMWh, 'no bid over-filled');
    assert.equal(f.escrowMicroHec, ceilValue(b.energyMWh, b.priceMicroHecPerKWh), 'escrow = ceil(q·bid/10⁶)');
    assert.equal(f.paymentMicroHec, paid.get(f.id) ?? 0);
    assert.ok(f.unusedEscrowMicroHec >= 0, 'payments never exceed escrow');
    assert.equal(f.escrowMicroHec, f.paymentMicroHec + f.unusedEscrowMicroHec, 'escrow = payments + unused');
  }
  // Bids are served strictly in rank (bid high to low, then seq): a bid trades only if every bid ranked above it is full.
  const ranked = [...book.bids].sort((a, b) => b.priceMicroHecPerKWh - a.priceMicroHecPerKWh || a.seq - b.seq);
  let sawNotFull = false;
  for (const b of ranked) {
    const q = bought.get(b.id) ?? 0;
    if (sawNotFull) assert.equal(q, 0, `${m}: a bid ranked below an unfilled bid bought nothing`);
    if (q < b.energyMWh) sawNotFull = true;
  }
}

const mechanismArb = fc.constantFrom(...MECHANISMS);

test('invariants: energy and tokens conserved, nothing over-filled, prices within [reserve, bid], integers only', (t) => {
  holds(
    t,
    fc.property(bookArb(), mechanismArb, (book, m) => {
      checkInvariants(book, m, clear(m, book.offers, book.bids));
    }),
    { numRuns: 400 },
  );
});

test('invariants hold on large prices and energies (µHEC beyond 2^53 in the products)', (t) => {
  holds(
    t,
    fc.property(bookArb({ maxEnergy: 1_000_000_000, maxPrice: 1_000_000_000_000 }), mechanismArb, (book, m) => {
      checkInvariants(book, m, clear(m, book.offers, book.bids));
    }),
    { numRuns: 200 },
  );
});

test('determinism: the same book in any array order gives the same result', (t) => {
  holds(
    t,
    fc.property(bookArb(), mechanismArb, fc.integer(), fc.integer(), (book, m, s1, s2) => {
      const a = clear(m, book.offers, book.bids);
      const b = clear(m, shuffled(book.offers, s1), shuffled(book.bids, s2));
      assert.deepEqual(a, b);
    }),
    { numRuns: 300 },
  );
});

test('seed never matches a bid below the reserve, and serves offers by submission', (t) => {
  holds(
    t,
    fc.property(bookArb(), (book) => {
      const r = clear('seed', book.offers, book.bids);
      const offer = new Map(book.offers.map((o) => [o.id, o]));
      const bid = new Map(book.bids.map((b) => [b.id, b]));
      const unsold = new Map(r.offers.map((f) => [f.id, f.unsoldMWh]));
      for (const tr of r.trades) {
        const o = offer.get(tr.offer)!;
        const b = bid.get(tr.bid)!;
        assert.ok(b.priceMicroHecPerKWh >= o.priceMicroHecPerKWh);
        assert.equal(tr.priceMicroHecPerKWh, b.priceMicroHecPerKWh, 'seed trades at the bid');
        // An earlier offer left with energy could not have taken this bid: its reserve is above it.
        for (const earlier of book.offers) {
          if (earlier.seq < o.seq && unsold.get(earlier.id)! > 0) assert.ok(b.priceMicroHecPerKWh < earlier.priceMicroHecPerKWh);
        }
      }
    }),
    { numRuns: 300 },
  );
});

test('pay-as-clear: one price, and it clears — nobody left out wants to trade at it', (t) => {
  holds(
    t,
    fc.property(bookArb(), (book) => {
      const r = clear('pay-as-clear', book.offers, book.bids);
      if (r.trades.length === 0) {
        assert.equal(r.clearingPriceMicroHecPerKWh, undefined);
        // Nothing traded: no bid reaches any reserve.
        for (const o of book.offers) for (const b of book.bids) assert.ok(b.priceMicroHecPerKWh < o.priceMicroHecPerKWh);
        return;
      }
      const p = r.clearingPriceMicroHecPerKWh!;
      for (const tr of r.trades) assert.equal(tr.priceMicroHecPerKWh, p);
      const byId = new Map([...book.offers, ...book.bids].map((o) => [o.id, o]));
      for (const f of r.bids) if (f.unboughtMWh > 0) assert.ok(byId.get(f.id)!.priceMicroHecPerKWh <= p, 'an unfilled bid bids at most the price');
      for (const f of r.offers) if (f.unsoldMWh > 0) assert.ok(byId.get(f.id)!.priceMicroHecPerKWh >= p, 'an unsold offer asks at least the price');
    }),
    { numRuns: 400 },
  );
});

test('pay-as-clear traded welfare equals the brute-force optimum; pay-as-bid volume equals the maximum volume', (t) => {
  holds(
    t,
    fc.property(bookArb({ maxOrders: 3, maxEnergy: 3, maxPrice: 5 }), (book) => {
      const best = bruteForceOptimum(book);
      const w = (m: Mechanism) => {
        const r = clear(m, book.offers, book.bids);
        return { welfare: Number(welfarePicoHec(r.trades, book.offers, book.bids)), volume: r.tradedMWh };
      };
      const pac = w('pay-as-clear');
      const pab = w('pay-as-bid');
      const seed = w('seed');
      assert.equal(pac.welfare, best.welfare, 'pay-as-clear welfare is optimal');
      assert.equal(pab.volume, best.volume, 'pay-as-bid volume is maximal');
      assert.ok(pab.welfare <= best.welfare && seed.welfare <= best.welfare);
      assert.ok(pac.volume <= best.volume && seed.volume <= best.volume);
    }),
    { numRuns: 500 },
  );
});

test('pay-as-clear price = floor((L + U) / 2), with L and U read off the result as docs/market.md defines them', (t) => {
  holds(
    t,
    fc.property(bookArb(), (book) => {
      const r = clear('pay-as-clear', book.offers, book.bids);
      if (r.trades.length === 0) return;
      const price = (id: string) => [...book.offers, ...book.bids].find((o) => o.id === id)!.priceMicroHecPerKWh;
      const oStar = Math.max(...r.trades.map((x) => price(x.offer)));
      const bStar = Math.min(...r.trades.map((x) => price(x.bid)));
      const bLeft = r.bids.filter((f) => f.unboughtMWh > 0).map((f) => price(f.id));
      const oLeft = r.offers.filter((f) => f.unsoldMWh > 0).map((f) => price(f.id));
      const L = Math.max(oStar, ...bLeft);
      const U = Math.min(bStar, ...oLeft);
      assert.ok(L <= U);
      assert.equal(r.clearingPriceMicroHecPerKWh, Math.floor((L + U) / 2));
    }),
    { numRuns: 400 },
  );
});

// --- Bad input -------------------------------------------------------------------

test('bad input is refused with a stable code and the path to the bad value', (t) => {
  const good = order('zarak', 1, 1, 0.1);
  const bid = order('asad', 2, 1, 0.2);
  const withField = (o: Order, f: Partial<Record<keyof Order, unknown>>) => ({ ...o, ...f }) as Order;
  t.is(codeOf(() => clear('seed', [withField(good, { energyMWh: 0 })], [bid])), 'E_OUT_OF_RANGE @offers[0].energyMWh');
  t.is(codeOf(() => clear('seed', [withField(good, { energyMWh: -5 })], [bid])), 'E_OUT_OF_RANGE @offers[0].energyMWh');
  t.is(codeOf(() => clear('seed', [withField(good, { energyMWh: 1_000_000_001 })], [bid])), 'E_OUT_OF_RANGE @offers[0].energyMWh');
  t.is(codeOf(() => clear('pay-as-bid', [good], [withField(bid, { energyMWh: 1.5 })])), 'E_NOT_INTEGER @bids[0].energyMWh');
  t.is(codeOf(() => clear('pay-as-clear', [good], [withField(bid, { priceMicroHecPerKWh: '200000' })])), 'E_WRONG_TYPE @bids[0].priceMicroHecPerKWh');
  t.is(codeOf(() => clear('seed', [good], [withField(bid, { priceMicroHecPerKWh: -1 })])), 'E_OUT_OF_RANGE @bids[0].priceMicroHecPerKWh');
  t.is(codeOf(() => clear('seed', [withField(good, { owner: '' })], [bid])), 'E_WRONG_TYPE @offers[0].owner');
  t.is(codeOf(() => clear('seed', [good, good], [bid])), 'E_DUPLICATE_TX @offers');
  t.is(codeOf(() => clear('pay-as-clear', [good], [bid, bid])), 'E_DUPLICATE_TX @bids');
  t.is(codeOf(() => clear('vickrey' as Mechanism, [good], [bid])), 'E_BAD_FORMAT @mechanism');
  t.is(codeOf(() => clear('toString' as Mechanism, [good], [bid])), 'E_BAD_FORMAT @mechanism');
  t.is(codeOf(() => clear('seed', null as unknown as Order[], [bid])), 'E_WRONG_TYPE @offers');
});
