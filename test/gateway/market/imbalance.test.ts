import test from 'ava';
import fc from 'fast-check';
import {
  clear, settle, type Allowance, type ClearingResult, type EscrowedBuyOffer, type MeteredEnergy, type Movement, type Settlement, type StorageState,
} from '../../../gateway/market/index.ts';
import { allowance, checkTariff, scheduleAt, tariffAt } from '../../../gateway/market/tariff.ts';
import { bookArb, codeOf, meterOf, order, type Book } from './book.ts';

const HEC = 1_000_000;
const owner = (name: string) => `${name}@helios.example`;

function escrowed(book: Book, r: ClearingResult): EscrowedBuyOffer[] {
  const fill = new Map(r.bids.map((f) => [f.id, f]));
  return book.bids.map((b) => ({ ...b, escrowMicroHec: fill.get(b.id)!.paymentMicroHec }));
}

// docs/market.md §9.5: Zarak sells 2 kWh to Asad and Dana; Kamran and Bilal trade nothing.
const book: Book = { offers: [order('zarak', 1, 2, 0.10)], bids: [order('asad', 2, 1, 0.25), order('dana', 3, 1, 0.20)] };
const tariff = { importMicroHecPerKWh: 300_000, feedInMicroHecPerKWh: 50_000 };
const storage: StorageState = { capacityMWh: 10_000_000, storedMWh: 9_800_000, buyPriceMicroHecPerKWh: 80_000, sellPriceMicroHecPerKWh: 250_000 };
const full = allowance(10 * HEC, 5_000_000, 300_000);
const allowances: Allowance[] = [
  ...['zarak', 'asad', 'dana', 'bilal'].map((n) => ({ meter: meterOf(n), owner: owner(n), ...full })),
  { meter: meterOf('kamran'), owner: owner('kamran'), ...allowance(1 * HEC, 5_000_000, 300_000) },
];

function onGridExample(): Settlement {
  const cleared = clear('pay-as-bid', book.offers, book.bids);
  const metered: MeteredEnergy[] = [
    { meter: meterOf('zarak'), importMWh: 200_000, exportMWh: 2_300_000 },
    { meter: meterOf('asad'), importMWh: 1_800_000, exportMWh: 0 },
    { meter: meterOf('dana'), importMWh: 400_000, exportMWh: 0 },
    { meter: meterOf('kamran'), importMWh: 2_000_000, exportMWh: 0 },
    { meter: meterOf('bilal'), importMWh: 0, exportMWh: 1_000_000 },
  ];
  return settle({ offers: book.offers, bids: escrowed(book, cleared), trades: cleared.trades, metered, storage, utility: { mode: 'on-grid', tariff, allowances } });
}

/** Net µHEC each account gains from the movements; escrow accounts as `escrow:<owner>`. */
function flows(ms: readonly Movement[]): Map<string, number> {
  const f = new Map<string, number>();
  const add = (k: string, v: number) => f.set(k, (f.get(k) ?? 0) + v);
  for (const m of ms) {
    if (m.amountMicroHec <= 0 || !Number.isInteger(m.amountMicroHec)) throw new Error(`movement of ${m.amountMicroHec}`);
    if (m.kind === 'escrow-to-seller') { add(`escrow:${m.from}`, -m.amountMicroHec); add(m.to, m.amountMicroHec); }
    else if (m.kind === 'escrow-to-buyer') { add(`escrow:${m.to}`, -m.amountMicroHec); add(m.to, m.amountMicroHec); }
    else if (m.kind === 'allowance-refund') { add(`escrow:${m.to}`, -m.amountMicroHec); add(m.to, m.amountMicroHec); }
    else if (m.kind === 'imbalance-charge') { add(`escrow:${m.from}`, -m.amountMicroHec); add(m.to, m.amountMicroHec); }
    else if (m.kind === 'feed-in') { add('utility', -m.amountMicroHec); add(m.to, m.amountMicroHec); }
    else { add('storage', -m.amountMicroHec); add(m.to, m.amountMicroHec); }
  }
  return f;
}

