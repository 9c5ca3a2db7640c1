/**
 * The market's transaction rules on the ledger (applyTx on a genesis state, no I/O):
 * the kWhListing lifecycle, escrow, clearing and settlement as docs/market.md states
 * them to the µHEC, the storage account, direct purchase, standing orders — and every
 * refusal with its code, leaving the state exactly as it was.
 */
import test from 'ava';
import { paymentMicroHec } from '../../../protocol/index.ts';
import { keys, type SettlementEntry, type TradesEntry } from '../../../gateway/ledger/entities.ts';
import { txId } from '../../../gateway/ledger/block.ts';
import { HEC, HOUR, KWH, L13, L14, NOON, World } from './ledgerWorld.ts';

const MIN = 60_000;
const at = (h: number, m = 0, s = 0) => Date.UTC(2026, 2, 21, h, m, s);

/** The example book of docs/market.md §2.2, posted on L13 in seq order. Returns the offer ids by name. */
function postExampleBook(w: World): Record<string, string> {
  const ids: Record<string, string> = {};
  const t = at(12, 10);
  const sell = (name: string, kWh: number, reserve: number) => {
    const tx = w.tx(name, { type: 'PVOffer', listing: L13, meter: w.meter(name), energyMWh: kWh * KWH, reservePriceMicroHecPerKWh: reserve });
    w.apply(tx, t);
    ids[name] = txId(tx);
  };
  const buy = (name: string, kWh: number, bid: number) => {
    const tx = w.tx(name, { type: 'BuyOffer', listing: L13, meter: w.meter(name), energyMWh: kWh * KWH, bidPriceMicroHecPerKWh: bid });
    w.apply(tx, t);
    ids[name] = txId(tx);
  };
  sell('Bilal', 2, 300_000);
  sell('Zarak', 2, 100_000);
  sell('Chen', 2, 250_000);
  buy('Asad', 2, 300_000);
  buy('Dana', 2, 200_000);
  buy('Eve', 3, 250_000);
  return ids;
}

