import test from 'ava';
import { MAX_SLOT_PAYLOAD, MAX_TOKENS, Wallet } from '../../../firmware/core/index.ts';
import { creditScenario, refusalScenario, retainedScenario } from './scenarios.ts';
import { T0, World, nonce } from '../helpers/world.ts';

const MIN = 60_000;

test('credit closes the relay inside its window, is charged by measured import, and the relay opens when it runs out or expires', (t) => {
  const r = creditScenario() as {
    relay: Array<{ at: number; closed: boolean }>;
    readings: Array<{ seq: number; at: number; relay: string; creditMWh: number; importMWh: number }>;
    midway: { creditMWh: number; tokens: number; importMWh: number };
    end: { creditMWh: number; tokens: number; importMWh: number; relay: string };
    errors: Record<string, number>;
  };
  const at = r.relay.map((e) => `${e.closed ? 'close' : 'open'}@${e.at}`);
  // Boot: open. A's window opens at 1 min; 30 Wh at 1.2 kW last 90 s. B's window [6, 7) min ends with credit left.
  // C and D arrive at 8:05; 60 Wh last 3 min (the last mWh lands within a ms of 11:05).
  t.deepEqual(at.slice(0, 6), ['open@0', 'close@60000', 'open@150000', 'close@360000', 'open@420000', 'close@485000']);
  t.true(Math.abs(r.relay[6].at - 665_000) <= 3 && !r.relay[6].closed, `opened at ${r.relay[6].at}`);
  const byMinute = Object.fromEntries(r.readings.map((x) => [x.at / MIN, x]));
  t.is(byMinute[2].creditMWh, 10_000, 'one minute at 1.2 kW used 20 of A\'s 30 Wh');
  t.is(byMinute[3].relay, 'open');
  t.is(byMinute[6].creditMWh, 100_000);
  t.is(byMinute[7].creditMWh, 0, 'B expired with 80 Wh unused: an expired token gives nothing');
  t.is(byMinute[7].importMWh - byMinute[6].importMWh, 20_000);
  // D (window ends first) pays first: 55 s after 8:05, D's 10 Wh are gone and C has 50 − 8.33 Wh.
  t.is(r.midway.creditMWh, 41_667);
  t.is(r.end.relay, 'open');
  t.is(r.end.creditMWh, 0);
  t.is(r.end.importMWh, 110_000, '30 + 20 + 60 Wh: import only while credit was valid');
  t.deepEqual(r.errors, {});
});

test('bad tokens get their protocol codes, change nothing, and a used nonce is refused again after a reboot', (t) => {
  const r = refusalScenario() as {
    outcome: Record<string, string>; tokens: number; creditMWh: number; relay: string; junk: Record<string, number>;
    stillEnrolled: boolean; afterReboot: { replayRefused: boolean; tokens: number; enrolled: boolean };
  };
  t.deepEqual(r.outcome, {
    good: 'accepted',
    replay: 'E_CREDIT_REPLAY',
    'other meter': 'E_CREDIT_WRONG_METER',
    'other grid': 'E_CREDIT_WRONG_METER',
    'stranger issuer': 'E_CREDIT_BAD_ISSUER',
    'forged signature': 'E_BAD_SIGNATURE',
    expired: 'E_CREDIT_EXPIRED',
    'empty window': 'E_CREDIT_EXPIRED',
    'not json': 'E_MALFORMED_JSON',
    'unknown field': 'E_UNKNOWN_FIELD',
    float: 'E_NOT_INTEGER',
    'too large': 'E_TOO_LARGE',
  });
  t.is(r.tokens, 1, 'only the good token is held');
  t.true(r.creditMWh > 0 && r.creditMWh <= 50_000);
  t.is(r.relay, 'closed');
  t.deepEqual(r.junk, { E_OUT_OF_RANGE: 1, E_TOPIC_MISMATCH: 1, E_UNKNOWN_SIGNER: 1 });
  t.true(r.stillEnrolled);
  t.deepEqual(r.afterReboot, { replayRefused: true, tokens: 1, enrolled: true });
});

test('a retained token and the retained enrolment, delivered again on every reconnect, never switch the relay', (t) => {
  const r = retainedScenario() as Record<string, unknown>;
  t.is(r.relaySwitchesAfter, r.relaySwitchesBefore);
  t.is(r.relay, 'open', 'the 5 Wh were used up before the reconnects');
  t.is(r.replays, 3, 'the retained token came back three times and was refused three times');
  t.deepEqual(r.afterClear, { sameCounts: true, relaySwitches: r.relaySwitchesBefore, enrolled: true }, 'an emptied retained certificate is no error and switches nothing');
});

test('the wallet holds at most MAX_TOKENS live tokens, fits one preference value full, and refuses one more with its own code', (t) => {
  const w = new World({ power: 0 }).start();
  w.run(5000);
  const id = w.meter.meterId;
  for (let i = 0; i <= MAX_TOKENS; i++) {
    w.gateway.sendCredit(id, w.gateway.token(id, { energyMWh: 1000, validFrom: T0, validUntil: T0 + 60 * MIN + i, nonce: nonce(0x100 + i) }));
  }
  w.run(1000);
  t.is(w.meter.snapshot().tokens, MAX_TOKENS);
  t.deepEqual(w.meter.counters.snapshot(), { E_CREDIT_WALLET_FULL: 1 });
  t.is(w.meter.snapshot().creditMWh, MAX_TOKENS * 1000);
  const full = new Wallet();
  for (let i = 0; i < MAX_TOKENS; i++) full.add({ nonce: nonce(i + 1), energyMWh: 1, remainingMWh: 1, validFrom: T0, validUntil: T0 + MIN });
  t.true(full.encode(0).length <= MAX_SLOT_PAYLOAD);
  // Once the windows are over the nonces go, and new tokens fit again.
  w.run(61 * MIN);
  t.is(w.meter.snapshot().tokens, 0);
});
