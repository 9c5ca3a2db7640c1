import test from 'ava';
import { enrolmentScenario, powerOnScenario } from './scenarios.ts';
import { T0, World, nonce } from '../helpers/world.ts';
import { fail, parseJson, signed, HelloBody, verifyBody, keyIdOf } from '../../../protocol/index.ts';
import { FakeStorage } from '../helpers/fake-platform.ts';

test('power-on state holds from the first instant until the clock is set; then only credit closes the relay', (t) => {
  const r = powerOnScenario() as Record<string, { atBoot: boolean[]; beforeClock: boolean[]; afterClock: boolean[]; afterCredit: boolean[]; importBeforeClock: boolean }>;
  t.deepEqual(r.open, { atBoot: [false], beforeClock: [false], afterClock: [false], afterCredit: [false, true], importBeforeClock: false });
  t.deepEqual(r.closed, { atBoot: [true], beforeClock: [true], afterClock: [true, false], afterCredit: [true, false, true], importBeforeClock: true });
});

test('a new meter makes its key, says Hello, waits with the pending ACL, pins the enrolling authority, then logs in again as a meter', (t) => {
  const r = enrolmentScenario() as {
    pending: { readingsSent: number; outbox: number[]; hellos: number };
    subscriptions: string[][];
    enrolled: boolean;
    outboxAfterEnrolment: number[];
    stored: number[];
    errors: Record<string, number>;
    configured: { afterStranger: boolean; afterAuthority: boolean; errors: Record<string, number> };
  };
  t.deepEqual(r.pending, { readingsSent: 0, outbox: [1, 2], hellos: 1 });
  t.deepEqual(r.subscriptions, [['enrolment', 'time'], ['ack', 'time', 'credit', 'enrolment']]);
  t.true(r.enrolled);
  t.deepEqual(r.outboxAfterEnrolment, []);
  t.deepEqual(r.stored, [1, 2, 3], 'readings taken while pending are delivered after enrolment');
  t.deepEqual(r.errors, { E_CREDIT_BAD_ISSUER: 1, E_UNKNOWN_SIGNER: 1 }, 'another authority\'s certificate and credit are refused');
  t.deepEqual(r.configured, { afterStranger: false, afterAuthority: true, errors: { E_UNKNOWN_SIGNER: 1 } });
});

test('the Hello and the login token are signed by the meter key; the secret key is stored once and never published', (t) => {
  const w = new World({ enrolOnHello: false }).start();
  w.run(5000);
  const hello = signed(HelloBody).parse(parseJson(w.broker.messages('/hello')[0].payload), '');
  t.true(verifyBody(hello, hello.body.publicKey));
  t.is(keyIdOf(hello.body.publicKey), w.meter.meterId);
  // Not enrolled yet: the token carries the public key, so the gateway can check it (docs/protocol.md §3).
  const login = parseJson(w.broker.connects[0].password) as { body: Record<string, unknown>; sig: string };
  t.deepEqual(login.body, { type: 'Login', grid: 'testgrid', id: w.meter.meterId, client: w.meter.meterId, ctr: 1, publicKey: w.meter.publicKey });
  t.true(verifyBody(login as never, w.meter.publicKey));
  w.gateway.enrol(w.meter.meterId);
  w.run(5000);
  const enrolledLogin = parseJson(w.broker.connects[1].password) as { body: Record<string, unknown> };
  t.deepEqual(enrolledLogin.body, { type: 'Login', grid: 'testgrid', id: w.meter.meterId, client: w.meter.meterId, ctr: 2 }, 'enrolled: no key in the token');
  t.is(w.broker.connects[0].clientId, w.meter.meterId);
  t.is(w.broker.connects[0].will.payload, `{"meter":"${w.meter.meterId}","state":"offline","type":"Status"}`);
  t.true(w.broker.connects[0].will.retain);
  const secret = w.storage.reboot().get('helios', 'key') as ArrayBuffer;
  const hex = Buffer.from(secret.slice(0, 32)).toString('hex');
  const b64 = Buffer.from(secret.slice(0, 32)).toString('base64url');
  for (const m of w.broker.log) {
    t.false(m.payload.includes(hex) || m.payload.includes(b64), `secret key found in ${m.topic}`);
  }
  t.true(w.logs.some((l) => l.includes(w.meter.meterId) && l.includes(w.meter.publicKey)), 'meter id and public key printed at boot');
});

test('a storage failure never crashes the meter: the reading is not sent, the error is counted, metering goes on', (t) => {
  const w = new World({ power: 1000 }).start();
  w.run(2000);
  w.fund();
  w.run(61_000);
  const sent = w.publishedReadings().length;
  const flash = w.storage as FakeStorage;
  const original = flash.set.bind(flash);
  // What the Moddable Preference adapter throws when NVS refuses a write.
  flash.set = () => fail('E_STORAGE_FAILED', 'nvs set fail');
  w.run(120_000);
  t.is(w.publishedReadings().length, sent, 'no reading without its durable record');
  t.true((w.meter.counters.snapshot().E_STORAGE_FAILED ?? 0) >= 2);
  flash.set = original;
  w.run(60_000);
  t.is(w.publishedReadings().length, sent + 1);
  const last = w.publishedReadings().at(-1)!;
  t.is(last.seq, w.publishedReadings().at(-2)!.seq + 1, 'no sequence number was burnt');
});

test('with the flash failing for good, the relay still opens when the credit runs out', (t) => {
  const w = new World({ power: 1200 }).start();
  w.run(2000);
  const id = w.meter.meterId;
  w.gateway.sendCredit(id, w.gateway.token(id, { energyMWh: 20_000, validFrom: T0, validUntil: T0 + 3_600_000, nonce: nonce(0x77) }));
  w.run(2000);
  t.is(w.meter.snapshot().relay, 'closed');
  (w.storage as FakeStorage).set = () => fail('E_STORAGE_FAILED', 'nvs set fail');
  w.run(2 * 60_000); // 20 Wh at 1.2 kW last one minute
  t.is(w.meter.snapshot().relay, 'open');
  t.is(w.relay.closed, false);
  t.true(w.meter.snapshot().importMWh >= 20_000);
});

test('a meter enrolled without a relay only measures: the supply stays on without credit, and export is metered', (t) => {
  const w = new World({ power: -1200, enrolOnHello: false }).start();
  w.gateway.relayInstalled = false;
  w.run(2000);
  t.is(w.relay.closed, false, 'power-on state (open) until the enrolment says otherwise');
  w.gateway.enrol(w.meter.meterId);
  w.run(5000);
  t.is(w.relay.closed, true, 'no relay to switch: the household stays supplied with no credit at all');
  w.run(3_600_000);
  t.is(w.relay.closed, true);
  t.is(w.meter.snapshot().creditMWh, 0);
  t.true(w.meter.snapshot().exportMWh >= 1_190_000, 'an hour at −1200 W is metered as export');
});
