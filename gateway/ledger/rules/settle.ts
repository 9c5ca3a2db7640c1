/**
 * Settle (authority): after the delivery period, pay sellers for what their meters
 * delivered, return the rest of every bid's escrow, and let the storage take the
 * sellers' surplus export (docs/market.md §4–5). The arithmetic is settle() in
 * gateway/market/settlement.ts; this rule feeds it the ledger's book and applies its
 * movements as they are. The metered figures are the authority's word here; `helios
 * ledger verify` recomputes them from the readings committed up to `readingsHeight`.
 */
import { fail, type TxOf } from '../../../protocol/index.ts';
import { settle, type EscrowedBuyOffer, type PVOffer, type Trade } from '../../market/index.ts';
import { keys, type SettlementEntry, type TradesEntry } from '../entities.ts';
import type { Rule, TxEvent } from './context.ts';
import { getListing, openBook, payFromEscrow, putStorage, ref, releaseEscrow, storageOf, storageRoomMWh, takeFromEscrow } from './marketState.ts';
import { participant, putParticipant } from './context.ts';
import { isOnGrid, listingAllowances, periodTariff, putUtility, utilityOf } from './utility.ts';

const iso = (ms: number) => new Date(ms).toISOString();

export const settleListing: Rule<TxOf<'Settle'>> = ({ state, body, ctx }) => {
  if (body.readingsHeight >= ctx.height) {
    fail('E_OUT_OF_RANGE', `readingsHeight ${body.readingsHeight} is not below this block (${ctx.height}); the figures must come from readings already committed`, 'body.readingsHeight');
  }
  const l = getListing(state, body.listing);
  if (l.state === 'SETTLED') fail('E_ALREADY_SETTLED', `listing ${l.id} was settled at height ${l.settled?.height}`, 'body.listing');
  if (l.state === 'ACCEPT_OFFERS') fail('E_LISTING_NOT_CLOSED', `bidding on listing ${l.id} is still open; CloseBidding comes first`, 'body.listing');
  if (ctx.blockTime < l.deliveryEnd) {
    fail('E_LISTING_NOT_CLOSED', `delivery for listing ${l.id} runs until ${iso(l.deliveryEnd)}; settle after it`, 'body.listing');
  }

  const book = openBook(state, l);
  const offers: PVOffer[] = book.offers.map((o) => ({ id: o.id, seq: o.seq, owner: o.owner, meter: o.meter, energyMWh: o.energyMWh, priceMicroHecPerKWh: o.priceMicroHecPerKWh }));
  const bids: EscrowedBuyOffer[] = book.bids.map((b) => ({
    id: b.id, seq: b.seq, owner: b.owner, meter: b.meter, energyMWh: b.energyMWh, priceMicroHecPerKWh: b.priceMicroHecPerKWh, escrowMicroHec: b.escrowMicroHec ?? 0,
  }));
  const trades: Trade[] = state.get<TradesEntry>(keys.trades(l.id))?.trades ?? [];
  // A metered row is for a meter that traded or offered here; anything else is not this listing's to settle.
  const allowances = listingAllowances(state, l);
  const concerned = new Set<string>([...offers.map((o) => o.meter), ...trades.map((t) => t.buyerMeter), ...allowances.map((a) => a.meter)]);
  body.metered.forEach((row, i) => {
    if (!concerned.has(row.meter)) {
      fail('E_METERED_MISMATCH', `metered[${i}] is for meter ${row.meter}, which neither offered nor bought (nor held a utility allowance) on listing ${l.id}`, `body.metered[${i}].meter`);
    }
  });

  // The storage takes surplus only while it has room and its fund can pay the buy price (docs/market.md §5).
  const storage = storageOf(state, ctx.genesis);
  const { buyPriceMicroHecPerKWh: buy, sellPriceMicroHecPerKWh: sell } = ctx.genesis.storage;
  const room = storageRoomMWh(storage, buy);
  // A grid with a utility connection bills imbalance (docs/market.md §9.2); one without keeps §4.2.
  const g = ctx.genesis.utility;
  const utility = g && {
    mode: g.mode, tariff: periodTariff(state, ctx.genesis, l.deliveryStart)!,
    allowances: allowances.map((a) => ({ meter: a.meter, owner: a.owner, energyMWh: a.energyMWh, escrowMicroHec: a.escrowMicroHec })),
  };
  const result = settle({
    offers, bids, trades, metered: body.metered,
    storage: { capacityMWh: storage.storedMWh + room, storedMWh: storage.storedMWh, buyPriceMicroHecPerKWh: buy, sellPriceMicroHecPerKWh: sell },
    ...(utility ? { utility } : {}),
  });

  let u = utilityOf(state);
  let storageIn = 0;

  for (const m of result.movements) {
    if (m.kind === 'escrow-to-seller') payFromEscrow(state, m.from, m.to, m.amountMicroHec);
    else if (m.kind === 'escrow-to-buyer' || m.kind === 'allowance-refund') releaseEscrow(state, m.to, m.amountMicroHec);
    else if (m.kind === 'imbalance-charge') {
      takeFromEscrow(state, m.from, m.amountMicroHec);
      if (m.to === 'utility') u = { ...u, balanceMicroHec: u.balanceMicroHec + m.amountMicroHec };
      else storageIn += m.amountMicroHec;
    } else if (m.kind === 'feed-in') {
      u = { ...u, balanceMicroHec: u.balanceMicroHec - m.amountMicroHec };
      const p = participant(state, m.to, 'utility');
      putParticipant(state, { ...p, balanceMicroHec: p.balanceMicroHec + m.amountMicroHec });
    } else {
      const p = participant(state, m.to, 'storage');
      putParticipant(state, { ...p, balanceMicroHec: p.balanceMicroHec + m.amountMicroHec });
    }
  }
  for (const b of book.bids) if ((b.escrowMicroHec ?? 0) !== 0) state.set(keys.offer(b.id), { ...b, escrowMicroHec: 0 });
  for (const a of allowances) state.delete(keys.allowance(l.id, a.meter));
  const s = result.storage;
  if (s.creditMicroHec > storage.fundMicroHec) fail('E_STATE_MISMATCH', `storage credit ${s.creditMicroHec} µHEC exceeds its fund of ${storage.fundMicroHec} µHEC`);
  putStorage(state, { ...storage, storedMWh: s.storedAfterMWh, fundMicroHec: storage.fundMicroHec - s.creditMicroHec + storageIn });
  const ut = result.utility;
  if (ut) {
    const onGrid = isOnGrid(ctx.genesis);
    putUtility(state, {
      balanceMicroHec: u.balanceMicroHec,
      importMWh: u.importMWh + (onGrid ? ut.totals.imbalanceImportMWh : 0),
      exportMWh: u.exportMWh + ut.totals.feedInMWh,
      unbilledMicroHec: u.unbilledMicroHec + (onGrid ? ut.totals.unbilledMicroHec : 0),
    });
  }

  const entry: SettlementEntry = {
    listing: l.id, readingsHeight: body.readingsHeight, metered: body.metered.map((r) => ({ ...r })),
    trades: result.trades.map((t) => ({ ...t })), bids: result.bids.map((b) => ({ ...b })),
    sellers: result.sellers.map((x) => ({ ...x })), buyers: result.buyers.map((x) => ({ ...x })),
    storage: { ...s, capacityMWh: storage.capacityMWh, fundBeforeMicroHec: storage.fundMicroHec },
    totals: { ...result.totals },
    ...(result.utility ? { utility: { ...result.utility, meters: result.utility.meters.map((x) => ({ ...x })), totals: { ...result.utility.totals } } } : {}),
  };
  state.set(keys.settlement(l.id), entry);
  state.set(keys.listing(l.id), { ...l, state: 'SETTLED', settled: ref(ctx) });
  const events: TxEvent[] = [{ kind: 'listingSettled', listing: l.id, ...result.totals }];
  if (s.depositedMWh > 0 || s.creditMicroHec > 0 || (s.drawnMWh ?? 0) > 0 || storageIn > 0) events.push({ kind: 'storageChanged' });
  if (result.utility) events.push({ kind: 'utilitySettled', listing: l.id, ...result.utility.totals });
  return events;
};
