/**
 * Standing orders: a household signs once — "offer my surplus every period at
 * reserve R, up to Q" (sell) or "buy up to Q at up to P" (buy) — and the gateway
 * places a PVOffer or BuyOffer referring to the order each period (offers.ts checks
 * each stays within the order). Revoking stops the placements and withdraws the
 * order's offer if its listing still accepts offers.
 */
import { fail, type TxOf } from '../../../protocol/index.ts';
import { keys, type OfferEntry, type OrderEntry } from '../entities.ts';
import { ownMeter, requireParticipantSigner, type Rule, type TxEvent } from './context.ts';
import { checkPriceCap, getListing, ref, withdrawOffer } from './marketState.ts';

export const standingOrder: Rule<TxOf<'StandingOrder'>> = ({ state, body, signer, ctx }) => {
  const owner = requireParticipantSigner(signer, 'StandingOrder');
  if (body.side === 'sell' && owner.role !== 'prosumer') {
    fail('E_WRONG_ROLE', `${owner.email} is registered as a consumer; only a prosumer may offer energy`, 'body.side');
  }
  ownMeter(state, body.meter, owner.email, 'body.meter');
  checkPriceCap(body.priceMicroHecPerKWh, ctx.genesis, 'body.priceMicroHecPerKWh');
  if (body.validUntil !== undefined && body.validUntil <= ctx.blockTime) {
    fail('E_OUT_OF_RANGE', `validUntil ${new Date(body.validUntil).toISOString()} has already passed`, 'body.validUntil');
  }
  const entry: OrderEntry = {
    id: ctx.txId, owner: owner.email, side: body.side, meter: body.meter, energyMWh: body.energyMWh,
    priceMicroHecPerKWh: body.priceMicroHecPerKWh, ...(body.validUntil !== undefined ? { validUntil: body.validUntil } : {}), since: ctx.height,
  };
  state.set(keys.order(ctx.txId), entry);
  return [{ kind: 'orderCreated', order: ctx.txId, owner: owner.email, side: body.side }];
};

export const revokeStandingOrder: Rule<TxOf<'RevokeStandingOrder'>> = ({ state, body, signer, ctx }) => {
  const me = requireParticipantSigner(signer, 'RevokeStandingOrder');
  const o = state.get<OrderEntry>(keys.order(body.order));
  if (!o) fail('E_UNKNOWN_ORDER', `there is no standing order ${body.order}`, 'body.order');
  if (o.owner !== me.email) fail('E_NOT_OWNER', `standing order ${body.order} belongs to ${o.owner}, not ${me.email}`, 'body.order');
  if (o.revoked) fail('E_ORDER_NOT_ACTIVE', `standing order ${body.order} was already revoked at height ${o.revoked.height}`, 'body.order');
  if (o.validUntil !== undefined && ctx.blockTime >= o.validUntil) {
    fail('E_ORDER_NOT_ACTIVE', `standing order ${body.order} already expired at ${new Date(o.validUntil).toISOString()}`, 'body.order');
  }
  state.set(keys.order(o.id), { ...o, revoked: ref(ctx) });
  const events: TxEvent[] = [{ kind: 'orderRevoked', order: o.id, owner: o.owner }];
  if (o.lastOffer) {
    const offer = state.get<OfferEntry>(keys.offer(o.lastOffer.offer));
    const l = getListing(state, o.lastOffer.listing);
    if (offer && offer.status === 'open' && l.state === 'ACCEPT_OFFERS' && ctx.blockTime < l.deliveryStart) {
      withdrawOffer(state, offer);
      events.push({ kind: 'offerCancelled', listing: l.id, offer: offer.id, side: offer.side, owner: offer.owner });
    }
  }
  return events;
};
