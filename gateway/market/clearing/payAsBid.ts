/**
 * `pay-as-bid` — two-sided pay-as-bid as in Grid Singularity's gsy-e
 * (gsy-framework PayAsBidMatchingAlgorithm): offers ranked by price high to low,
 * bids high to low, each offer sells to the highest remaining bids that reach its
 * reserve, and every trade is at the buyer's bid.
 *
 * Taking the dearest offer first is what makes this the volume-maximising rule: an
 * offer with a high reserve can only use the top bids, an offer with a low reserve
 * can use any, so serving the most constrained first leaves the most for the rest
 * (tests check it against brute force). The cost: the surplus is not the largest
 * possible (pay-as-clear's is), and a seller's reserve buys it priority.
 * Differences from gsy-e: integer mWh and µHEC/kWh instead of floats with a
 * tolerance, ties broken by submission, and a household's bid may meet its own offer
 * (gsy-e skips those pairs; here it nets to nothing but keeps the loop linear).
 */
import type { BuyOffer, ClearingResult, PVOffer } from '../types.ts';
import { checkOrders } from '../validate.ts';
import { matchInOrder } from './match.ts';
import { buildResult } from './result.ts';
import { byPriceHighToLow, ranked } from './priority.ts';

export function clearPayAsBid(offers: readonly PVOffer[], bids: readonly BuyOffer[]): ClearingResult {
  checkOrders(offers, 'offers');
  checkOrders(bids, 'bids');
  const m = matchInOrder(ranked(offers, byPriceHighToLow, 'offers'), ranked(bids, byPriceHighToLow, 'bids'));
  return buildResult('pay-as-bid', m, (k) => m.bids[m.bidIndex[k]].priceMicroHecPerKWh);
}
