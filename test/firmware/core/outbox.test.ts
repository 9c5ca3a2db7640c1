import test from 'ava';
import { outboxBoundScenario, outboxScenario, piecesScenario } from './scenarios.ts';

test('outbox basics: bounded, oldest dropped, sent once per connection, resent after a rewind', (t) => {
  const r = piecesScenario() as Record<string, unknown>;
  t.deepEqual(r.afterPush, [3, 4, 5]);
  t.is(r.dropped, 2);
  t.deepEqual(r.first, [3, 4]);
  t.deepEqual(r.second, [5]);
  t.deepEqual(r.resend, [4, 5]);
});

test('across an unacknowledged stretch, a broker outage and a dropped connection: every reading stored once, in order, nothing lost; only unacknowledged readings are sent again, once per reconnect', (t) => {
  const r = outboxScenario() as {
    acked: number[]; unacked: number[]; whileDown: number[]; afterReconnect: number[]; end: number[];
    received: number[]; stored: number[]; counts: Record<string, number>; badSignatures: number;
  };
  t.deepEqual(r.acked, [], 'acknowledged readings leave the outbox');
  t.deepEqual(r.unacked, [4, 5]);
  t.deepEqual(r.whileDown, [4, 5, 6, 7, 8]);
  t.deepEqual(r.afterReconnect, []);
  t.deepEqual(r.end, []);
  t.deepEqual(r.stored, [1, 2, 3, 4, 5, 6, 7, 8, 9], 'no gap, no duplicate stored');
  t.deepEqual(r.received, [1, 2, 3, 4, 5, 4, 5, 6, 7, 8, 9, 9], 'resent oldest first');
  t.deepEqual(r.counts, { 1: 1, 2: 1, 3: 1, 4: 2, 5: 2, 6: 1, 7: 1, 8: 1, 9: 2 });
  t.is(r.badSignatures, 0, 'every reading verified with the meter key');
});

test('a long outage with a small outbox drops the oldest readings but no energy', (t) => {
  const r = outboxBoundScenario() as { outboxDuring: number[]; dropped: number; stored: number[]; lastImportMWh: number; meterImportMWh: number };
  t.deepEqual(r.outboxDuring, [5, 6, 7, 8]);
  t.is(r.dropped, 3);
  t.deepEqual(r.stored, [1, 5, 6, 7, 8]);
  // The last stored reading carries the cumulative total measured up to its time.
  t.true(r.lastImportMWh > 150_000 && r.lastImportMWh <= r.meterImportMWh);
});