test('tariffs: flat, time of use by the UTC hour a period starts in, changes from a period on; feed-in above import is refused', (t) => {
  const tou = { importMicroHecPerKWh: 200_000, feedInMicroHecPerKWh: 40_000, timeOfUse: [
    { fromHourUtc: 7, importMicroHecPerKWh: 300_000, feedInMicroHecPerKWh: 50_000 },
    { fromHourUtc: 17, importMicroHecPerKWh: 450_000, feedInMicroHecPerKWh: 60_000 },
    { fromHourUtc: 22, importMicroHecPerKWh: 200_000, feedInMicroHecPerKWh: 40_000 },
  ] };
  checkTariff(tou, 'tariff');
  const at = (h: number) => tariffAt(tou, Date.UTC(2026, 5, 21, h)).importMicroHecPerKWh;
  t.deepEqual([0, 6, 7, 16, 17, 21, 22, 23].map(at), [200_000, 200_000, 300_000, 300_000, 450_000, 450_000, 200_000, 200_000]);
  t.deepEqual(tariffAt(tariff, Date.UTC(2026, 5, 21, 18)), tariff);
  const later = { fromMs: Date.UTC(2026, 5, 22), tariff: { importMicroHecPerKWh: 1, feedInMicroHecPerKWh: 0 } };
  t.is(scheduleAt(tariff, [later], Date.UTC(2026, 5, 21, 23)), tariff);
  t.is(scheduleAt(tariff, [later], Date.UTC(2026, 5, 22)), later.tariff);
  t.regex(codeOf(() => checkTariff({ importMicroHecPerKWh: 100, feedInMicroHecPerKWh: 101 }, 'tariff')), /^E_OUT_OF_RANGE/);
  t.regex(codeOf(() => checkTariff({ ...tou, timeOfUse: [tou.timeOfUse[1], tou.timeOfUse[0]] }, 'tariff')), /^E_OUT_OF_RANGE/);
});

test('the allowance: the cap while the free balance pays for it at the tariff, otherwise what it pays for; its escrow never exceeds the balance', (t) => {
  t.deepEqual(allowance(10 * HEC, 5_000_000, 300_000), { energyMWh: 5_000_000, escrowMicroHec: 1_500_000 });
  t.deepEqual(allowance(1 * HEC, 5_000_000, 300_000), { energyMWh: 3_333_333, escrowMicroHec: 1_000_000 });
  t.deepEqual(allowance(0, 5_000_000, 300_000), { energyMWh: 0, escrowMicroHec: 0 });
  fc.assert(fc.property(fc.integer({ min: 0, max: 10 ** 12 }), fc.integer({ min: 1, max: 10 ** 9 }), fc.integer({ min: 0, max: 10 ** 9 }), (balance, cap, price) => {
    const a = allowance(balance, cap, price);
    // Never more than the cap, never an escrow above the balance, and the whole cap whenever the balance pays for it.
    if (a.energyMWh > cap || a.escrowMicroHec > balance) return false;
    if (BigInt(balance) * 1_000_000n >= BigInt(cap) * BigInt(price) && a.energyMWh !== cap) return false;
    // Otherwise one more mWh would cost more than the balance.
    if (a.energyMWh < cap && price > 0 && BigInt(a.energyMWh + 1) * BigInt(price) <= BigInt(balance) * 1_000_000n) return false;
    return true;
  }));
});

