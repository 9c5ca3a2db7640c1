/**
 * The meter's flash-backed outbox and its restore from the gateway, on the fake
 * platform (the same scenarios run inside XS in xs.test.ts).
 */
import test from 'ava';
import { outboxFlashScenario, stateLostInOutageScenario, stateLostScenario } from './scenarios.ts';

test('readings made while the gateway is away survive a power cut: the newest rides in the state record, older ones in the outbox ring; each is stored once; no ring write while readings are acknowledged', (t) => {
  const r = outboxFlashScenario() as {
    writesOnline: number; ringDuring: string[]; madeOffline: number; restoredOutbox: number[]; stored: number[]; counts: Record<string, number>; badSignatures: number; end: number[];
  };
  t.is(r.writesOnline, 0, 'acknowledged readings cost no outbox write');
  t.deepEqual(r.ringDuring, ['helios/ob3', 'helios/ob4', 'helios/ob5', 'helios/ob6'], 'reading 7 is still in the state record');
  t.is(r.madeOffline, 7);
  t.deepEqual(r.restoredOutbox, [3, 4, 5, 6, 7], 'after the cut, everything unacknowledged is back in the outbox');
  t.deepEqual(r.stored, [1, 2, 3, 4, 5, 6, 7]);
  t.true(Object.values(r.counts).every((n) => n === 1), 'each sent once: signed again after the reboot, byte for byte (RFC 6979)');
  t.is(r.badSignatures, 0);
  t.deepEqual(r.end, []);
});

test('both state slots damaged: the meter says E_STATE_LOST on its console and in its Status, holds the relay open, and is restored from the gateway\'s copy before it measures on', (t) => {
  const r = stateLostScenario() as {
    atBoot: { restoring: string; fault: string; relay: string; seq: number; importMWh: number };
    logs: string[]; statusWithFault: boolean; restores: number; restoreLogins: number;
    restored: { restoring: null; fault: null; seq: number; ctrAbove: boolean };
    storedBefore: { seq: number; importMWh: number };
    firstAfter: { seq: number; importAtLeast: boolean } | null;
    after: { relay: string; restoring: null; outbox: number[]; errors: Record<string, number> };
  };
  t.deepEqual(r.atBoot, { restoring: 'lost', fault: 'E_STATE_LOST', relay: 'open', seq: 0, importMWh: 0 });
  t.is(r.logs.length, 1);
  t.true(r.statusWithFault);
  t.is(r.restoreLogins, 1);
  t.is(r.restores, 1);
  t.is(r.restored.restoring, null);
  t.is(r.restored.fault, null);
  t.is(r.restored.seq, r.storedBefore.seq + 1, 'one sequence number skipped for the reading the lost record may have made');
  t.true(r.restored.ctrAbove, 'login counter above the last the gateway accepted, with margin');
  t.deepEqual(r.firstAfter, { seq: r.storedBefore.seq + 2, importAtLeast: true });
  t.is(r.after.relay, 'closed', 'credit closes the relay again once the registers are known');
  t.deepEqual(r.after.outbox, []);
});

test('both state slots lost while readings waited in the outbox ring: restored no lower than the ring\'s newest reading, and the registers the gateway stores never go down', (t) => {
  const r = stateLostInOutageScenario() as { ring: number; heldImport: number; restoredImport: number; restoring: null; lowerThanBefore: number[]; storedAfter: number };
  t.true(r.ring >= 2, `readings waited in the ring (${r.ring})`);
  t.is(r.restoring, null);
  t.true(r.restoredImport >= r.heldImport, `restored import ${r.restoredImport} mWh; the ring's newest reading said ${r.heldImport} mWh`);
  t.deepEqual(r.lowerThanBefore, [], 'stored readings with an import below the one before');
  t.true(r.storedAfter >= 1, 'readings stored after the restore');
});
