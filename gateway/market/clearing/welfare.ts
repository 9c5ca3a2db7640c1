/**
 * Traded surplus ("welfare") of a clearing: Σ (bid − reserve) × energy over the
 * trades — what buyers were willing to pay above what sellers were willing to take.
 * It does not depend on the trade prices (a price only moves surplus between the
 * two sides), so it compares mechanisms on their allocations alone.
 *
 * Unit: µHEC/kWh × mWh = 10⁻⁶ µHEC = 1 pHEC (10⁻¹² HEC), kept exact as a bigint.
 */
import { fail } from '../../../protocol/errors.ts';
import type { BuyOffer, PVOffer, Trade } from '../types.ts';
import { MarketCodes } from '../validate.ts';

export function welfarePicoHec(trades: readonly Trade[], offers: readonly PVOffer[], bids: readonly BuyOffer[]): bigint {
  const reserve = new Map<string, number>();
  for (const o of offers) reserve.set(o.id, o.priceMicroHecPerKWh);
  const bidPrice = new Map<string, number>();
  for (const b of bids) bidPrice.set(b.id, b.priceMicroHecPerKWh);
  let total = 0n;
  for (const t of trades) {
    const r = reserve.get(t.offer);
    const p = bidPrice.get(t.bid);
    if (r === undefined || p === undefined) fail(MarketCodes.UNKNOWN_OFFER, `trade refers to ${r === undefined ? 'offer ' + t.offer : 'bid ' + t.bid}, which is not in the book`);
    total += BigInt(p - r) * BigInt(t.energyMWh);
  }
  return total;
}
