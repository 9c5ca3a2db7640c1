/**
 * PVOffer, BuyOffer and CancelOffer (docs/market.md §1, §8). An offer is posted by
 * the household itself, or by an authority for one of the household's standing
 * orders (`order`; the dispatcher has checked the authority) — then it must stay
 * within what the household signed.
 */
import { escrowMicroHec, fail, type Genesis, type TxOf } from '../../../protocol/index.ts';
import { keys, type ListingEntry, type OfferEntry, type OrderEntry, type ParticipantEntry } from '../entities.ts';
import { ownMeter, participant, requireParticipantSigner, type Rule, type Signer, type TxContext } from './context.ts';
import { checkPriceCap, getListing, holdEscrow, requireAcceptingOffers, withdrawOffer } from './marketState.ts';
import { checkTariffBand, isOnGrid, periodTariff } from './utility.ts';
import type { StateWriter } from '../state.ts';

interface Posting {
  listing: string;
  meter: string;
  energyMWh: number;
  price: number;
  pricePath: string;
  order?: string;
}

/** The household an offer is for: the signer, or the owner of the standing order an authority places it for. */
function ownerOf(state: StateWriter, signer: Signer, side: 'sell' | 'buy', p: Posting, ctx: TxContext, type: string): { owner: ParticipantEntry; order?: OrderEntry } {
  if (p.order === undefined) return { owner: requireParticipantSigner(signer, type) };
  const order = state.get<OrderEntry>(keys.order(p.order));
  if (!order || order.side !== side) fail('E_UNKNOWN_ORDER', `there is no ${side} standing order ${p.order}`, 'body.order');
  if (order.revoked) fail('E_ORDER_NOT_ACTIVE', `standing order ${p.order} was revoked at height ${order.revoked.height}`, 'body.order');
  if (order.validUntil !== undefined && ctx.blockTime >= order.validUntil) {
    fail('E_ORDER_NOT_ACTIVE', `standing order ${p.order} expired at ${new Date(order.validUntil).toISOString()}`, 'body.order');
  }
  if (p.meter !== order.meter) fail('E_NOT_OWNER', `standing order ${p.order} is for meter ${order.meter}, not ${p.meter}`, 'body.meter');
  if (p.energyMWh > order.energyMWh) fail('E_OUT_OF_RANGE', `${p.energyMWh} mWh is more than standing order ${p.order} allows per period (${order.energyMWh} mWh)`, 'body.energyMWh');
  const price = orderPrice(state, ctx.genesis, order, p.listing);
  if (p.price !== price) {
    fail('E_OUT_OF_RANGE', `an offer for standing order ${p.order} carries the order's price for this period, ${price} µHEC/kWh, not ${p.price}`, p.pricePath);
  }
  if (state.get(keys.placed(p.order, p.listing))) {
    fail('E_DUPLICATE_TX', `standing order ${p.order} already has its offer on listing ${p.listing}`, 'body.order');
  }
  return { owner: participant(state, order.owner, 'body.order'), order };
}

/**
 * The price a standing order's offer carries on a listing: the order's own, except
 * on-grid, where a buy order bids at most the period's import tariff and a sell order
 * reserves at least its feed-in tariff (never above the import tariff) — what the
 * utility would charge or pay anyway (docs/market.md §9.4).
 */
export function orderPrice(state: Pick<StateWriter, 'get'>, genesis: Genesis, order: Pick<OrderEntry, 'side' | 'priceMicroHecPerKWh'>, listing: string): number {
  if (!isOnGrid(genesis)) return order.priceMicroHecPerKWh;
  const l = state.get<ListingEntry>(keys.listing(listing));
  if (!l) fail('E_UNKNOWN_LISTING', `there is no kWhListing ${listing}`, 'body.listing');
  const t = periodTariff(state, genesis, l.deliveryStart)!;
  return order.side === 'buy'
    ? Math.min(order.priceMicroHecPerKWh, t.importMicroHecPerKWh)
    : Math.min(Math.max(order.priceMicroHecPerKWh, t.feedInMicroHecPerKWh), t.importMicroHecPerKWh);
}

/** Records the offer: its entry, its place in the listing's book, the listing's counters. */
function post(state: StateWriter, ctx: TxContext, side: 'sell' | 'buy', owner: string, p: Posting, escrow?: number): OfferEntry {
  const l = getListing(state, p.listing);
  const entry: OfferEntry = {
    id: ctx.txId, listing: l.id, side, owner, meter: p.meter, energyMWh: p.energyMWh, priceMicroHecPerKWh: p.price, seq: ctx.seq,
    ...(p.order !== undefined ? { order: p.order } : {}), status: 'open', ...(escrow !== undefined ? { escrowMicroHec: escrow } : {}),
  };
  state.set(keys.offer(ctx.txId), entry);
  state.set(keys.book(l.id, l.posted), { offer: ctx.txId });
  state.set(keys.listing(l.id), side === 'sell'
    ? { ...l, posted: l.posted + 1, offers: l.offers + 1, offeredMWh: l.offeredMWh + p.energyMWh }
    : { ...l, posted: l.posted + 1, bids: l.bids + 1, bidMWh: l.bidMWh + p.energyMWh });
  if (p.order !== undefined) {
    state.set(keys.placed(p.order, l.id), { offer: ctx.txId });
    const o = state.get<OrderEntry>(keys.order(p.order))!;
    state.set(keys.order(p.order), { ...o, lastOffer: { listing: l.id, offer: ctx.txId } });
  }
  return entry;
}

