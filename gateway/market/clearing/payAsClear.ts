/**
 * `pay-as-clear` — a uniform-price double auction (gsy-e's pay-as-clear): offers in
 * merit order (reserve low to high), bids high to low, matched while the bid reaches
 * the reserve. That traded quantity is where the cumulative demand curve meets the
 * cumulative supply curve, and it maximises the traded surplus Σ (bid − reserve) × e
 * (tests check it against brute force). All trades then carry one price.
 *
 * The price. Let b* be the lowest bid that trades, o* the highest reserve that
 * trades, b' the best bid left with energy unbought and o' the cheapest offer left
 * with energy unsold. Every price in
 *     [L, U] = [max(o*.reserve, b'.bid), min(b*.bid, o'.reserve)]
 * clears the market (everyone who trades is willing to, nobody left out strictly
 * wants to; absent b' or o' drop out of the max / min). When the curves cross on a
 * flat step the interval is wider than a point; the price is its midpoint rounded
 * down, floor((L + U) / 2), splitting the marginal surplus evenly (the k = ½ double
 * auction). gsy-e takes a bid rate instead, which hands that whole surplus to sellers.
 */
import type { BuyOffer, ClearingResult, PVOffer } from '../types.ts';
import { checkOrders } from '../validate.ts';
import { matchInOrder, type Matching } from './match.ts';
import { buildResult } from './result.ts';
import { byPriceHighToLow, byPriceLowToHigh, ranked } from './priority.ts';

/** The bounds [L, U] of the clearing price and the price chosen; undefined when nothing trades. */
export function clearingInterval(m: Matching): { low: number; high: number; price: number } | undefined {
  if (m.count === 0) return undefined;
  const last = m.count - 1;
  const i = m.offerIndex[last];
  const j = m.bidIndex[last];
  let low = m.offers[i].priceMicroHecPerKWh;
  let high = m.bids[j].priceMicroHecPerKWh;
  // In merit order every offer before the last traded one is sold out, and every bid
  // before the last traded one is filled (match.ts); so the first with energy left is
  // the last traded one itself (partly filled) or the next.
  const jLeft = m.boughtMWh[j] < m.bids[j].energyMWh ? j : j + 1;
  if (jLeft < m.bids.length) low = Math.max(low, m.bids[jLeft].priceMicroHecPerKWh);
  const iLeft = m.soldMWh[i] < m.offers[i].energyMWh ? i : i + 1;
  if (iLeft < m.offers.length) high = Math.min(high, m.offers[iLeft].priceMicroHecPerKWh);
  return { low, high, price: Math.floor((low + high) / 2) };
}

export function clearPayAsClear(offers: readonly PVOffer[], bids: readonly BuyOffer[]): ClearingResult {
  checkOrders(offers, 'offers');
  checkOrders(bids, 'bids');
  const m = matchInOrder(ranked(offers, byPriceLowToHigh, 'offers'), ranked(bids, byPriceHighToLow, 'bids'));
  const interval = clearingInterval(m);
  if (interval === undefined) return buildResult('pay-as-clear', m, () => 0);
  const { price } = interval;
  return buildResult('pay-as-clear', m, () => price, price);
}