test('docs/market.md §4.3 through the ledger: pay-as-bid clears the example book, Zarak under-delivers, every µHEC lands where the document says', (t) => {
  const w = new World({ clearing: 'pay-as-bid' });
  // The storage holds 9.8 of its 10 kWh: funded with 1 HEC, then Chen's export of the 11:00 period deposited.
  w.apply(w.auth({ type: 'Mint', to: 'storage', amountMicroHec: 1 * HEC }), NOON);
  w.apply(w.auth({ type: 'StorageDeposit', meter: w.meter('Chen'), energyMWh: 9_800_000, period: '2026-03-21T11:00Z', readingsHeight: 0 }), NOON);
  t.deepEqual(w.storage(), { capacityMWh: 10 * KWH, storedMWh: 9_800_000, fundMicroHec: 1 * HEC - 784_000 });
  const start = Object.fromEntries(['Bilal', 'Zarak', 'Chen', 'Asad', 'Dana', 'Eve'].map((n) => [n, w.balance(n)]));
  t.is(start.Chen, 10 * HEC + 784_000, 'Chen was paid 9.8 kWh × 0.08 HEC');

  const opened = w.apply(w.auth({ type: 'AcceptOfferBroadcast', listing: L13 }), at(12, 1));
  t.deepEqual(opened, [{ kind: 'listingOpened', listing: L13 }]);
  const ids = postExampleBook(w);
  t.like(w.listing(L13), { state: 'ACCEPT_OFFERS', offers: 3, bids: 3, offeredMWh: 6 * KWH, bidMWh: 7 * KWH, posted: 6 });
  t.deepEqual([w.escrow('Asad'), w.escrow('Dana'), w.escrow('Eve')], [600_000, 400_000, 750_000]);
  t.is(w.balance('Eve'), start.Eve - 750_000);

  const closed = w.apply(w.auth({ type: 'CloseBidding', listing: L13 }), at(12, 59));
  const trades = w.state.get<TradesEntry>(keys.trades(L13))!;
  t.deepEqual(trades.trades.map((x) => [x.seller, x.buyer, x.energyMWh, x.priceMicroHecPerKWh, x.paymentMicroHec]), [
    [w.email('Bilal'), w.email('Asad'), 2 * KWH, 300_000, 600_000],
    [w.email('Chen'), w.email('Eve'), 2 * KWH, 250_000, 500_000],
    [w.email('Zarak'), w.email('Eve'), 1 * KWH, 250_000, 250_000],
    [w.email('Zarak'), w.email('Dana'), 1 * KWH, 200_000, 200_000],
  ]);
  // Dana's unmatched 1 kWh (200 000 µHEC of escrow) comes back at close; the rest waits for Settle.
  t.deepEqual([w.escrow('Asad'), w.escrow('Dana'), w.escrow('Eve')], [600_000, 200_000, 750_000]);
  t.is(w.balance('Dana'), start.Dana - 200_000);
  t.like(w.listing(L13), { state: 'AUCTION_CLOSED', trades: 4, tradedMWh: 6 * KWH, mechanism: 'pay-as-bid' });
  t.deepEqual(closed.filter((e) => e.kind === 'creditDue'), [
    { kind: 'creditDue', meter: w.meter('Asad'), energyMWh: 2 * KWH, validFrom: at(13), validUntil: at(14), ref: L13 },
    { kind: 'creditDue', meter: w.meter('Dana'), energyMWh: 1 * KWH, validFrom: at(13), validUntil: at(14), ref: L13 },
    { kind: 'creditDue', meter: w.meter('Eve'), energyMWh: 3 * KWH, validFrom: at(13), validUntil: at(14), ref: L13 },
  ].sort((a, b) => (a.meter < b.meter ? -1 : 1)));

  const metered = [
    { meter: w.meter('Bilal'), importMWh: 0, exportMWh: 2_500_000 },
    { meter: w.meter('Zarak'), importMWh: 0, exportMWh: 1_234_567 },
    { meter: w.meter('Chen'), importMWh: 0, exportMWh: 2_000_000 },
    { meter: w.meter('Asad'), importMWh: 2_000_000, exportMWh: 0 },
    { meter: w.meter('Dana'), importMWh: 1_000_000, exportMWh: 0 },
    { meter: w.meter('Eve'), importMWh: 2_500_000, exportMWh: 0 },
  ];
  w.apply(w.auth({ type: 'Settle', listing: L13, metered, readingsHeight: w.height }), at(14, 1));
  const moved = (n: string) => w.balance(n) - start[n];
  t.is(moved('Bilal'), 600_000 + 16_000, 'paid for 2 kWh, and 0.2 kWh of surplus at the storage buy price');
  t.is(moved('Zarak'), 154_320 + 123_456, 'paid for the 1.234567 kWh he delivered, shared 617 283 / 617 284');
  t.is(moved('Chen'), 500_000);
  t.is(moved('Asad'), -600_000);
  t.is(moved('Dana'), -123_456, 'refunded 276 544 of 400 000: 200 000 unmatched + 76 544 undelivered');
  t.is(moved('Eve'), -654_320, 'refunded 95 680 undelivered');
  for (const n of ['Asad', 'Dana', 'Eve']) t.is(w.escrow(n), 0, `${n}'s escrow released to the last µHEC`);
  t.like(w.storage(), { storedMWh: 10 * KWH, fundMicroHec: 1 * HEC - 784_000 - 16_000 });
  const s = w.state.get<SettlementEntry>(keys.settlement(L13))!;
  t.like(s.totals, { escrowMicroHec: 1_550_000, paidToSellersMicroHec: 1_377_776, refundedMicroHec: 172_224, storageCreditMicroHec: 16_000 });
  t.like(s.storage, { storedBeforeMWh: 9_800_000, depositedMWh: 200_000, storedAfterMWh: 10 * KWH, capacityMWh: 10 * KWH });
  t.like(w.listing(L13), { state: 'SETTLED' });
  t.like(w.offer(ids.Dana), { escrowMicroHec: 0 });
  const tokens = w.tokens();
  t.is(tokens.held, tokens.minted);
  t.false(tokens.negative);
});

