import test from 'ava';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  clear, MECHANISMS, settle, type ClearingResult, type EscrowedBuyOffer, type MeteredEnergy, type Order, type SettlementInput,
  type StorageState, type Trade,
} from '../../../gateway/market/index.ts';
import { bookArb, codeOf, floorValue, holds, meterOf, order, shuffled, type Book } from './book.ts';

const noStorage: StorageState = { capacityMWh: 0, storedMWh: 0, buyPriceMicroHecPerKWh: 0, sellPriceMicroHecPerKWh: 0 };

/** Bids as settle() takes them: each with the escrow the ledger still holds. */
function escrowed(book: Book, r: ClearingResult, releasedAtClose = false): EscrowedBuyOffer[] {
  const fill = new Map(r.bids.map((f) => [f.id, f]));
  return book.bids.map((b) => {
    const f = fill.get(b.id)!;
    return { ...b, escrowMicroHec: releasedAtClose ? f.paymentMicroHec : f.escrowMicroHec };
  });
}

// docs/market.md, "Settlement — worked example": the pay-as-bid result of the example book.
const exampleBook: Book = {
  offers: [order('bilal', 1, 2, 0.30), order('zarak', 2, 2, 0.10), order('chen', 3, 2, 0.25)],
  bids: [order('asad', 4, 2, 0.30), order('dana', 5, 2, 0.20), order('eve', 6, 3, 0.25)],
};

function exampleSettlement() {
  const cleared = clear('pay-as-bid', exampleBook.offers, exampleBook.bids);
  const metered: MeteredEnergy[] = [
    { meter: meterOf('bilal'), importMWh: 0, exportMWh: 2_500_000 }, // 0.5 kWh more than he sold
    { meter: meterOf('zarak'), importMWh: 0, exportMWh: 1_234_567 }, // short of the 2 kWh he sold
    { meter: meterOf('chen'), importMWh: 0, exportMWh: 2_000_000 },
    { meter: meterOf('asad'), importMWh: 2_000_000, exportMWh: 0 },
    { meter: meterOf('dana'), importMWh: 1_000_000, exportMWh: 0 },
    { meter: meterOf('eve'), importMWh: 2_500_000, exportMWh: 0 }, // used less than was delivered to her
  ];
  const storage: StorageState = { capacityMWh: 10_000_000, storedMWh: 9_800_000, buyPriceMicroHecPerKWh: 80_000, sellPriceMicroHecPerKWh: 120_000 };
  return settle({ offers: exampleBook.offers, bids: escrowed(exampleBook, cleared), trades: cleared.trades, metered, storage });
}

test('docs example: a short seller\'s buyers share the shortfall pro rata, largest remainder to the earlier bid', (t) => {
  const s = exampleSettlement();
  const name = (e: string) => e.split('@')[0];
  t.deepEqual(s.trades.map((x) => [name(x.seller), name(x.buyer), x.energyMWh, x.deliveredMWh, x.paymentMicroHec, x.paidMicroHec, x.undeliveredRefundMicroHec]), [
    ['bilal', 'asad', 2_000_000, 2_000_000, 600_000, 600_000, 0],
    ['chen', 'eve', 2_000_000, 2_000_000, 500_000, 500_000, 0],
    // zarak delivered 1 234 567 of 2 000 000: 617 283.5 each; the half mWh goes to dana's earlier bid (seq 5 < 6).
    ['zarak', 'eve', 1_000_000, 617_283, 250_000, 154_320, 95_680],
    ['zarak', 'dana', 1_000_000, 617_284, 200_000, 123_456, 76_544],
  ]);
  t.deepEqual(s.bids.map((b) => [name(b.buyer), b.escrowMicroHec, b.paidMicroHec, b.refundMicroHec]), [
    ['asad', 600_000, 600_000, 0],
    ['dana', 400_000, 123_456, 276_544], // 200 000 unmatched + 76 544 undelivered
    ['eve', 750_000, 654_320, 95_680],
  ]);
  t.deepEqual(s.totals, {
    escrowMicroHec: 1_750_000, paidToSellersMicroHec: 1_377_776, refundedMicroHec: 372_224, storageCreditMicroHec: 16_000,
    soldMWh: 6_000_000, deliveredMWh: 5_234_567,
  });
});

