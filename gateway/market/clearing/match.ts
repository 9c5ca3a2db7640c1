/**
 * The matching loop all three mechanisms share. They differ only in the order the
 * PVOffers are taken in and in the price a matched pair gets (docs/market.md):
 *
 *   for each PVOffer, in the mechanism's order:
 *     while it has energy left and the highest-ranked BuyOffer with energy left
 *     bids at least its reserve: trade min(offer left, bid left) mWh.
 *
 * BuyOffers are always taken bid high to low, and each PVOffer starts at the top of
 * what is left, so the BuyOffers with energy left are always a suffix of the ranked
 * list: one pointer walks it, and the whole loop is O(offers + bids) after sorting.
 * A PVOffer whose reserve is above the best remaining bid gets nothing and the loop
 * moves on: a later PVOffer with a lower reserve may still match.
 *
 * The pairs go into typed arrays rather than objects: the mechanisms price them
 * afterwards (pay-as-clear needs the whole matching before it knows its price).
 */
import type { Order } from '../types.ts';

export interface Matching {
  /** PVOffers in the order they were taken. */
  readonly offers: readonly Order[];
  /** BuyOffers bid high to low. */
  readonly bids: readonly Order[];
  /** Number of matched pairs. */
  readonly count: number;
  /** Pair k: offers[offerIndex[k]] sells energyMWh[k] to bids[bidIndex[k]]. */
  readonly offerIndex: Int32Array;
  readonly bidIndex: Int32Array;
  readonly energyMWh: Float64Array;
  /** Per offer (same index as `offers`): mWh sold. */
  readonly soldMWh: Float64Array;
  /** Per bid (same index as `bids`): mWh bought. */
  readonly boughtMWh: Float64Array;
}

export function matchInOrder(offers: readonly Order[], bids: readonly Order[]): Matching {
  // Each pair exhausts its offer or its bid, so there are fewer pairs than orders.
  const capacity = Math.max(offers.length + bids.length - 1, 0);
  const offerIndex = new Int32Array(capacity);
  const bidIndex = new Int32Array(capacity);
  const energyMWh = new Float64Array(capacity);
  const soldMWh = new Float64Array(offers.length);
  const boughtMWh = new Float64Array(bids.length);

  let count = 0;
  let j = 0;
  let bidLeft = bids.length > 0 ? bids[0].energyMWh : 0;
  for (let i = 0; i < offers.length && j < bids.length; i++) {
    const offer = offers[i];
    const reserve = offer.priceMicroHecPerKWh;
    let offerLeft = offer.energyMWh;
    while (offerLeft > 0 && j < bids.length && bids[j].priceMicroHecPerKWh >= reserve) {
      const q = offerLeft < bidLeft ? offerLeft : bidLeft;
      offerIndex[count] = i;
      bidIndex[count] = j;
      energyMWh[count] = q;
      count++;
      offerLeft -= q;
      bidLeft -= q;
      boughtMWh[j] += q;
      if (bidLeft === 0) {
        j++;
        bidLeft = j < bids.length ? bids[j].energyMWh : 0;
      }
    }
    soldMWh[i] = offer.energyMWh - offerLeft;
  }
  return { offers, bids, count, offerIndex, bidIndex, energyMWh, soldMWh, boughtMWh };
}
