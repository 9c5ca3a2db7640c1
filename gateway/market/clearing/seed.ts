/**
 * `seed` — the paper's smart contract (§D): "PVOffers are arranged by their offer
 * time ... BUYOffers are arranged from high to low bid price". PVOffers are taken in
 * submission order; each sells to the highest remaining bids that reach its reserve
 * (the paper's rule that a buyer is matched only where bid ≥ reserve); partial fills
 * on both sides.
 *
 * Price: each trade at the buyer's own bid. The paper does not say; its published
 * code charged every buyer one quantity-weighted average of the bids and never
 * checked reserves, which can charge a buyer more than it bid and sell below a
 * reserve. The bid is the price the contract's own ranking implies (buyers are served
 * in bid order, so a higher bid buys priority and pays for it), it is what the
 * buyer agreed to and escrowed, and it always lies within [reserve, bid].
 */
import type { BuyOffer, ClearingResult, PVOffer } from '../types.ts';
import { checkOrders } from '../validate.ts';
import { matchInOrder } from './match.ts';
import { buildResult } from './result.ts';
import { byPriceHighToLow, bySubmission, ranked } from './priority.ts';

export function clearSeed(offers: readonly PVOffer[], bids: readonly BuyOffer[]): ClearingResult {
  checkOrders(offers, 'offers');
  checkOrders(bids, 'bids');
  const m = matchInOrder(ranked(offers, bySubmission, 'offers'), ranked(bids, byPriceHighToLow, 'bids'));
  return buildResult('seed', m, (k) => m.bids[m.bidIndex[k]].priceMicroHecPerKWh);
}