test('docs example: export beyond what was sold fills the storage\'s free room and no more', (t) => {
  const s = exampleSettlement();
  const bilal = s.sellers.find((x) => x.seller.startsWith('bilal'))!;
  t.like(bilal, { soldMWh: 2_000_000, exportMWh: 2_500_000, deliveredMWh: 2_000_000, surplusMWh: 500_000, storedMWh: 200_000, storageCreditMicroHec: 16_000 });
  const zarak = s.sellers.find((x) => x.seller.startsWith('zarak'))!;
  t.like(zarak, { soldMWh: 2_000_000, exportMWh: 1_234_567, deliveredMWh: 1_234_567, shortfallMWh: 765_433, surplusMWh: 0, storedMWh: 0 });
  t.deepEqual(s.storage, { capacityMWh: 10_000_000, storedBeforeMWh: 9_800_000, depositedMWh: 200_000, storedAfterMWh: 10_000_000, creditMicroHec: 16_000 });
  const eve = s.buyers.find((x) => x.buyer.startsWith('eve'))!;
  t.like(eve, { boughtMWh: 3_000_000, deliveredMWh: 2_617_283, importMWh: 2_500_000, unusedMWh: 117_283, undeliveredImportMWh: 0 });
  // Dana's credit let her import the whole 1 kWh; zarak delivered 0.617284 of it.
  const dana = s.buyers.find((x) => x.buyer.startsWith('dana'))!;
  t.like(dana, { boughtMWh: 1_000_000, deliveredMWh: 617_284, importMWh: 1_000_000, unusedMWh: 0, undeliveredImportMWh: 382_716 });
});

test('docs example: the movements the ledger applies, in order', (t) => {
  const s = exampleSettlement();
  t.deepEqual(s.movements.map((m) => `${m.kind} ${m.kind === 'escrow-to-seller' ? m.from.split('@')[0] + '→' : ''}${m.to.split('@')[0]} ${m.amountMicroHec}`), [
    'escrow-to-seller asad→bilal 600000',
    'escrow-to-seller eve→chen 500000',
    'escrow-to-seller eve→zarak 154320',
    'escrow-to-seller dana→zarak 123456',
    'escrow-to-buyer dana 276544',
    'escrow-to-buyer eve 95680',
    'storage-to-seller bilal 16000',
  ]);
});

test('releasing unused escrow at CloseBidding and the rest at Settle adds up to the same for everyone', (t) => {
  const cleared = clear('pay-as-bid', exampleBook.offers, exampleBook.bids);
  const metered: MeteredEnergy[] = ['bilal', 'zarak', 'chen', 'asad', 'dana', 'eve'].map((n) => ({ meter: meterOf(n), importMWh: 1_000_000, exportMWh: 1_500_000 }));
  const input = { offers: exampleBook.offers, trades: cleared.trades, metered, storage: noStorage };
  const all = settle({ ...input, bids: escrowed(exampleBook, cleared) });
  const split = settle({ ...input, bids: escrowed(exampleBook, cleared, true) });
  t.deepEqual(split.trades, all.trades);
  for (const f of cleared.bids) {
    const a = all.bids.find((b) => b.id === f.id)!;
    const b = split.bids.find((x) => x.id === f.id)!;
    t.is(a.refundMicroHec, b.refundMicroHec + f.unusedEscrowMicroHec, 'refund at Settle = refund at Close + refund at Settle');
  }
});

test('a seller that delivers nothing is paid nothing; its buyers get every µHEC back', (t) => {
  const offers = [order('zarak', 1, 1, 0.1)];
  const bids = [order('asad', 2, 1, 0.3)];
  const cleared = clear('seed', offers, bids);
  const s = settle({
    offers, bids: escrowed({ offers, bids }, cleared), trades: cleared.trades, storage: noStorage,
    metered: [{ meter: meterOf('zarak'), importMWh: 0, exportMWh: 0 }, { meter: meterOf('asad'), importMWh: 0, exportMWh: 0 }],
  });
  t.deepEqual(s.movements, [{ kind: 'escrow-to-buyer', bid: bids[0].id, to: 'asad@helios.example', amountMicroHec: 300_000 }]);
});