test('with no unused escrow returned before Settle the buyer ends the same: cancel returns a bid\'s escrow in full', (t) => {
  const w = new World();
  w.apply(w.auth({ type: 'AcceptOfferBroadcast', listing: L13 }), at(12, 1));
  const before = w.balance('Asad');
  const bid = w.tx('Asad', { type: 'BuyOffer', listing: L13, meter: w.meter('Asad'), energyMWh: 333_333, bidPriceMicroHecPerKWh: 300_000 });
  w.apply(bid, at(12, 2));
  t.is(w.escrow('Asad'), 100_000, 'ceil(333 333 × 0.30) = ceil(99 999.9)');
  w.apply(w.tx('Asad', { type: 'CancelOffer', listing: L13, offer: txId(bid) }), at(12, 3));
  t.is(w.balance('Asad'), before);
  t.is(w.escrow('Asad'), 0);
  t.like(w.listing(L13), { bids: 0, bidMWh: 0, posted: 1 });
  t.like(w.offer(txId(bid)), { status: 'cancelled' });
});

test('a CloseBidding that lands after the delivery start trades nothing and returns every escrow', (t) => {
  const w = new World();
  w.apply(w.auth({ type: 'AcceptOfferBroadcast', listing: L13 }), at(12, 1));
  postExampleBook(w);
  const events = w.apply(w.auth({ type: 'CloseBidding', listing: L13 }), at(13, 0, 5));
  t.like(w.listing(L13), { state: 'AUCTION_CLOSED', late: true, trades: 0, tradedMWh: 0 });
  t.false(events.some((e) => e.kind === 'creditDue'), 'no credit for a period already under way');
  for (const n of ['Asad', 'Dana', 'Eve']) t.is(w.escrow(n), 0);
  t.is(w.balance('Asad'), 10 * HEC);
  // Settle still runs: the sellers' export goes into storage if it can pay (its fund is empty here).
  w.apply(w.auth({ type: 'Settle', listing: L13, metered: [{ meter: w.meter('Bilal'), importMWh: 0, exportMWh: 1000 }], readingsHeight: w.height }), at(14));
  t.like(w.listing(L13), { state: 'SETTLED' });
  t.is(w.balance('Bilal'), 10 * HEC);
});

test('the paper\'s direct purchase: 317 mWh for 3 HEC, both balances move by exactly 3 HEC, the meter gets credit for the minute', (t) => {
  const w = new World({ households: [{ name: 'Zarak', role: 'prosumer' }, { name: 'Asad', role: 'consumer' }] });
  const tx = w.tx('Asad', { type: 'DirectPurchase', seller: w.email('Zarak'), meter: w.meter('Asad'), energyMWh: 317, amountMicroHec: 3 * HEC, durationMs: MIN });
  const events = w.apply(tx, at(12, 30));
  t.is(w.balance('Asad'), 7 * HEC);
  t.is(w.balance('Zarak'), 13 * HEC);
  t.deepEqual(events[1], { kind: 'creditDue', meter: w.meter('Asad'), energyMWh: 317, validFrom: at(12, 30), validUntil: at(12, 31), ref: txId(tx) });
  w.refused(t, w.tx('Zarak', { type: 'DirectPurchase', seller: w.email('Asad'), meter: w.meter('Zarak'), energyMWh: 317, amountMicroHec: HEC, durationMs: MIN }), at(12, 31), 'E_WRONG_ROLE', /consumer/);
  w.refused(t, w.tx('Asad', { type: 'DirectPurchase', seller: w.email('Asad'), meter: w.meter('Asad'), energyMWh: 317, amountMicroHec: HEC, durationMs: MIN }), at(12, 31), 'E_SELF_TRANSFER');
  w.refused(t, w.tx('Asad', { type: 'DirectPurchase', seller: w.email('Zarak'), meter: w.meter('Zarak'), energyMWh: 317, amountMicroHec: HEC, durationMs: MIN }), at(12, 31), 'E_NOT_OWNER');
  w.refused(t, w.tx('Asad', { type: 'DirectPurchase', seller: w.email('Zarak'), meter: w.meter('Asad'), energyMWh: 317, amountMicroHec: 8 * HEC, durationMs: MIN }), at(12, 31), 'E_INSUFFICIENT_BALANCE');
  // 1 mWh for 1 HEC is 1 000 000 HEC/kWh, above the cap.
  w.refused(t, w.tx('Asad', { type: 'DirectPurchase', seller: w.email('Zarak'), meter: w.meter('Asad'), energyMWh: 1, amountMicroHec: HEC, durationMs: MIN }), at(12, 31), 'E_PRICE_CAP');
});

