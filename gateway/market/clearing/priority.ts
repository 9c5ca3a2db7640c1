/**
 * Priority orders: who is matched first. Every comparator ends in (seq, id), so it is
 * a strict total order on any book whose orders are distinct transactions — the
 * result then depends on the orders, never on the order of the input arrays.
 * bench/clearing sorts with these same functions as its reference.
 */
import { fail } from '../../../protocol/errors.ts';
import type { Order } from '../types.ts';
import { MarketCodes } from '../validate.ts';

export type Comparator = (a: Order, b: Order) => number;

function bySeqThenId(a: Order, b: Order): number {
  return a.seq - b.seq || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** The paper's PVOffer order: "arranged by their offer time" — earlier submission first. */
export const bySubmission: Comparator = bySeqThenId;

/** The paper's BUYOffer order: bid price high to low; equal bids, earlier submission first. */
export const byPriceHighToLow: Comparator = (a, b) =>
  b.priceMicroHecPerKWh - a.priceMicroHecPerKWh || bySeqThenId(a, b);

/** Merit order for offers: reserve price low to high; equal reserves, earlier submission first. */
export const byPriceLowToHigh: Comparator = (a, b) =>
  a.priceMicroHecPerKWh - b.priceMicroHecPerKWh || bySeqThenId(a, b);

/**
 * A sorted copy of `orders`. Two orders that compare equal carry the same seq and
 * id — the same transaction twice — and would make the ranking depend on input
 * order, so they are refused (they sit side by side after sorting: one linear pass).
 */
export function ranked(orders: readonly Order[], compare: Comparator, path: string): Order[] {
  const sorted = orders.slice().sort(compare);
  for (let i = 1; i < sorted.length; i++) {
    if (compare(sorted[i - 1], sorted[i]) === 0) {
      fail(MarketCodes.DUPLICATE_TX, `${path} holds transaction ${sorted[i].id} (seq ${sorted[i].seq}) twice; each offer may appear once`, path);
    }
  }
  return sorted;
}