test('an unmatched prosumer\'s export goes to storage; a meter without a row exported nothing', (t) => {
  const offers = [order('zarak', 1, 1, 0.5), order('chen', 2, 1, 0.5)];
  const bids = [order('asad', 3, 1, 0.3)];
  const cleared = clear('pay-as-clear', offers, bids);
  t.is(cleared.trades.length, 0);
  const s = settle({
    offers, bids: escrowed({ offers, bids }, cleared), trades: [],
    metered: [{ meter: meterOf('zarak'), importMWh: 0, exportMWh: 400_000 }],
    storage: { capacityMWh: 5_000_000, storedMWh: 0, buyPriceMicroHecPerKWh: 100_000, sellPriceMicroHecPerKWh: 0 },
  });
  t.deepEqual(s.sellers.map((x) => [x.seller, x.storedMWh, x.storageCreditMicroHec]).sort(), [
    ['chen@helios.example', 0, 0], ['zarak@helios.example', 400_000, 40_000],
  ]);
  t.deepEqual(s.movements.map((m) => m.kind), ['escrow-to-buyer', 'storage-to-seller']);
});

test('storage room is shared pro rata when several sellers over-deliver', (t) => {
  const offers = [order('zarak', 1, 1, 0), order('chen', 2, 1, 0), order('bilal', 3, 1, 0)];
  const s = settle({
    offers, bids: [], trades: [],
    metered: [
      { meter: meterOf('zarak'), importMWh: 0, exportMWh: 1 },
      { meter: meterOf('chen'), importMWh: 0, exportMWh: 1 },
      { meter: meterOf('bilal'), importMWh: 0, exportMWh: 1 },
    ],
    storage: { capacityMWh: 2, storedMWh: 0, buyPriceMicroHecPerKWh: 1_000_000, sellPriceMicroHecPerKWh: 0 },
  });
  // 2 mWh of room, 3 mWh offered in equal parts: the two earliest offers' meters get one each.
  t.deepEqual(s.sellers.map((x) => [x.seller.split('@')[0], x.storedMWh]).sort(), [['bilal', 0], ['chen', 1], ['zarak', 1]]);
  t.is(s.storage.storedAfterMWh, 2);
});

// --- Invariants on random books, clearings and meter readings ------------------------

const settleCase = fc
  .tuple(
    bookArb({ maxOrders: 8, maxEnergy: 5_000, maxPrice: 3_000_000 }),
    fc.constantFrom(...MECHANISMS),
    fc.boolean(),
    fc.infiniteStream(fc.integer({ min: 0, max: 12_000 })),
    fc.record({ capacityMWh: fc.integer({ min: 0, max: 20_000 }), fill: fc.integer({ min: 0, max: 100 }), buyPriceMicroHecPerKWh: fc.integer({ min: 0, max: 2_000_000 }) }),
  )
  .map(([book, mechanism, releasedAtClose, readings, st]) => {
    const cleared = clear(mechanism, book.offers, book.bids);
    const meters = [...new Set([...book.offers, ...book.bids].map((o) => o.meter))].sort();
    const it = readings[Symbol.iterator]();
    const next = () => it.next().value as number;
    const metered: MeteredEnergy[] = meters.map((meter) => ({ meter, importMWh: next(), exportMWh: next() }));
    const storage: StorageState = {
      capacityMWh: st.capacityMWh, storedMWh: Math.floor((st.capacityMWh * st.fill) / 100),
      buyPriceMicroHecPerKWh: st.buyPriceMicroHecPerKWh, sellPriceMicroHecPerKWh: 0,
    };
    const input: SettlementInput = { offers: book.offers, bids: escrowed(book, cleared, releasedAtClose), trades: cleared.trades, metered, storage };
    return { book, cleared, input };
  });

