/**
 * The paper's own numbers (RESULTS): "one unit of electricity as 19w per minute ...
 * per unit costs 3 rupees. Total available watts for each user are up to 28w."
 * Zarak sells, Asad buys one unit and pays 3 tokens.
 *
 * Integer handling (docs/market.md, "The paper's numbers"):
 * - one unit = 19 W for 60 s = 316.67 mWh → 317 mWh, rounded up so that the credit
 *   covers the whole minute (316 mWh would run out at 59.9 s);
 * - Zarak's 28 W for the minute = 466.67 mWh → 466 mWh offered, rounded down (a
 *   prosumer never offers energy it does not have);
 * - 3 HEC per unit → the smallest price at which 317 mWh costs exactly 3 HEC:
 *   ceil(3·10¹² / 317) = 9 463 722 398 µHEC/kWh (≈ 9 463.72 HEC/kWh).
 */
import test from 'ava';
import { clear, MECHANISMS, settle, type Order } from '../../../gateway/market/index.ts';
import { paymentMicroHec } from '../../../protocol/units.ts';
import { meterOf, txId } from './book.ts';

const UNIT_MWH = 317;
const UNIT_PRICE = 9_463_722_398;
const THREE_HEC = 3_000_000;

const zarak: Order = { id: txId('zarak-pvoffer'), seq: 1, owner: 'zarak@helios.example', meter: meterOf('zarak'), energyMWh: 466, priceMicroHecPerKWh: UNIT_PRICE };
const asad: Order = { id: txId('asad-buyoffer'), seq: 2, owner: 'asad@helios.example', meter: meterOf('asad'), energyMWh: UNIT_MWH, priceMicroHecPerKWh: UNIT_PRICE };

test('the unit price is the smallest integer price at which one unit costs exactly 3 HEC', (t) => {
  t.is(Math.round((19 * 60 * 1000) / 3600), UNIT_MWH); // 19 W · 60 s in mWh, 316.67 → 317
  t.is(Math.floor((28 * 60 * 1000) / 3600), zarak.energyMWh); // 28 W · 60 s, 466.67 → 466
  t.is(paymentMicroHec(UNIT_MWH, UNIT_PRICE), THREE_HEC);
  t.true(paymentMicroHec(UNIT_MWH, UNIT_PRICE - 1) < THREE_HEC);
});

test('every mechanism clears Asad\'s one unit from Zarak for exactly 3 HEC', (t) => {
  for (const m of MECHANISMS) {
    const r = clear(m, [zarak], [asad]);
    t.deepEqual(r.trades, [{
      offer: zarak.id, bid: asad.id, seller: zarak.owner, buyer: asad.owner, sellerMeter: zarak.meter, buyerMeter: asad.meter,
      energyMWh: UNIT_MWH, priceMicroHecPerKWh: UNIT_PRICE, paymentMicroHec: THREE_HEC,
    }], m);
    t.deepEqual(r.offers, [{ id: zarak.id, soldMWh: UNIT_MWH, unsoldMWh: 149 }]);
    // Escrow is ceil(317 × price / 10⁶) = 3 000 001: one µHEC over, returned.
    t.like(r.bids[0], { escrowMicroHec: THREE_HEC + 1, paymentMicroHec: THREE_HEC, unusedEscrowMicroHec: 1 });
  }
});

test('with no reserve, pay-as-clear prices the unit at 0: Zarak\'s unsold energy at 0 makes 0 a clearing price', (t) => {
  const r = clear('pay-as-clear', [{ ...zarak, priceMicroHecPerKWh: 0 }], [asad]);
  t.is(r.clearingPriceMicroHecPerKWh, 0);
  t.is(r.trades[0].paymentMicroHec, 0);
});

test('after the minute both balances have moved by exactly 3 HEC', (t) => {
  const r = clear('seed', [zarak], [asad]);
  const s = settle({
    offers: [zarak],
    bids: [{ ...asad, escrowMicroHec: r.bids[0].escrowMicroHec }],
    trades: r.trades,
    metered: [
      { meter: zarak.meter, importMWh: 0, exportMWh: 466 }, // 28 W for the minute
      { meter: asad.meter, importMWh: 316, exportMWh: 0 }, // his 19 W load for the minute, as his meter registers it
    ],
    storage: { capacityMWh: 0, storedMWh: 0, buyPriceMicroHecPerKWh: 0, sellPriceMicroHecPerKWh: 0 }, // the demo has no battery
  });
  t.deepEqual(s.movements, [
    { kind: 'escrow-to-seller', bid: asad.id, offer: zarak.id, from: asad.owner, to: zarak.owner, amountMicroHec: THREE_HEC },
    { kind: 'escrow-to-buyer', bid: asad.id, to: asad.owner, amountMicroHec: 1 },
  ]);
  const escrowed = r.bids[0].escrowMicroHec;
  t.is(-escrowed + 1, -THREE_HEC, 'Asad: −3 000 001 into escrow at BuyOffer, +1 back at Settle');
  t.like(s.buyers[0], { deliveredMWh: UNIT_MWH, importMWh: 316, unusedMWh: 1 }); // paid for, delivered; no refund
  t.like(s.sellers[0], { deliveredMWh: UNIT_MWH, surplusMWh: 149, storedMWh: 0, storageCreditMicroHec: 0 });
});

test('with a community battery, Zarak\'s other 149 mWh earn the storage price', (t) => {
  const r = clear('seed', [zarak], [asad]);
  const s = settle({
    offers: [zarak], bids: [{ ...asad, escrowMicroHec: r.bids[0].escrowMicroHec }], trades: r.trades,
    metered: [{ meter: zarak.meter, importMWh: 0, exportMWh: 466 }, { meter: asad.meter, importMWh: 317, exportMWh: 0 }],
    storage: { capacityMWh: 1_000_000, storedMWh: 0, buyPriceMicroHecPerKWh: 4_000_000_000, sellPriceMicroHecPerKWh: 9_000_000_000 },
  });
  t.is(s.storage.depositedMWh, 149);
  t.deepEqual(s.movements.at(-1), { kind: 'storage-to-seller', meter: zarak.meter, to: zarak.owner, energyMWh: 149, amountMicroHec: 596_000 });
});
