/**
 * The kWhListing's lifecycle transactions signed by an authority (the dispatcher
 * has checked that): AcceptOfferBroadcast opens a delivery period for offers,
 * CloseBidding clears it with the grid's mechanism (docs/market.md §1–3).
 */
import { fail, type TxOf } from '../../../protocol/index.ts';
import { clear, type BuyOffer, type Mechanism, type PVOffer } from '../../market/index.ts';
import { LOOKAHEAD_PERIODS, periodOf } from '../../market/period.ts';
import { keys, type ListingEntry, type OfferEntry, type TradesEntry } from '../entities.ts';
import type { Rule, TxEvent } from './context.ts';
import { getListing, openBook, ref, releaseEscrow } from './marketState.ts';
import { reserveAllowances } from './utility.ts';

const iso = (ms: number) => new Date(ms).toISOString();

export const acceptOfferBroadcast: Rule<TxOf<'AcceptOfferBroadcast'>> = ({ state, body, ctx }) => {
  const P = ctx.genesis.marketPeriodMs;
  const period = periodOf(body.listing, ctx.genesis);
  if (state.get(keys.listing(body.listing))) {
    fail('E_LISTING_EXISTS', `listing ${body.listing} is already open (or has run); each delivery period has one listing`, 'body.listing');
  }
  if (ctx.blockTime >= period.deliveryStart) {
    fail('E_OUT_OF_RANGE', `delivery for ${body.listing} began at ${iso(period.deliveryStart)}; open a period that has not started`, 'body.listing');
  }
  if (period.deliveryStart > ctx.blockTime + LOOKAHEAD_PERIODS * P) {
    fail('E_OUT_OF_RANGE', `${body.listing} is more than ${LOOKAHEAD_PERIODS} periods ahead; listings open at most ${LOOKAHEAD_PERIODS} periods before delivery`, 'body.listing');
  }
  const entry: ListingEntry = {
    id: period.id, deliveryStart: period.deliveryStart, deliveryEnd: period.deliveryEnd, closesAt: period.closesAt,
    state: 'ACCEPT_OFFERS', opened: ref(ctx), ...(body.by ? { openedBy: body.by } : {}), posted: 0, offers: 0, bids: 0, offeredMWh: 0, bidMWh: 0,
  };
  state.set(keys.listing(period.id), entry);
  return [{ kind: 'listingOpened', listing: period.id }];
};

const toOrder = (o: OfferEntry): PVOffer & BuyOffer => ({
  id: o.id, seq: o.seq, owner: o.owner, meter: o.meter, energyMWh: o.energyMWh, priceMicroHecPerKWh: o.priceMicroHecPerKWh,
});

/**
 * Clears the listing. A CloseBidding whose block is at or after the delivery start
 * clears nothing: buyers could no longer hold credit for the whole period, so every
 * bid's escrow comes back and the listing only awaits Settle for its sellers' export
 * (docs/market.md §8). Otherwise each bid's unused escrow comes back now (§3) and
 * each buyer meter gets one credit token for the period.
 */
export const closeBidding: Rule<TxOf<'CloseBidding'>> = ({ state, body, ctx }) => {
  const l = getListing(state, body.listing);
  if (l.state !== 'ACCEPT_OFFERS') fail('E_LISTING_CLOSED', `bidding on listing ${l.id} is already closed (${l.state})`, 'body.listing');
  const { offers, bids } = openBook(state, l);
  const late = ctx.blockTime >= l.deliveryStart;
  const mechanism = ctx.genesis.clearing as Mechanism;
  const events: TxEvent[] = [];
  let closed: ListingEntry = { ...l, state: 'AUCTION_CLOSED', closed: ref(ctx), ...(body.by ? { closedBy: body.by } : {}), mechanism, trades: 0, tradedMWh: 0 };
  if (late) {
    for (const b of bids) {
      releaseEscrow(state, b.owner, b.escrowMicroHec ?? 0);
      state.set(keys.offer(b.id), { ...b, escrowMicroHec: 0 });
    }
    closed = { ...closed, late: true };
  } else {
    const result = clear(mechanism, offers.map(toOrder), bids.map(toOrder));
    const bidById = new Map(bids.map((b) => [b.id, b]));
    for (const f of result.bids) {
      const b = bidById.get(f.id)!;
      if ((b.escrowMicroHec ?? 0) !== f.escrowMicroHec) {
        fail('E_STATE_MISMATCH', `bid ${b.id} holds ${b.escrowMicroHec} µHEC in escrow, not the ${f.escrowMicroHec} µHEC its energy and price require`);
      }
      if (f.unusedEscrowMicroHec > 0) {
        releaseEscrow(state, b.owner, f.unusedEscrowMicroHec);
        state.set(keys.offer(b.id), { ...b, escrowMicroHec: f.paymentMicroHec });
      }
    }
    const trades: TradesEntry = {
      listing: l.id, mechanism, tradedMWh: result.tradedMWh,
      ...(result.clearingPriceMicroHecPerKWh !== undefined ? { clearingPriceMicroHecPerKWh: result.clearingPriceMicroHecPerKWh } : {}),
      trades: result.trades.map((t) => ({ ...t })),
    };
    state.set(keys.trades(l.id), trades);
    closed = {
      ...closed, trades: result.trades.length, tradedMWh: result.tradedMWh,
      ...(result.clearingPriceMicroHecPerKWh !== undefined ? { clearingPriceMicroHecPerKWh: result.clearingPriceMicroHecPerKWh } : {}),
    };
    // One token per buyer meter for the whole period (its nonce follows from meter and listing).
    const perMeter = new Map<string, number>();
    for (const t of result.trades) perMeter.set(t.buyerMeter, (perMeter.get(t.buyerMeter) ?? 0) + t.energyMWh);
    for (const [meter, energyMWh] of [...perMeter].sort(([a], [b]) => (a < b ? -1 : 1))) {
      events.push({ kind: 'creditDue', meter, energyMWh, validFrom: l.deliveryStart, validUntil: l.deliveryEnd, ref: l.id });
    }
  }
  // On-grid, every meter's prepaid allowance for the period (docs/market.md §9.3), after the
  // auction's escrow has come back, so a household left out can spend it on the utility.
  const grid = reserveAllowances(state, ctx, l);
  if (grid.count > 0) closed = { ...closed, allowances: grid.count };
  events.push(...grid.events);
  state.set(keys.listing(l.id), closed);
  return [{ kind: 'listingClosed', listing: l.id, trades: closed.trades, tradedMWh: closed.tradedMWh, late }, ...events];
};
