/**
 * When the gateway's scheduler steps in (docs/market.md §8, "Schedule"). Node-RED
 * sends the hourly broadcasts (AcceptOfferBroadcast at :01, CloseBidding at :59); if
 * one has not come within its grace window the gateway issues it itself. All
 * windows scale with the period, so a one-minute demo grid keeps an hour's shape.
 * Pure: times in, times out.
 */
import type { Genesis } from '../../protocol/index.ts';
import type { Period } from './period.ts';

export interface MarketTimes {
  /** The period, ms (genesis marketPeriodMs). */
  periodMs: number;
  /** After a period's opensAt, the operator has this long to open it before the gateway does: 3 min of an hour. */
  openGraceMs: number;
  /**
   * How long before delivery the gateway closes bidding itself if CloseBidding has
   * not come: 30 s of an hour (half-way from the paper's 12:59 to 13:00), and at
   * least two block periods: the scheduler acts at this deadline exactly, so the close
   * is in a block at least a block period before delivery begins, and the credit
   * tokens it funds reach the meters before their window opens.
   */
  closeMarginMs: number;
  /** After delivery ends, Settle waits at most this long for readings covering the end: 15 min of an hour. */
  settleTimeoutMs: number;
}

export function marketTimes(genesis: Pick<Genesis, 'marketPeriodMs' | 'blockPeriodMs'>): MarketTimes {
  const P = genesis.marketPeriodMs;
  return {
    periodMs: P,
    openGraceMs: Math.floor(P / 20),
    closeMarginMs: Math.max(Math.floor(P / 120), 2 * genesis.blockPeriodMs),
    settleTimeoutMs: Math.floor(P / 4),
  };
}

/** When the gateway opens the period's listing itself, if nobody has. */
export function openFallbackAt(p: Period, m: MarketTimes): number {
  return p.opensAt + m.openGraceMs;
}

/** When the gateway closes bidding itself: never before the scheduled close (which keeps three blocks before delivery). */
export function closeFallbackAt(p: Pick<Period, 'deliveryStart' | 'closesAt'>, m: MarketTimes): number {
  return Math.max(p.closesAt, p.deliveryStart - m.closeMarginMs);
}

/** When Settle goes ahead with the readings there are, covering the period's end or not. */
export function settleDeadline(p: Pick<Period, 'deliveryEnd'>, m: MarketTimes): number {
  return p.deliveryEnd + m.settleTimeoutMs;
}
