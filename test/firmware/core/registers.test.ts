import test from 'ava';
import { decodeState, encodeState } from '../../../firmware/core/index.ts';
import { powerCutScenario, rebootScenario } from './scenarios.ts';

test('the state record keeps 53-bit registers exactly, though the ESP32 stores int32 only', (t) => {
  const s = { seq: 2147483647, ctr: 1, importMWh: 9007199254740991, exportMWh: 4294967296, lastT: 1774098000000, ackSeq: 0 };
  t.deepEqual(decodeState(encodeState(s)), s);
  t.throws(() => decodeState(new Uint8Array([3, 0, 0])), { message: /version/ });
});

test('the state record carries the newest reading, exactly enough to sign it again; a version-1 record (before the persistent outbox) still reads', (t) => {
  const s = {
    seq: 41, ctr: 7, importMWh: 123_456_789, exportMWh: 5, lastT: 1774098000000, ackSeq: 40,
    last: { seq: 41, t: 1774098000000, importMWh: 123_456_789, exportMWh: 5, powerW: -999_999, relay: 'closed' as const, creditMWh: 0, fw: 'helios-fw 0.1.0' },
  };
  t.deepEqual(decodeState(encodeState(s)), s);
  // Version 1: u8 1, seq, ctr, import, export, lastT.
  const v1 = new Uint8Array([1, 0, 0, 0, 9, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7]);
  t.deepEqual(decodeState(v1), { seq: 9, ctr: 2, importMWh: 100, exportMWh: 0, lastT: 7, ackSeq: 0 });
});

test('power cut at every storage step (each erase and each write of every record): registers never go backwards, never jump, no sequence or login counter is reused, no credit comes back, no token counts twice', (t) => {
  const r = powerCutScenario();
  // The script writes the key, the enrolment, the login counter, the wallet (with a token) and the registers.
  t.true(r.steps >= 30, `the script exercised ${r.steps} storage steps`);
  t.is(r.runs.length, r.steps);
  t.deepEqual(r.violations, []);
  // The cuts landed everywhere: before anything, mid-way, after readings with credit in use.
  t.true(r.runs.some((x) => x.seq === 0 && x.importMWh === 0));
  t.true(r.runs.some((x) => x.replay === 'refused' && x.credit > 0));
  t.true(r.runs.some((x) => x.replay === 'accepted'), 'a cut before the token was durable loses it (the gateway may send it again)');
  t.true(r.runs.some((x) => x.seq >= 3 && x.ctr >= 3));
});

test('an ordinary reboot restores the registers exactly and counts on from there', (t) => {
  const r = rebootScenario() as {
    before: { seq: number; importMWh: number };
    after: { seq: number; importMWh: number; meter: boolean };
    afterRun: { seq: number; importMWh: number };
    sentMax: number;
  };
  t.true(r.after.meter, 'same key, same meter id');
  t.is(r.after.seq, r.before.seq);
  t.is(r.after.importMWh, r.sentMax, 'restored exactly what the last reading said');
  t.is(r.afterRun.seq, r.before.seq + 2);
  // Two minutes at 500 W after the reboot: 16 666 mWh more, not a jump.
  t.is(r.afterRun.importMWh - r.after.importMWh, 16_666);
});