test('docs/market.md §9.5 on-grid: imbalance import billed at the import tariff from the allowance, unsold export paid the feed-in tariff after the storage', (t) => {
  const s = onGridExample();
  const u = s.utility!;
  const row = (n: string) => u.meters.find((m) => m.meter === meterOf(n))!;
  t.like(row('zarak'), { imbalanceImportMWh: 200_000, chargeMicroHec: 60_000, allowanceRefundMicroHec: 1_440_000, storedMWh: 200_000, feedInMWh: 100_000, feedInMicroHec: 5_000 });
  t.like(row('asad'), { tradeImportMWh: 1_000_000, imbalanceImportMWh: 800_000, chargeMicroHec: 240_000, collectedMicroHec: 240_000, allowanceRefundMicroHec: 1_260_000 });
  t.like(row('dana'), { imbalanceImportMWh: 0, chargeMicroHec: 0, allowanceRefundMicroHec: 1_500_000 });
  t.like(row('kamran'), { allowanceMWh: 3_333_333, allowanceEscrowMicroHec: 1_000_000, imbalanceImportMWh: 2_000_000, chargeMicroHec: 600_000, allowanceRefundMicroHec: 400_000 });
  t.like(row('bilal'), { imbalanceImportMWh: 0, feedInMWh: 1_000_000, feedInMicroHec: 50_000, allowanceRefundMicroHec: 1_500_000 });
  t.like(u.totals, { imbalanceImportMWh: 3_000_000, chargedMicroHec: 900_000, unbilledMicroHec: 0, feedInMWh: 1_100_000, feedInMicroHec: 55_000 });
  const f = flows(s.movements);
  t.is(f.get('utility'), 845_000);
  t.is(f.get('storage'), -16_000);
  t.is(f.get(owner('zarak')), 450_000 + 16_000 + 5_000 + 1_440_000);
  // Every µHEC of escrow held (two bids, five allowances) is released: Σ escrow flows = −held.
  const held = 250_000 + 200_000 + 4 * 1_500_000 + 1_000_000;
  const escrowOut = [...f].filter(([k]) => k.startsWith('escrow:')).reduce((a, [, v]) => a + v, 0);
  t.is(escrowOut, -held);
  t.is([...f.values()].reduce((a, v) => a + v, 0), 0, 'movements only move tokens');
});

test('docs/market.md §9.5 islanded: the undelivered import the listing\'s credit let through is billed at the storage sell price, drawn from the storage', (t) => {
  const cleared = clear('pay-as-bid', book.offers, book.bids);
  const metered: MeteredEnergy[] = [
    { meter: meterOf('zarak'), importMWh: 0, exportMWh: 1_500_000 },
    { meter: meterOf('asad'), importMWh: 1_800_000, exportMWh: 0 },
    { meter: meterOf('dana'), importMWh: 400_000, exportMWh: 0 },
  ];
  const s = settle({ offers: book.offers, bids: escrowed(book, cleared), trades: cleared.trades, metered, storage, utility: { mode: 'islanded', tariff, allowances: [] } });
  const u = s.utility!;
  t.like(u.meters.find((m) => m.meter === meterOf('asad')), { tradeImportMWh: 750_000, imbalanceImportMWh: 250_000, chargeMicroHec: 62_500, collectedMicroHec: 62_500 });
  t.is(u.meters.find((m) => m.meter === meterOf('dana')), undefined, 'Dana imported less than was delivered to her: no imbalance');
  t.like(s.bids.find((b) => b.buyer === owner('asad')), { escrowMicroHec: 250_000, paidMicroHec: 187_500, imbalanceMicroHec: 62_500, refundMicroHec: 0 });
  t.like(s.storage, { storedBeforeMWh: 9_800_000, drawnMWh: 250_000, storedAfterMWh: 9_550_000 });
  t.is(flows(s.movements).get('storage'), 62_500);
  t.is(u.totals.feedInMicroHec, 0, 'islanded, nobody buys surplus beyond the storage');
  // Without a utility connection (a grid from before it) the same settlement bills nothing (§4.2).
  const legacy = settle({ offers: book.offers, bids: escrowed(book, cleared), trades: cleared.trades, metered, storage });
  t.is(legacy.utility, undefined);
  t.like(legacy.bids.find((b) => b.buyer === owner('asad')), { refundMicroHec: 62_500 });
});

test('a charge beyond the escrow is reported as unbilled, and a metered row for a meter with no part in the listing is refused', (t) => {
  const metered: MeteredEnergy[] = [{ meter: meterOf('kamran'), importMWh: 9_000_000, exportMWh: 0 }];
  const a: Allowance = { meter: meterOf('kamran'), owner: owner('kamran'), ...allowance(1 * HEC, 5_000_000, 300_000) };
  const s = settle({ offers: [], bids: [], trades: [], metered, storage, utility: { mode: 'on-grid', tariff, allowances: [a] } });
  t.like(s.utility!.totals, { chargedMicroHec: 2_700_000, collectedMicroHec: 1_000_000, unbilledMicroHec: 1_700_000 });
  t.regex(codeOf(() => settle({ offers: [], bids: [], trades: [], metered: [...metered, { meter: meterOf('eve'), importMWh: 1, exportMWh: 0 }], storage, utility: { mode: 'on-grid', tariff, allowances: [a] } })), /^E_METERED_MISMATCH/);
  t.regex(codeOf(() => settle({ offers: [], bids: [], trades: [], metered: [], storage, utility: { mode: 'on-grid', tariff, allowances: [a] } })), /^E_METERED_MISMATCH/);
});