test('invariants: escrow released to the last µHEC, sellers paid for delivery, shortfalls shared, storage never overfilled', (t) => {
  holds(
    t,
    fc.property(settleCase, ({ input }) => {
      const s = settle(input);
      const meter = new Map(input.metered.map((m) => [m.meter, m]));
      const offerById = new Map(input.offers.map((o) => [o.id, o]));

      // Tokens: every bid's escrow = paid to sellers + refund, exactly; nothing negative.
      let escrow = 0;
      for (const b of input.bids) {
        const r = s.bids.find((x) => x.id === b.id)!;
        assert.equal(r.escrowMicroHec, b.escrowMicroHec);
        assert.equal(r.paidMicroHec + r.refundMicroHec, b.escrowMicroHec);
        assert.ok(r.refundMicroHec >= 0 && r.paidMicroHec >= 0);
        escrow += b.escrowMicroHec;
      }
      const sum = (kind: string) => s.movements.filter((m) => m.kind === kind).reduce((a, m) => a + m.amountMicroHec, 0);
      assert.equal(sum('escrow-to-seller') + sum('escrow-to-buyer'), escrow, 'movements out of escrow = escrow held');
      assert.equal(sum('escrow-to-seller'), s.totals.paidToSellersMicroHec);
      assert.equal(sum('storage-to-seller'), s.storage.creditMicroHec);
      for (const m of s.movements) assert.ok(Number.isSafeInteger(m.amountMicroHec) && m.amountMicroHec > 0, 'movements are positive integers');

      // Energy: per seller meter, delivered = min(export, sold), split pro rata within one mWh.
      const bySeller = new Map<string, number[]>();
      s.trades.forEach((x, k) => bySeller.set(x.sellerMeter, [...(bySeller.get(x.sellerMeter) ?? []), k]));
      for (const [m, ks] of bySeller) {
        const sold = ks.reduce((a, k) => a + s.trades[k].energyMWh, 0);
        const delivered = Math.min(meter.get(m)!.exportMWh, sold);
        assert.equal(ks.reduce((a, k) => a + s.trades[k].deliveredMWh, 0), delivered, 'Σ delivered = min(export, sold)');
        for (const k of ks) {
          const x = s.trades[k];
          assert.ok(x.deliveredMWh >= 0 && x.deliveredMWh <= x.energyMWh);
          // |d − D·e/S| < 1  ⇔  |d·S − D·e| < S
          const dev = BigInt(x.deliveredMWh) * BigInt(sold) - BigInt(delivered) * BigInt(x.energyMWh);
          assert.ok((dev < 0n ? -dev : dev) < BigInt(sold), 'largest remainder stays within one mWh of the exact share');
          assert.equal(x.paidMicroHec, floorValue(x.deliveredMWh, x.priceMicroHecPerKWh));
          assert.equal(x.undeliveredRefundMicroHec, x.paymentMicroHec - x.paidMicroHec);
          assert.ok(x.undeliveredRefundMicroHec >= 0);
        }
        const row = s.sellers.find((r) => r.meter === m)!;
        assert.equal(row.deliveredMWh, delivered);
        assert.equal(row.shortfallMWh, sold - delivered);
      }

      // Storage: surplus = max(0, export − sold); it takes min(free, Σ surplus), never more than a meter's surplus.
      let surplus = 0;
      for (const row of s.sellers) {
        assert.equal(row.surplusMWh, Math.max(0, (meter.get(row.meter)?.exportMWh ?? 0) - row.soldMWh));
        assert.ok(row.storedMWh >= 0 && row.storedMWh <= row.surplusMWh);
        assert.equal(row.storageCreditMicroHec, floorValue(row.storedMWh, input.storage.buyPriceMicroHecPerKWh));
        assert.ok(input.offers.some((o) => o.meter === row.meter && offerById.has(o.id)));
        surplus += row.surplusMWh;
      }
      const free = input.storage.capacityMWh - input.storage.storedMWh;
      assert.equal(s.storage.depositedMWh, Math.min(free, surplus));
      assert.ok(s.storage.storedAfterMWh <= input.storage.capacityMWh);

      // Buyers pay for what was delivered to them, whatever they imported.
      for (const row of s.buyers) {
        const delivered = s.trades.filter((x) => x.buyerMeter === row.meter).reduce((a, x) => a + x.deliveredMWh, 0);
        assert.equal(row.deliveredMWh, delivered);
        assert.equal(row.unusedMWh, Math.max(0, delivered - meter.get(row.meter)!.importMWh));
        assert.equal(row.undeliveredImportMWh, Math.max(0, Math.min(meter.get(row.meter)!.importMWh, row.boughtMWh) - delivered));
      }
    }),
    { numRuns: 300 },
  );
});

test('full delivery pays every seller exactly its trade payments', (t) => {
  holds(
    t,
    fc.property(settleCase, ({ cleared, input }) => {
      const sold = new Map<string, number>();
      for (const x of cleared.trades) sold.set(x.sellerMeter, (sold.get(x.sellerMeter) ?? 0) + x.energyMWh);
      const metered = input.metered.map((m) => ({ ...m, exportMWh: Math.max(m.exportMWh, sold.get(m.meter) ?? 0) }));
      const s = settle({ ...input, metered });
      s.trades.forEach((x, k) => assert.equal(x.paidMicroHec, cleared.trades[k].paymentMicroHec));
      for (const b of s.bids) {
        const f = cleared.bids.find((x) => x.id === b.id)!;
        assert.equal(b.paidMicroHec, f.paymentMicroHec);
      }
    }),
    { numRuns: 200 },
  );
});