test('storage: a purchase pays the sell price into the fund and gets a credit token; never more than it holds', (t) => {
  const w = new World({ storage: { capacityMWh: 5 * KWH, buyPriceMicroHecPerKWh: 100_000, sellPriceMicroHecPerKWh: 300_000 } });
  w.refused(t, w.tx('Asad', { type: 'StoragePurchase', meter: w.meter('Asad'), energyMWh: 1, maxPriceMicroHecPerKWh: HEC }), NOON, 'E_STORAGE_EMPTY');
  // No fund, no purchase of surplus.
  w.refused(t, w.auth({ type: 'StorageDeposit', meter: w.meter('Bilal'), energyMWh: KWH, period: '2026-03-21T11:00Z', readingsHeight: 0 }), NOON, 'E_INSUFFICIENT_BALANCE', /Mint to "storage"/);
  w.apply(w.auth({ type: 'Mint', to: 'storage', amountMicroHec: HEC }), NOON);
  w.apply(w.auth({ type: 'StorageDeposit', meter: w.meter('Bilal'), energyMWh: 2 * KWH, period: '2026-03-21T11:00Z', readingsHeight: 0 }), NOON);
  t.is(w.balance('Bilal'), 10 * HEC + 200_000);
  w.refused(t, w.auth({ type: 'StorageDeposit', meter: w.meter('Bilal'), energyMWh: 1, period: '2026-03-21T11:00Z', readingsHeight: 0 }), NOON, 'E_ALREADY_SETTLED', /already deposited/);
  w.refused(t, w.auth({ type: 'StorageDeposit', meter: w.meter('Zarak'), energyMWh: 4 * KWH, period: '2026-03-21T11:00Z', readingsHeight: 0 }), NOON, 'E_STORAGE_FULL');
  w.refused(t, w.auth({ type: 'StorageDeposit', meter: w.meter('Asad'), energyMWh: 1, period: '2026-03-21T11:00Z', readingsHeight: 0 }), NOON, 'E_WRONG_ROLE');
  w.refused(t, w.auth({ type: 'StorageDeposit', meter: w.meter('Zarak'), energyMWh: 1, period: '2026-03-21T12:00Z', readingsHeight: 0 }), NOON + 1, 'E_LISTING_NOT_CLOSED');
  w.refused(t, w.tx('Asad', { type: 'StoragePurchase', meter: w.meter('Asad'), energyMWh: KWH, maxPriceMicroHecPerKWh: 299_999 }), NOON, 'E_PRICE_ABOVE_MAX');
  w.refused(t, w.tx('Asad', { type: 'StoragePurchase', meter: w.meter('Asad'), energyMWh: 2 * KWH + 1, maxPriceMicroHecPerKWh: HEC }), NOON, 'E_STORAGE_EMPTY', /holds 2000000 mWh/);
  const tx = w.tx('Asad', { type: 'StoragePurchase', meter: w.meter('Asad'), energyMWh: 333_333, maxPriceMicroHecPerKWh: 300_000 });
  const events = w.apply(tx, NOON + 5 * MIN);
  t.is(w.balance('Asad'), 10 * HEC - paymentMicroHec(333_333, 300_000));
  t.is(paymentMicroHec(333_333, 300_000), 99_999);
  t.deepEqual(w.storage(), { capacityMWh: 5 * KWH, storedMWh: 2 * KWH - 333_333, fundMicroHec: HEC - 200_000 + 99_999 });
  t.like(events.find((e) => e.kind === 'creditDue'), { meter: w.meter('Asad'), energyMWh: 333_333, validFrom: NOON + 5 * MIN, validUntil: NOON + 5 * MIN + HOUR, ref: txId(tx) });
  const tokens = w.tokens();
  t.is(tokens.held, tokens.minted);
});