export const pvOffer: Rule<TxOf<'PVOffer'>> = ({ state, body, signer, ctx }) => {
  const p: Posting = {
    listing: body.listing, meter: body.meter, energyMWh: body.energyMWh, price: body.reservePriceMicroHecPerKWh ?? 0,
    pricePath: 'body.reservePriceMicroHecPerKWh', order: body.order,
  };
  const { owner } = ownerOf(state, signer, 'sell', p, ctx, 'PVOffer');
  if (owner.role !== 'prosumer') {
    fail('E_WRONG_ROLE', `${owner.email} is registered as a consumer; only a prosumer (a household with PV) may offer energy`, 'body.signer');
  }
  requireAcceptingOffers(getListing(state, body.listing), ctx);
  ownMeter(state, body.meter, owner.email, 'body.meter');
  checkPriceCap(p.price, ctx.genesis, p.pricePath);
  checkTariffBand(state, ctx.genesis, getListing(state, body.listing), p.price, p.pricePath);
  const o = post(state, ctx, 'sell', owner.email, p);
  const mark = state.get<{ offers: number }>(keys.pvMeter(o.listing, o.meter));
  state.set(keys.pvMeter(o.listing, o.meter), { offers: (mark?.offers ?? 0) + 1 });
  return [{ kind: 'offerPosted', listing: o.listing, offer: o.id, side: 'sell', owner: o.owner, meter: o.meter, energyMWh: o.energyMWh, priceMicroHecPerKWh: o.priceMicroHecPerKWh }];
};

export const buyOffer: Rule<TxOf<'BuyOffer'>> = ({ state, body, signer, ctx }) => {
  const p: Posting = {
    listing: body.listing, meter: body.meter, energyMWh: body.energyMWh, price: body.bidPriceMicroHecPerKWh,
    pricePath: 'body.bidPriceMicroHecPerKWh', order: body.order,
  };
  const { owner } = ownerOf(state, signer, 'buy', p, ctx, 'BuyOffer');
  requireAcceptingOffers(getListing(state, body.listing), ctx);
  ownMeter(state, body.meter, owner.email, 'body.meter');
  checkPriceCap(p.price, ctx.genesis, p.pricePath);
  checkTariffBand(state, ctx.genesis, getListing(state, body.listing), p.price, p.pricePath);
  const escrow = escrowMicroHec(p.energyMWh, p.price);
  holdEscrow(state, owner.email, escrow, 'body.energyMWh', `a bid for ${p.energyMWh} mWh at ${p.price} µHEC/kWh`);
  const o = post(state, ctx, 'buy', owner.email, p, escrow);
  return [{ kind: 'offerPosted', listing: o.listing, offer: o.id, side: 'buy', owner: o.owner, meter: o.meter, energyMWh: o.energyMWh, priceMicroHecPerKWh: o.priceMicroHecPerKWh, escrowMicroHec: escrow }];
};

export const cancelOffer: Rule<TxOf<'CancelOffer'>> = ({ state, body, signer, ctx }) => {
  const me = requireParticipantSigner(signer, 'CancelOffer');
  const o = state.get<OfferEntry>(keys.offer(body.offer));
  if (!o || o.listing !== body.listing) fail('E_UNKNOWN_OFFER', `there is no offer or bid ${body.offer} on listing ${body.listing}`, 'body.offer');
  if (o.owner !== me.email) fail('E_NOT_OWNER', `offer ${body.offer} belongs to ${o.owner}, not ${me.email}`, 'body.offer');
  if (o.status !== 'open') fail('E_OFFER_NOT_OPEN', `offer ${body.offer} was already cancelled`, 'body.offer');
  const l = getListing(state, o.listing);
  if (l.state !== 'ACCEPT_OFFERS' || ctx.blockTime >= l.deliveryStart) {
    fail('E_OFFER_NOT_OPEN', `the auction for listing ${l.id} has run (or its delivery began); an offer can be withdrawn only while the listing accepts offers`, 'body.offer');
  }
  withdrawOffer(state, o);
  return [{ kind: 'offerCancelled', listing: o.listing, offer: o.id, side: o.side, owner: o.owner }];
};
