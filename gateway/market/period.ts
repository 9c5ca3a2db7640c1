/**
 * Delivery periods and listing ids (docs/market.md §1). Pure arithmetic on ms since
 * the Unix epoch; the ledger rules and the gateway's scheduler share it, so both
 * agree on which period a time falls in and when each step is due.
 *
 * Alignment: periods start at whole multiples of the genesis `marketPeriodMs` since
 * 1970-01-01T00:00Z (UTC) — an hour period starts on the hour, a 15-minute period at
 * :00, :15, :30, :45. A listing id names its period's start to the minute
 * ("2026-03-21T13:00Z", the paper's date and hour), so the market runs only on grids
 * whose period is a whole number of minutes.
 */
import { fail, type Genesis, type ListingState } from '../../protocol/index.ts';
import type { ListingEntry } from '../ledger/entities.ts';

/** What fixes a grid's periods: its genesis period and block period. */
export type PeriodTiming = Pick<Genesis, 'marketPeriodMs' | 'blockPeriodMs'>;

export const MINUTE_MS = 60_000;

/**
 * How far ahead a listing may be opened: 24 periods (a day ahead for hourly periods,
 * a day-ahead market; 24 minutes on a one-minute grid). Further ahead nobody can
 * forecast their surplus, and open listings hold escrow.
 */
export const LOOKAHEAD_PERIODS = 24;

export interface Period {
  id: string;
  deliveryStart: number;
  deliveryEnd: number;
  /**
   * The paper's 12:59 for 13:00–14:00: one sixtieth of a period before delivery, and
   * at least three block periods, so a close sent then is in a block before delivery.
   */
  closesAt: number;
  /** The paper's 12:01: bidding for a period opens during the period before it. */
  opensAt: number;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** "YYYY-MM-DDTHH:MMZ" of a time (which must be a whole minute). */
export function listingIdOf(startMs: number): string {
  const d = new Date(startMs);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}Z`;
}

/** The start (ms) a listing id names, or undefined if it is not a real UTC minute (2026-02-30T25:00Z). */
export function parseListingId(id: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})Z$/.exec(id);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  return listingIdOf(ms) === id ? ms : undefined;
}

/** Whether the market can run on this period length (whole minutes, so ids are unique). */
export function marketPeriodOk(periodMs: number): boolean {
  return Number.isSafeInteger(periodMs) && periodMs >= MINUTE_MS && periodMs % MINUTE_MS === 0;
}

/** Start of the period containing t. */
export function periodStartAt(t: number, periodMs: number): number {
  return Math.floor(t / periodMs) * periodMs;
}

export function periodFrom(startMs: number, g: PeriodTiming): Period {
  return {
    id: listingIdOf(startMs),
    deliveryStart: startMs,
    deliveryEnd: startMs + g.marketPeriodMs,
    closesAt: startMs - Math.max(Math.floor(g.marketPeriodMs / 60), 3 * g.blockPeriodMs),
    opensAt: startMs - g.marketPeriodMs,
  };
}

/**
 * The period a listing id names, or a HeliosError: a malformed or impossible date
 * (E_BAD_FORMAT), a grid period that is not whole minutes, or a start that is not on
 * the period grid (E_OUT_OF_RANGE, naming the nearest valid ids).
 */
export function periodOf(id: string, g: PeriodTiming, path = 'body.listing'): Period {
  const periodMs = g.marketPeriodMs;
  const start = parseListingId(id);
  if (start === undefined) fail('E_BAD_FORMAT', `listing id ${JSON.stringify(id)} is not a real UTC date and minute ("YYYY-MM-DDTHH:MMZ")`, path);
  if (!marketPeriodOk(periodMs)) {
    fail('E_OUT_OF_RANGE', `this grid's marketPeriodMs is ${periodMs} ms; listing ids name whole minutes, so the market needs a period of whole minutes`, path);
  }
  if (start % periodMs !== 0) {
    const before = periodStartAt(start, periodMs);
    fail('E_OUT_OF_RANGE', `listing ${id} does not start a delivery period: periods are ${periodMs / MINUTE_MS} min long from 1970-01-01T00:00Z; use ${listingIdOf(before)} or ${listingIdOf(before + periodMs)}`, path);
  }
  return periodFrom(start, g);
}

/** The state a person sees: DELIVERING is AUCTION_CLOSED at or after the delivery start. */
export function listingState(l: Pick<ListingEntry, 'state' | 'deliveryStart'>, now: number): ListingState {
  return l.state === 'AUCTION_CLOSED' && now >= l.deliveryStart ? 'DELIVERING' : l.state;
}