test('a meter that offered on a listing is paid for that period by Settle, never by StorageDeposit', (t) => {
  const w = new World();
  w.apply(w.auth({ type: 'Mint', to: 'storage', amountMicroHec: HEC }), NOON);
  w.apply(w.auth({ type: 'AcceptOfferBroadcast', listing: L13 }), at(12, 1));
  const offer = w.tx('Bilal', { type: 'PVOffer', listing: L13, meter: w.meter('Bilal'), energyMWh: KWH });
  w.apply(offer, at(12, 2));
  w.refused(t, w.auth({ type: 'StorageDeposit', meter: w.meter('Bilal'), energyMWh: 1000, period: L13, readingsHeight: 0 }, at(14)), at(14, 1), 'E_ALREADY_SETTLED', /settled by the listing's Settle/);
  // Withdrawn before close, the offer no longer stands for the period: a deposit may pay the export.
  w.apply(w.tx('Bilal', { type: 'CancelOffer', listing: L13, offer: txId(offer) }), at(12, 3));
  w.apply(w.auth({ type: 'StorageDeposit', meter: w.meter('Bilal'), energyMWh: 1000, period: L13, readingsHeight: 0 }, at(14)), at(14, 1));
  t.is(w.balance('Bilal'), 10 * HEC + 80);
});

test('bad market transactions are refused with their code and change nothing', (t) => {
  const w = new World({ priceCapMicroHecPerKWh: 1_000_000 });
  const t0 = at(12, 10);
  const pv = (name: string, listing = L13, over: object = {}) => w.tx(name, { type: 'PVOffer', listing, meter: w.meter(name), energyMWh: KWH, ...over });
  const bid = (name: string, listing = L13, over: object = {}) => w.tx(name, { type: 'BuyOffer', listing, meter: w.meter(name), energyMWh: KWH, bidPriceMicroHecPerKWh: 200_000, ...over });

  w.refused(t, pv('Bilal'), t0, 'E_UNKNOWN_LISTING');
  w.refused(t, w.tx('Asad', { type: 'AcceptOfferBroadcast', listing: L13 }), t0, 'E_NOT_AUTHORITY');
  w.refused(t, w.auth({ type: 'AcceptOfferBroadcast', listing: '2026-03-21T13:30Z' }), t0, 'E_OUT_OF_RANGE', /use 2026-03-21T13:00Z or 2026-03-21T14:00Z/);
  w.refused(t, w.auth({ type: 'AcceptOfferBroadcast', listing: '2026-02-30T13:00Z' }), t0, 'E_BAD_FORMAT');
  w.refused(t, w.auth({ type: 'AcceptOfferBroadcast', listing: '2026-03-21T12:00Z' }), t0, 'E_OUT_OF_RANGE', /began/);
  w.refused(t, w.auth({ type: 'AcceptOfferBroadcast', listing: '2026-03-22T13:00Z' }), t0, 'E_OUT_OF_RANGE', /24 periods/);
  w.apply(w.auth({ type: 'AcceptOfferBroadcast', listing: L13 }), at(12, 1));
  w.refused(t, w.auth({ type: 'AcceptOfferBroadcast', listing: L13 }), t0, 'E_LISTING_EXISTS');

  w.refused(t, pv('Asad'), t0, 'E_WRONG_ROLE', /consumer/);
  w.refused(t, pv('Bilal', L13, { meter: w.meter('Zarak') }), t0, 'E_NOT_OWNER');
  w.refused(t, pv('Bilal', L13, { reservePriceMicroHecPerKWh: 1_000_001 }), t0, 'E_PRICE_CAP');
  w.refused(t, bid('Asad', L13, { bidPriceMicroHecPerKWh: 1_000_001 }), t0, 'E_PRICE_CAP');
  w.refused(t, bid('Asad', L13, { energyMWh: 51 * KWH, bidPriceMicroHecPerKWh: 200_000 }), t0, 'E_INSUFFICIENT_BALANCE', /needs 10200000 µHEC in escrow/);
  w.refused(t, bid('Asad', L14), t0, 'E_UNKNOWN_LISTING');
  w.refused(t, w.auth({ type: 'PVOffer', listing: L13, meter: w.meter('Bilal'), energyMWh: KWH }), t0, 'E_WRONG_ROLE', /household's own key/);

  const mine = bid('Asad');
  w.apply(mine, t0);
  w.refused(t, w.tx('Dana', { type: 'CancelOffer', listing: L13, offer: txId(mine) }), t0, 'E_NOT_OWNER');
  w.refused(t, w.tx('Asad', { type: 'CancelOffer', listing: L14, offer: txId(mine) }), t0, 'E_UNKNOWN_OFFER');
  w.refused(t, w.tx('Asad', { type: 'CloseBidding', listing: L13 }), t0, 'E_NOT_AUTHORITY');
  w.refused(t, w.auth({ type: 'Settle', listing: L13, metered: [], readingsHeight: 0 }), t0, 'E_LISTING_NOT_CLOSED', /still open/);
  // A bid landing after the delivery start is too late, even before CloseBidding.
  w.refused(t, bid('Dana'), at(13), 'E_LISTING_CLOSED', /delivery .* began/);

  w.apply(w.auth({ type: 'CloseBidding', listing: L13 }), at(12, 59));
  w.refused(t, w.auth({ type: 'CloseBidding', listing: L13 }), at(12, 59), 'E_LISTING_CLOSED');
  w.refused(t, pv('Bilal'), at(12, 59), 'E_LISTING_CLOSED', /AUCTION_CLOSED/);
  w.refused(t, bid('Dana'), at(12, 59), 'E_LISTING_CLOSED');
  w.refused(t, w.tx('Asad', { type: 'CancelOffer', listing: L13, offer: txId(mine) }), at(12, 59), 'E_OFFER_NOT_OPEN', /has run/);
  w.refused(t, w.auth({ type: 'Settle', listing: L13, metered: [], readingsHeight: 0 }), at(13, 59), 'E_LISTING_NOT_CLOSED', /runs until/);
  w.refused(t, w.auth({ type: 'Settle', listing: L13, metered: [{ meter: w.meter('Eve'), importMWh: 0, exportMWh: 0 }], readingsHeight: 0 }), at(14), 'E_METERED_MISMATCH', /neither offered nor bought/);
  w.refused(t, w.auth({ type: 'Settle', listing: L13, metered: [], readingsHeight: w.height + 1 }), at(14), 'E_OUT_OF_RANGE', /readingsHeight/);
  w.apply(w.auth({ type: 'Settle', listing: L13, metered: [], readingsHeight: 0 }), at(14));
  w.refused(t, w.auth({ type: 'Settle', listing: L13, metered: [], readingsHeight: 0 }), at(14), 'E_ALREADY_SETTLED');
  t.is(w.escrow('Asad'), 0, 'a bid nobody sold to is refunded at close');
  t.is(w.balance('Asad'), 10 * HEC);
});

test('standing orders: the authority places offers within what the household signed, once per listing; revoking withdraws the open one and stops them', (t) => {
  const w = new World();
  const t0 = at(12, 2);
  w.apply(w.auth({ type: 'AcceptOfferBroadcast', listing: L13 }), at(12, 1));
  w.refused(t, w.tx('Asad', { type: 'StandingOrder', side: 'sell', meter: w.meter('Asad'), energyMWh: KWH, priceMicroHecPerKWh: 0 }), t0, 'E_WRONG_ROLE');
  const sell = w.tx('Zarak', { type: 'StandingOrder', side: 'sell', meter: w.meter('Zarak'), energyMWh: 2 * KWH, priceMicroHecPerKWh: 100_000 });
  const buy = w.tx('Asad', { type: 'StandingOrder', side: 'buy', meter: w.meter('Asad'), energyMWh: KWH, priceMicroHecPerKWh: 300_000, validUntil: at(13, 30) });
  w.apply(sell, t0);
  w.apply(buy, t0);
  const order = txId(sell);
  const place = (over: object = {}) => w.auth({ type: 'PVOffer', listing: L13, meter: w.meter('Zarak'), energyMWh: KWH, reservePriceMicroHecPerKWh: 100_000, order, ...over });
  w.refused(t, w.tx('Zarak', { type: 'PVOffer', listing: L13, meter: w.meter('Zarak'), energyMWh: KWH, order }), t0, 'E_NOT_AUTHORITY');
  w.refused(t, place({ energyMWh: 2 * KWH + 1 }), t0, 'E_OUT_OF_RANGE', /allows per period/);
  w.refused(t, place({ reservePriceMicroHecPerKWh: 99_999 }), t0, 'E_OUT_OF_RANGE', /order's price/);
  w.refused(t, place({ meter: w.meter('Bilal') }), t0, 'E_NOT_OWNER');
  w.refused(t, place({ order: txId(buy) }), t0, 'E_UNKNOWN_ORDER');
  const placed = place();
  w.apply(placed, t0);
  t.like(w.offer(txId(placed)), { owner: w.email('Zarak'), order, status: 'open', energyMWh: KWH });
  w.refused(t, place(), t0, 'E_DUPLICATE_TX', /already has its offer/);
  const bidTx = w.auth({ type: 'BuyOffer', listing: L13, meter: w.meter('Asad'), energyMWh: KWH, bidPriceMicroHecPerKWh: 300_000, order: txId(buy) });
  w.apply(bidTx, t0);
  t.is(w.escrow('Asad'), 300_000, 'the household\'s own tokens go into escrow');

  w.refused(t, w.tx('Bilal', { type: 'RevokeStandingOrder', order }), t0, 'E_NOT_OWNER');
  const events = w.apply(w.tx('Zarak', { type: 'RevokeStandingOrder', order }), t0);
  t.deepEqual(events.map((e) => e.kind), ['orderRevoked', 'offerCancelled']);
  t.like(w.offer(txId(placed)), { status: 'cancelled' });
  t.like(w.listing(L13), { offers: 0 });
  w.refused(t, w.tx('Zarak', { type: 'RevokeStandingOrder', order }), t0, 'E_ORDER_NOT_ACTIVE', /already revoked/);
  w.apply(w.auth({ type: 'AcceptOfferBroadcast', listing: L14 }), at(13, 1));
  w.refused(t, place({ listing: L14 }), at(13, 2), 'E_ORDER_NOT_ACTIVE', /revoked/);
  // Asad's buy order expired at 13:30.
  w.refused(t, w.auth({ type: 'BuyOffer', listing: L14, meter: w.meter('Asad'), energyMWh: KWH, bidPriceMicroHecPerKWh: 300_000, order: txId(buy) }), at(13, 31), 'E_ORDER_NOT_ACTIVE', /expired/);
});

test('seed: the paper\'s contract prices each trade at the buyer\'s bid and never sells below a reserve', (t) => {
  const w = new World({ clearing: 'seed' });
  w.apply(w.auth({ type: 'AcceptOfferBroadcast', listing: L13 }), at(12, 1));
  postExampleBook(w);
  w.apply(w.auth({ type: 'CloseBidding', listing: L13 }), at(12, 59));
  const trades = w.state.get<TradesEntry>(keys.trades(L13))!;
  t.deepEqual(trades.trades.map((x) => [x.seller, x.buyer, x.energyMWh, x.paymentMicroHec]), [
    [w.email('Bilal'), w.email('Asad'), 2 * KWH, 600_000],
    [w.email('Zarak'), w.email('Eve'), 2 * KWH, 500_000],
    [w.email('Chen'), w.email('Eve'), 1 * KWH, 250_000],
  ]);
  t.is(w.escrow('Dana'), 0, 'Dana bought nothing: all her escrow back at close');
});

test('a storage fund far larger than its room is no problem: the room limits what it takes (no overflow at a 1 µHEC/kWh buy price)', (t) => {
  const w = new World({ storage: { capacityMWh: 5 * KWH, buyPriceMicroHecPerKWh: 1, sellPriceMicroHecPerKWh: 2 } });
  w.apply(w.auth({ type: 'Mint', to: 'storage', amountMicroHec: 4_000_000_000_000_000 }), NOON);
  w.apply(w.auth({ type: 'AcceptOfferBroadcast', listing: L13 }), at(12, 1));
  w.apply(w.tx('Bilal', { type: 'PVOffer', listing: L13, meter: w.meter('Bilal'), energyMWh: KWH }), at(12, 2));
  w.apply(w.auth({ type: 'CloseBidding', listing: L13 }), at(12, 59));
  w.apply(w.auth({ type: 'Settle', listing: L13, metered: [{ meter: w.meter('Bilal'), importMWh: 0, exportMWh: 7 * KWH }], readingsHeight: w.height }), at(14));
  t.like(w.storage(), { storedMWh: 5 * KWH, fundMicroHec: 4_000_000_000_000_000 - 5 });
  t.is(w.balance('Bilal'), 10 * HEC + 5, '5 kWh at 1 µHEC/kWh');
});
