/**
 * The community storage (docs/market.md §5): StorageDeposit (authority) pays a
 * prosumer for export that went into it in a period no listing settled for that
 * meter; StoragePurchase (a household) buys stored energy as a credit token. The
 * storage's tokens live in its fund (entities.ts StorageEntry), part of the
 * conservation invariant; it never pays out more than the fund holds and never
 * sells more energy than it holds.
 */
import { fail, paymentMicroHec, type TxOf } from '../../../protocol/index.ts';
import { periodOf } from '../../market/period.ts';
import { keys, type StorageEntry } from '../entities.ts';
import { credit, debit, meter, ownMeter, participant, requireParticipantSigner, type Rule } from './context.ts';
import { putStorage, storageOf } from './marketState.ts';

const iso = (ms: number) => new Date(ms).toISOString();

export const storageDeposit: Rule<TxOf<'StorageDeposit'>> = ({ state, body, ctx }) => {
  if (body.readingsHeight >= ctx.height) {
    fail('E_OUT_OF_RANGE', `readingsHeight ${body.readingsHeight} is not below this block (${ctx.height}); the figure must come from readings already committed`, 'body.readingsHeight');
  }
  const period = periodOf(body.period, ctx.genesis, 'body.period');
  if (ctx.blockTime < period.deliveryEnd) {
    fail('E_LISTING_NOT_CLOSED', `period ${period.id} runs until ${iso(period.deliveryEnd)}; its export is deposited after it`, 'body.period');
  }
  const m = meter(state, body.meter, 'body.meter');
  if (m.revoked) fail('E_METER_REVOKED', `meter ${m.meter} was revoked at height ${m.revoked.height}`, 'body.meter');
  const owner = participant(state, m.participant, 'body.meter');
  if (owner.role !== 'prosumer') fail('E_WRONG_ROLE', `meter ${m.meter} belongs to ${owner.email}, a consumer; only a prosumer's export is deposited`, 'body.meter');
  // Export of a meter that offered on the period's listing is settled by that listing's Settle (§4.1 rule 5): never twice.
  if (state.get(keys.pvMeter(period.id, m.meter))) {
    fail('E_ALREADY_SETTLED', `meter ${m.meter} offered energy on listing ${period.id}; its export in that period is settled by the listing's Settle`, 'body.meter');
  }
  // On-grid, a meter that held the period's utility allowance is settled by the listing's Settle (feed-in, §9.2).
  if (state.get(keys.allowance(period.id, m.meter))) {
    fail('E_ALREADY_SETTLED', `meter ${m.meter} held the utility allowance on listing ${period.id}; its export in that period is settled by the listing's Settle`, 'body.meter');
  }
  const done = state.get<{ energyMWh: number; height: number }>(keys.deposit(period.id, m.meter));
  if (done) fail('E_ALREADY_SETTLED', `meter ${m.meter}'s export in period ${period.id} was already deposited at height ${done.height}`, 'body.meter');
  const s = storageOf(state, ctx.genesis);
  const free = s.capacityMWh - s.storedMWh;
  if (body.energyMWh > free) fail('E_STORAGE_FULL', `the storage has room for ${free} mWh, not ${body.energyMWh}`, 'body.energyMWh');
  const amount = paymentMicroHec(body.energyMWh, ctx.genesis.storage.buyPriceMicroHecPerKWh);
  if (amount > s.fundMicroHec) {
    fail('E_INSUFFICIENT_BALANCE', `the storage fund holds ${s.fundMicroHec} µHEC, not the ${amount} µHEC this deposit earns; an authority funds it with a Mint to "storage"`, 'body.energyMWh');
  }
  putStorage(state, { ...s, storedMWh: s.storedMWh + body.energyMWh, fundMicroHec: s.fundMicroHec - amount });
  if (amount > 0) credit(state, owner.email, amount, 'body.meter');
  state.set(keys.deposit(period.id, m.meter), { energyMWh: body.energyMWh, amountMicroHec: amount, height: ctx.height });
  return [
    { kind: 'storageDeposit', meter: m.meter, participant: owner.email, period: period.id, energyMWh: body.energyMWh, amountMicroHec: amount },
    { kind: 'storageChanged' },
  ];
};

export const storagePurchase: Rule<TxOf<'StoragePurchase'>> = ({ state, body, signer, ctx }) => {
  const buyer = requireParticipantSigner(signer, 'StoragePurchase');
  ownMeter(state, body.meter, buyer.email, 'body.meter');
  const price = ctx.genesis.storage.sellPriceMicroHecPerKWh;
  if (price > body.maxPriceMicroHecPerKWh) {
    fail('E_PRICE_ABOVE_MAX', `the storage sells at ${price} µHEC/kWh, above your maximum of ${body.maxPriceMicroHecPerKWh} µHEC/kWh`, 'body.maxPriceMicroHecPerKWh');
  }
  const s: StorageEntry = storageOf(state, ctx.genesis);
  if (s.storedMWh < body.energyMWh) {
    fail('E_STORAGE_EMPTY', `the storage holds ${s.storedMWh} mWh, less than the ${body.energyMWh} mWh asked for; GET /api/storage shows what is available`, 'body.energyMWh');
  }
  const amount = paymentMicroHec(body.energyMWh, price);
  if (amount > 0) debit(state, buyer.email, amount, 'body.energyMWh', `${body.energyMWh} mWh from storage`);
  putStorage(state, { ...s, storedMWh: s.storedMWh - body.energyMWh, fundMicroHec: s.fundMicroHec + amount });
  // Credit for one market period from the block: stored energy is there now.
  const validUntil = ctx.blockTime + ctx.genesis.marketPeriodMs;
  return [
    { kind: 'storagePurchase', participant: buyer.email, meter: body.meter, energyMWh: body.energyMWh, amountMicroHec: amount },
    { kind: 'creditDue', meter: body.meter, energyMWh: body.energyMWh, validFrom: ctx.blockTime, validUntil, ref: ctx.txId },
    { kind: 'storageChanged' },
  ];
};
