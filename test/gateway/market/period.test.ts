/**
 * Periods, listing ids and the scheduler's times (gateway/market/period.ts,
 * schedule.ts): pure arithmetic, checked against the paper's hour and a demo
 * grid's minute.
 */
import test from 'ava';
import { isHeliosError } from '../../../protocol/index.ts';
import { listingIdOf, listingState, marketPeriodOk, parseListingId, periodOf } from '../../../gateway/market/period.ts';
import { closeFallbackAt, marketTimes, openFallbackAt, settleDeadline } from '../../../gateway/market/schedule.ts';

const at = (h: number, m = 0, s = 0) => Date.UTC(2026, 2, 21, h, m, s);
const HOURLY = { marketPeriodMs: 3_600_000, blockPeriodMs: 5000 };

test('a listing id is its delivery start in UTC, to the minute, and only real minutes parse', (t) => {
  t.is(listingIdOf(at(13)), '2026-03-21T13:00Z');
  t.is(parseListingId('2026-03-21T13:00Z'), at(13));
  for (const bad of ['2026-02-30T13:00Z', '2026-03-21T24:00Z', '2026-03-21T13:60Z', '2026-03-21T13:00', '2026-3-21T13:00Z']) t.is(parseListingId(bad), undefined, bad);
});

test('the paper\'s hour: 13:00–14:00 opens at 12:00 (Node-RED 12:01, the gateway 12:03), closes at 12:59 (the gateway 12:59:30), settles by 14:15', (t) => {
  const p = periodOf('2026-03-21T13:00Z', HOURLY);
  t.deepEqual(p, { id: '2026-03-21T13:00Z', deliveryStart: at(13), deliveryEnd: at(14), closesAt: at(12, 59), opensAt: at(12) });
  const m = marketTimes(HOURLY);
  t.is(openFallbackAt(p, m), at(12, 3));
  t.is(closeFallbackAt(p, m), at(12, 59, 30));
  t.is(settleDeadline(p, m), at(14, 15));
});

test('a one-minute grid keeps the hour\'s shape, but bidding closes three blocks and the gateway two blocks before delivery', (t) => {
  const g = { marketPeriodMs: 60_000, blockPeriodMs: 1000 };
  const p = periodOf('2026-03-21T13:00Z', g);
  t.is(p.closesAt, at(12, 59, 57), 'one sixtieth of the minute (1 s) would leave no time for a block');
  t.is(closeFallbackAt(p, marketTimes(g)), at(12, 59, 58));
  const slow = { marketPeriodMs: 3_600_000, blockPeriodMs: 60_000 };
  const q = periodOf('2026-03-21T13:00Z', slow);
  t.is(q.closesAt, at(12, 57));
  t.is(closeFallbackAt(q, marketTimes(slow)), at(12, 58));
});

test('periods are aligned to multiples of their length since 1970; ids off the grid name the nearest valid ones', (t) => {
  t.is(periodOf('2026-03-21T13:15Z', { marketPeriodMs: 900_000, blockPeriodMs: 5000 }).deliveryEnd, at(13, 30));
  const e = t.throws(() => periodOf('2026-03-21T13:30Z', HOURLY));
  t.true(isHeliosError(e));
  t.is((e as unknown as { code: string }).code, 'E_OUT_OF_RANGE');
  t.regex(e!.message, /use 2026-03-21T13:00Z or 2026-03-21T14:00Z/);
  t.false(marketPeriodOk(30_000));
  t.throws(() => periodOf('2026-03-21T13:00Z', { marketPeriodMs: 90_000, blockPeriodMs: 5000 }), { message: /whole minutes/ });
});

test('DELIVERING is a closed listing seen from its delivery start on', (t) => {
  const l = { state: 'AUCTION_CLOSED' as const, deliveryStart: at(13) };
  t.is(listingState(l, at(12, 59, 59)), 'AUCTION_CLOSED');
  t.is(listingState(l, at(13)), 'DELIVERING');
  t.is(listingState({ ...l, state: 'SETTLED' }, at(14)), 'SETTLED');
});