test('property: on random books and readings, on-grid and islanded, imbalance settles to the last µHEC and no token is created or destroyed', (t) => {
  const arb = fc.record({
    book: bookArb({ maxOrders: 6, maxEnergy: 3_000, maxPrice: 400_000 }),
    mode: fc.constantFrom('on-grid' as const, 'islanded' as const),
    importTariff: fc.integer({ min: 0, max: 500_000 }),
    feedInShare: fc.integer({ min: 0, max: 100 }),
    readings: fc.array(fc.tuple(fc.integer({ min: 0, max: 9_000 }), fc.integer({ min: 0, max: 9_000 })), { minLength: 6, maxLength: 6 }),
    balances: fc.array(fc.integer({ min: 0, max: 3_000 }), { minLength: 6, maxLength: 6 }),
    stored: fc.integer({ min: 0, max: 5_000 }),
  });
  fc.assert(fc.property(arb, (x) => {
    const cleared = clear('pay-as-bid', x.book.offers, x.book.bids);
    const bids = escrowed(x.book, cleared);
    const owners = [...new Set([...x.book.offers, ...x.book.bids].map((o) => o.owner)), 'kamran@helios.example'];
    const meterByOwner = new Map<string, string>();
    for (const o of [...x.book.offers, ...x.book.bids]) meterByOwner.set(o.owner, o.meter);
    meterByOwner.set('kamran@helios.example', meterOf('kamran'));
    const imp = Math.max(1, x.importTariff);
    const t2 = { importMicroHecPerKWh: imp, feedInMicroHecPerKWh: Math.floor((imp * x.feedInShare) / 100) };
    const allow: Allowance[] = x.mode === 'on-grid'
      ? owners.map((o, i) => ({ meter: meterByOwner.get(o)!, owner: o, ...allowance(x.balances[i % 6], 5_000, imp) }))
      : [];
    const metered: MeteredEnergy[] = owners.map((o, i) => ({ meter: meterByOwner.get(o)!, importMWh: x.readings[i % 6][0], exportMWh: x.readings[i % 6][1] }));
    const meteredNeeded = x.mode === 'on-grid' ? metered : metered.filter((m) => m.meter !== meterOf('kamran'));
    const st: StorageState = { capacityMWh: 5_000, storedMWh: x.stored, buyPriceMicroHecPerKWh: 80_000, sellPriceMicroHecPerKWh: 250_000 };
    const s = settle({ offers: x.book.offers, bids, trades: cleared.trades, metered: meteredNeeded, storage: st, utility: { mode: x.mode, tariff: t2, allowances: allow } });
    const f = flows(s.movements);
    const held = bids.reduce((a, b) => a + b.escrowMicroHec, 0) + allow.reduce((a, b) => a + b.escrowMicroHec, 0);
    const escrowOut = [...f].filter(([k]) => k.startsWith('escrow:')).reduce((a, [, v]) => a + v, 0);
    const u = s.utility!;
    const utilityNet = (f.get('utility') ?? 0);
    return escrowOut === -held
      && [...f.values()].reduce((a, v) => a + v, 0) === 0
      && u.totals.collectedMicroHec + u.totals.unbilledMicroHec === u.totals.chargedMicroHec
      && (x.mode === 'on-grid' ? utilityNet === u.totals.collectedMicroHec - u.totals.feedInMicroHec : utilityNet === 0)
      && s.bids.every((b) => b.paidMicroHec + (b.imbalanceMicroHec ?? 0) + b.refundMicroHec === b.escrowMicroHec && b.refundMicroHec >= 0)
      && u.meters.every((m) => m.feedInMWh >= 0 && m.collectedMicroHec <= m.chargeMicroHec)
      && s.storage.storedAfterMWh >= 0 && s.storage.storedAfterMWh <= st.capacityMWh;
  }), { numRuns: 400 });
  t.pass();
});
