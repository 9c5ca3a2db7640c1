/**
 * Turning a priced matching into the ClearingResult the ledger records: trades with
 * their payments, and per-order fills with the escrow each bid still needs. Money
 * by protocol/units.ts's rounding rule (floor for a payment, ceil for escrow; see
 * ../money.ts). Arrays are filled by push so they stay packed however large.
 */
import { escrow as escrowFor, payment as paymentFor } from '../money.ts';
import type { BidFill, ClearingResult, Mechanism, OfferFill, Trade } from '../types.ts';
import type { Matching } from './match.ts';

/** `priceOf(k)` is the price of pair k, already checked to lie within [reserve, bid]. */
export function buildResult(
  mechanism: Mechanism,
  m: Matching,
  priceOf: (k: number) => number,
  clearingPriceMicroHecPerKWh?: number,
): ClearingResult {
  const trades: Trade[] = [];
  const paidByBid = new Float64Array(m.bids.length);
  let tradedMWh = 0;
  for (let k = 0; k < m.count; k++) {
    const offer = m.offers[m.offerIndex[k]];
    const b = m.bidIndex[k];
    const bid = m.bids[b];
    const energyMWh = m.energyMWh[k];
    const priceMicroHecPerKWh = priceOf(k);
    const payment = paymentFor(energyMWh, priceMicroHecPerKWh);
    paidByBid[b] += payment;
    tradedMWh += energyMWh;
    trades.push({
      offer: offer.id,
      bid: bid.id,
      seller: offer.owner,
      buyer: bid.owner,
      sellerMeter: offer.meter,
      buyerMeter: bid.meter,
      energyMWh,
      priceMicroHecPerKWh,
      paymentMicroHec: payment,
    });
  }

  const offers: OfferFill[] = [];
  for (let i = 0; i < m.offers.length; i++) {
    const sold = m.soldMWh[i];
    offers.push({ id: m.offers[i].id, soldMWh: sold, unsoldMWh: m.offers[i].energyMWh - sold });
  }
  const bids: BidFill[] = [];
  for (let j = 0; j < m.bids.length; j++) {
    const bid = m.bids[j];
    const bought = m.boughtMWh[j];
    const escrow = escrowFor(bid.energyMWh, bid.priceMicroHecPerKWh);
    const paid = paidByBid[j];
    bids.push({
      id: bid.id,
      boughtMWh: bought,
      unboughtMWh: bid.energyMWh - bought,
      escrowMicroHec: escrow,
      paymentMicroHec: paid,
      unusedEscrowMicroHec: escrow - paid,
    });
  }

  return clearingPriceMicroHecPerKWh === undefined
    ? { mechanism, trades, tradedMWh, offers, bids }
    : { mechanism, trades, tradedMWh, clearingPriceMicroHecPerKWh, offers, bids };
}