test('determinism: settle gives the same result whatever the order of offers, bids and metered rows', (t) => {
  holds(
    t,
    fc.property(settleCase, fc.integer(), ({ input }, seed) => {
      const a = settle(input);
      const b = settle({ ...input, offers: shuffled(input.offers, seed), bids: shuffled(input.bids, seed + 1), metered: shuffled(input.metered, seed + 2) });
      assert.deepEqual(a, b);
    }),
    { numRuns: 200 },
  );
});

// --- Inconsistent input ------------------------------------------------------------

test('inconsistent input is refused with a stable code before anything is computed', (t) => {
  const offers = [order('zarak', 1, 2, 0.1)];
  const bids = [order('asad', 2, 1, 0.3)];
  const cleared = clear('seed', offers, bids);
  const metered: MeteredEnergy[] = [{ meter: meterOf('zarak'), importMWh: 0, exportMWh: 1_000_000 }, { meter: meterOf('asad'), importMWh: 1_000_000, exportMWh: 0 }];
  const base: SettlementInput = { offers, bids: escrowed({ offers, bids }, cleared), trades: cleared.trades, metered, storage: noStorage };
  const trade = cleared.trades[0];
  const withTrade = (patch: Partial<Trade>) => ({ ...base, trades: [{ ...trade, ...patch }] });

  t.is(codeOf(() => settle(base)), 'OK');
  t.is(codeOf(() => settle(withTrade({ bid: 'f'.repeat(64) }))), 'E_UNKNOWN_OFFER @trades[0].bid');
  t.is(codeOf(() => settle(withTrade({ offer: 'e'.repeat(64) }))), 'E_UNKNOWN_OFFER @trades[0].offer');
  t.is(codeOf(() => settle({ ...base, bids: [] })), 'E_UNKNOWN_OFFER @trades[0].bid');
  t.is(codeOf(() => settle(withTrade({ priceMicroHecPerKWh: 50_000, paymentMicroHec: 50_000 }))), 'E_STATE_MISMATCH @trades[0].priceMicroHecPerKWh');
  t.is(codeOf(() => settle(withTrade({ paymentMicroHec: trade.paymentMicroHec + 1 }))), 'E_STATE_MISMATCH @trades[0].paymentMicroHec');
  t.is(codeOf(() => settle(withTrade({ energyMWh: 3_000_000, paymentMicroHec: 900_000 }))), 'E_STATE_MISMATCH @trades[0]');
  t.is(codeOf(() => settle(withTrade({ buyer: 'dana@helios.example' }))), 'E_STATE_MISMATCH @trades[0]');
  t.is(codeOf(() => settle({ ...base, trades: [trade, trade] })), 'E_STATE_MISMATCH @trades[1]');
  t.is(codeOf(() => settle({ ...base, bids: [{ ...base.bids[0], escrowMicroHec: trade.paymentMicroHec - 1 }] })), 'E_STATE_MISMATCH @trades[0]');
  t.is(codeOf(() => settle({ ...base, metered: [metered[0]] })), 'E_METERED_MISMATCH @metered');
  t.is(codeOf(() => settle({ ...base, metered: [...metered, metered[0]] })), 'E_METERED_MISMATCH @metered[2].meter');
  t.is(codeOf(() => settle({ ...base, metered: [{ ...metered[0], exportMWh: -1 }, metered[1]] })), 'E_OUT_OF_RANGE @metered[0].exportMWh');
  t.is(codeOf(() => settle({ ...base, storage: { ...noStorage, storedMWh: 1 } })), 'E_OUT_OF_RANGE @storage.storedMWh');
  t.is(codeOf(() => settle({ ...base, offers: [...offers, offers[0]] })), 'E_DUPLICATE_TX @offers[1].id');
  t.is(codeOf(() => settle({ ...base, bids: [{ ...base.bids[0], escrowMicroHec: 1.5 }] })), 'E_NOT_INTEGER @bids[0].escrowMicroHec');
  // One meter, two owners.
  const stolen: Order = { ...order('dana', 3, 1, 0.1), meter: meterOf('zarak') };
  t.is(codeOf(() => settle({ ...base, offers: [...offers, stolen] })), 'E_STATE_MISMATCH @offers[1]');
});
