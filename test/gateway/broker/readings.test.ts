/**
 * The metering pipeline against a real gateway: a real Aedes broker on a loopback
 * port, real MQTT clients (mqtt.js), a real SQLite file. Every kind of bad message
 * is refused, counted under its own code, stores nothing and does not disturb the
 * other meters.
 */
import test from 'ava';
import { canonicalize, parseJson, signBody, topics } from '../../../protocol/index.ts';
import { waitForTx } from '../../../gateway/api/routes/ledger.ts';
import { Gateway } from '../../../gateway/gateway.ts';
import { silentLogger } from '../../../gateway/log.ts';
import { http, newGridDir } from '../../helpers/gateway.ts';
import { MqttMeter } from '../../helpers/mqttMeter.ts';

const grid = newGridDir({ blockPeriodMs: 100 });
const G = grid.genesis.grid;
const [zarak, asad] = grid.households;
let gw: Gateway;
let url: string;

async function enrol(m: MqttMeter, owner = zarak.email): Promise<void> {
  const { id } = gw.authority.submit({ type: 'EnrollMeter', meter: m.id, publicKey: m.key.publicKey, participant: owner, installer: 'Ines', location: 'roof', pulsesPerKWh: 1000, relay: true });
  const s = await waitForTx(gw.ledger, gw.clock, id, 10_000);
  if (s.status !== 'committed') throw new Error(`enrolment not committed: ${JSON.stringify(s)}`);
}

async function rejected(code: string): Promise<number> {
  const text = await (await fetch(gw.httpUrl + '/metrics')).text();
  const m = new RegExp(`^helios_(?:readings_rejected|mqtt_refused)_total\\{code="${code}"\\} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

const stored = (m: MqttMeter) => gw.metering.readingCount(m.id);

// A well-behaved neighbour that keeps publishing while the others misbehave.
const neighbour = new MqttMeter(G, 9001);
let neighbourRunning = true;
let neighbourLoop: Promise<void>;

test.before(async () => {
  gw = await Gateway.start({ dataDir: grid.dir, httpPort: 0, mqttPort: 0, mqttTlsPort: null, mqttWsPort: null, log: silentLogger });
  url = gw.mqttUrl!;
  await enrol(neighbour, asad.email);
  await neighbour.connect(url);
  neighbourLoop = (async () => {
    while (neighbourRunning) {
      await neighbour.publishReading();
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
});

test.after.always(async () => {
  neighbourRunning = false;
  await neighbourLoop;
  await neighbour.close();
  await gw.stop();
});

test.serial('signed readings are stored, acknowledged only once durable, and committed to a block', async (t) => {
  const m = new MqttMeter(G, 100);
  await enrol(m);
  await m.connect(url);
  // On subscribing, the meter is told the time and its stored position (0).
  await m.waitFor(() => m.received.some((r) => r.topic.endsWith('/time')), 'Time');
  await m.waitFor(() => m.acks().includes(0), 'initial Ack 0');
  for (let i = 0; i < 5; i++) await m.publishReading();
  await m.waitFor(() => m.lastAck() === 5, 'Ack 5');
  t.is(stored(m), 5);
  // Every acknowledged reading was already in the database when the Ack left.
  const rows = gw.metering.readings(m.id, 0, Number.MAX_SAFE_INTEGER);
  t.deepEqual(rows.map((r) => r.seq), [1, 2, 3, 4, 5]);
  await m.waitFor(() => gw.metering.lastReading(m.id)!.blockHeight !== null, 'readings in a block');
  const api = await http<{ lastReading: { seq: number; importMWh: number; blockHeight: number }; status: { state: string } }>(gw.httpUrl + `/api/meters/${m.id}`, 'GET', undefined, { authorization: `Bearer ${grid.operatorSecret}` });
  t.is(api.body.lastReading.seq, 5);
  t.is(api.body.lastReading.importMWh, 500);
  t.is(api.body.status.state, 'online');
  t.true(api.body.lastReading.blockHeight > 0);
  // The enrolment certificate arrived (retained) and names the authority that signs credit tokens.
  const cert = m.received.find((r) => r.topic.endsWith('/enrolment'));
  t.is((parseJson(cert!.payload) as { body: { authority: string } }).body.authority, gw.authority.key.publicKey);
  await m.close();
});

const contentCases: Array<[string, (m: MqttMeter) => string | Buffer, string]> = [
  ['malformed JSON', () => '{"body": {"type": "Reading"', 'E_MALFORMED_JSON'],
  // A payload over 2 KiB costs the meter its connection (docs/protocol.md §3): test/security/oversized-meter-message.test.ts.
  ['a wrong signature', (m) => m.reading().replace(/"importMWh":\d+/, '"importMWh":1'), 'E_BAD_SIGNATURE'],
  ['a float register', (m) => m.reading().replace(/"powerW":360/, '"powerW":360.5'), 'E_NOT_INTEGER'],
  ['an unknown field', (m) => canonicalize(signBody({ ...JSON.parse(m.reading()).body, extra: 1 }, m.key.secretKey)), 'E_UNKNOWN_FIELD'],
  ["another meter's reading under its own topic", (m) => {
    void m;
    const other = new MqttMeter(G, 555);
    return other.reading({ meter: other.id });
  }, 'E_TOPIC_MISMATCH'],
];

for (const [i, [name, make, code]] of contentCases.entries()) {
  test.serial(`a reading with ${name} is refused as ${code}, stores nothing, and the meter stays connected`, async (t) => {
    const m = new MqttMeter(G, 200 + i);
    await enrol(m);
    await m.connect(url);
    await m.publishReading();
    await m.waitFor(() => m.lastAck() === 1, 'first Ack');
    const before = await rejected(code);
    const neighbourBefore = stored(neighbour);
    const payload = make(m);
    await m.publishReading(typeof payload === 'string' ? payload : payload.toString());
    await m.waitFor(async () => (await rejected(code)) > before, `${code} counted`);
    t.is(await rejected(code), before + 1);
    t.is(stored(m), 1, 'nothing more was stored');
    t.true(m.client!.connected, 'a bad reading does not cost the meter its connection');
    // …and the meter's next good reading goes through.
    await m.publishReading();
    await m.waitFor(() => m.acks().some((a) => a >= m.seq), 'the next Ack');
    t.is(stored(m), 2);
    t.true(stored(neighbour) > neighbourBefore, 'the neighbour kept being served');
    await m.close();
  });
}

test.serial('a replayed sequence number is acknowledged again but stored once', async (t) => {
  const m = new MqttMeter(G, 300);
  await enrol(m);
  await m.connect(url);
  const r1 = m.reading();
  const r2 = m.reading();
  await m.publishReading(r1);
  await m.publishReading(r2);
  await m.waitFor(() => m.lastAck() === 2, 'Ack 2');
  const before = await rejected('E_DUPLICATE_READING');
  const acksBefore = m.acks().length;
  await m.publishReading(r1);
  await m.publishReading(r2);
  await m.waitFor(() => m.acks().length >= acksBefore + 2, 'acks for the resends');
  t.deepEqual(m.acks().slice(-2), [2, 2]);
  t.is(stored(m), 2);
  t.is(await rejected('E_DUPLICATE_READING'), before + 2);
  await m.close();
});

test.serial('a resend after reconnecting delivers every unacknowledged reading exactly once', async (t) => {
  const m = new MqttMeter(G, 301);
  await enrol(m);
  await m.connect(url);
  const outbox = [m.reading(), m.reading(), m.reading()];
  await m.publishReading(outbox[0]);
  await m.waitFor(() => m.lastAck() === 1, 'Ack 1');
  await m.close();
  // Offline: readings 4…8 pile up in the outbox.
  for (let i = 0; i < 5; i++) outbox.push(m.reading());
  await m.connect(url);
  for (const r of outbox) await m.publishReading(r); // the whole outbox, oldest first, including the stored reading 1
  await m.waitFor(() => m.lastAck() === 8, 'Ack 8');
  t.deepEqual(gw.metering.readings(m.id, 0, Number.MAX_SAFE_INTEGER).map((r) => r.seq), [1, 2, 3, 4, 5, 6, 7, 8]);
  t.deepEqual(gw.metering.gaps(m.id), []);
  await m.close();
});

test.serial('registers that go backwards are refused (E_REGISTER_DECREASED)', async (t) => {
  const m = new MqttMeter(G, 302);
  await enrol(m);
  await m.connect(url);
  await m.publishReading();
  await m.waitFor(() => m.lastAck() === 1, 'Ack 1');
  const before = await rejected('E_REGISTER_DECREASED');
  await m.publishReading(m.reading({ importMWh: 50 }));
  await m.waitFor(async () => (await rejected('E_REGISTER_DECREASED')) > before, 'refusal');
  t.is(stored(m), 1);
  await m.close();
});

test.serial('a reading dated far in the future is refused and the meter is sent the time', async (t) => {
  const m = new MqttMeter(G, 303);
  await enrol(m);
  await m.connect(url);
  const times = () => m.received.filter((r) => r.topic.endsWith('/time')).length;
  await m.waitFor(() => times() === 1, 'first Time');
  await m.publishReading(m.reading({}, Date.now() + 3_600_000));
  await m.waitFor(() => times() === 2, 'a second Time after the refusal');
  t.is(stored(m), 0);
  await m.close();
});

test.serial('publishing under another meter\'s topic, or outside the ACL, disconnects the client and is counted', async (t) => {
  const m = new MqttMeter(G, 304);
  await enrol(m);
  await m.connect(url);
  const before = await rejected('E_NOT_AUTHORIZED');
  const closed = new Promise<void>((r) => m.client!.once('close', () => r()));
  await m.publish(topics.meter(G, neighbour.id, 'reading'), neighbour.reading());
  neighbour.seq -= 1; neighbour.importMWh -= 100; // that reading was not the neighbour's
  await closed;
  t.is(await rejected('E_NOT_AUTHORIZED'), before + 1);
  t.is(stored(m), 0);
});

test.serial('forged acknowledgements and credit tokens from a client never reach the meter', async (t) => {
  const victim = new MqttMeter(G, 305);
  await enrol(victim);
  await victim.connect(url);
  await victim.waitFor(() => victim.acks().length > 0, 'initial Ack');
  const acks = victim.acks().length;
  const forger = new MqttMeter(G, 306);
  await enrol(forger);
  await forger.connect(url);
  const before = await rejected('E_NOT_AUTHORIZED');
  const closed = new Promise<void>((r) => forger.client!.once('close', () => r()));
  await forger.publish(topics.meter(G, victim.id, 'credit'), canonicalize(signBody({ type: 'CreditToken', grid: G, meter: victim.id, energyMWh: 1_000_000, validFrom: 0, validUntil: Date.now() + 3_600_000, nonce: 'f'.repeat(32), issuer: forger.id }, forger.key.secretKey)));
  await closed;
  await forger.connect(url);
  const closed2 = new Promise<void>((r) => forger.client!.once('close', () => r()));
  await forger.publish(topics.meter(G, victim.id, 'ack'), canonicalize({ type: 'Ack', meter: victim.id, seq: 999, t: Date.now() }));
  await closed2;
  await new Promise((r) => setTimeout(r, 200));
  t.is(await rejected('E_NOT_AUTHORIZED'), before + 2);
  t.false(victim.received.some((r) => r.topic.endsWith('/credit')), 'no credit reached the victim');
  t.is(victim.acks().length, acks, 'no forged Ack reached the victim');
  await victim.close();
});

test.serial('subscribing outside the ACL is refused for that topic (SUBACK 128) and counted; the client stays', async (t) => {
  const m = new MqttMeter(G, 307);
  await enrol(m);
  await m.connect(url);
  const before = await rejected('E_NOT_AUTHORIZED');
  // mqtt.js rejects when every topic is refused; the SUBACK is on the error.
  const err = await t.throwsAsync(m.client!.subscribeAsync([`helios/${G}/#`, topics.meter(G, neighbour.id, 'credit')])) as Error & { packet: { granted: number[] } };
  t.deepEqual(err.packet.granted, [128, 128]);
  t.is(await rejected('E_NOT_AUTHORIZED'), before + 2);
  t.true(m.client!.connected);
  await m.close();
});

test.serial('logins: unknown keys, bad tokens, replayed counters and revoked meters are refused with their codes', async (t) => {
  const stranger = new MqttMeter(G, 400);
  const before = await rejected('E_UNKNOWN_SIGNER');
  await t.throwsAsync(stranger.connect(url), { message: /Bad username or password|Connection refused/i });
  t.is(await rejected('E_UNKNOWN_SIGNER'), before + 1);

  const m = new MqttMeter(G, 401);
  await enrol(m);
  await m.connect(url);
  await m.close();
  const token = m.loginToken({ ctr: 1 }); // the counter was already used
  const replay = await rejected('E_LOGIN_REPLAY');
  await t.throwsAsync(m.connect(url, { password: token }));
  t.is(await rejected('E_LOGIN_REPLAY'), replay + 1);
  const badLogin = await rejected('E_BAD_LOGIN');
  await t.throwsAsync(m.connect(url, { password: 'not a token' }));
  t.is(await rejected('E_BAD_LOGIN'), badLogin + 1);

  await m.connect(url);
  const closed = new Promise<void>((r) => m.client!.once('close', () => r()));
  const { id } = gw.authority.submit({ type: 'RevokeMeter', meter: m.id, reason: 'seal broken' });
  await waitForTx(gw.ledger, gw.clock, id, 10_000);
  await closed; // kicked at revocation
  const revoked = await rejected('E_METER_REVOKED');
  await t.throwsAsync(m.connect(url));
  t.is(await rejected('E_METER_REVOKED'), revoked + 1);
});

test.serial('a new meter can say Hello before it is enrolled, and is listed for the installer', async (t) => {
  const m = new MqttMeter(G, 500);
  await m.connect(url, { withKey: true, subscribe: false });
  await m.client!.subscribeAsync(topics.meter(G, m.id, 'enrolment'));
  await m.publish(topics.meter(G, m.id, 'hello'), canonicalize(signBody({ type: 'Hello', grid: G, meter: m.id, publicKey: m.key.publicKey, fw: 'helios-fw 0.1.0' }, m.key.secretKey)));
  await m.waitFor(() => gw.metering.hellos().some((h) => h.meter === m.id), 'hello stored');
  const pending = await http<Array<{ meter: string; publicKey: string }>>(gw.httpUrl + '/api/meters/pending');
  t.true(pending.body.some((h) => h.meter === m.id && h.publicKey === m.key.publicKey));
  // It may not publish readings yet.
  const closed = new Promise<void>((r) => m.client!.once('close', () => r()));
  await m.publishReading();
  await closed;
  t.is(stored(m), 0);
});

test.serial('a meter that vanishes is marked offline by its last will', async (t) => {
  const m = new MqttMeter(G, 600);
  await enrol(m);
  await m.connect(url);
  await m.publish(topics.meter(G, m.id, 'status'), canonicalize({ type: 'Status', meter: m.id, state: 'online', relay: 'open', fw: 'test-meter 1', clock: 'set' }));
  await m.waitFor(() => gw.availability.get(m.id)?.fw === 'test-meter 1', 'status recorded');
  (m.client as unknown as { stream: { destroy(): void } }).stream.destroy(); // no DISCONNECT: the will fires
  await m.waitFor(() => gw.availability.get(m.id)?.state === 'offline', 'offline');
  const api = await http<{ status: { state: string; fw: string } }>(gw.httpUrl + `/api/meters/${m.id}`, 'GET', undefined, { authorization: `Bearer ${grid.operatorSecret}` });
  t.deepEqual([api.body.status.state, api.body.status.fw], ['offline', 'test-meter 1']);
});

test.serial('credit tokens are signed by the authority, recorded, sent, and sent again on reconnect', async (t) => {
  const m = new MqttMeter(G, 700);
  await enrol(m);
  await m.connect(url);
  const now = Date.now();
  gw.service.issueCredit({ meter: m.id, energyMWh: 317, validFrom: now, validUntil: now + 60_000, ref: 'direct-purchase-test' });
  await m.waitFor(() => m.received.some((r) => r.topic.endsWith('/credit')), 'credit token');
  const token = parseJson(m.received.find((r) => r.topic.endsWith('/credit'))!.payload) as { body: { energyMWh: number; issuer: string; nonce: string } };
  t.is(token.body.energyMWh, 317);
  t.is(token.body.issuer, gw.authority.key.keyId);
  await m.close();
  m.received.length = 0;
  await m.connect(url);
  await m.waitFor(() => m.received.some((r) => r.topic.endsWith('/credit')), 'credit token again');
  const again = parseJson(m.received.find((r) => r.topic.endsWith('/credit'))!.payload) as { body: { nonce: string } };
  t.is(again.body.nonce, token.body.nonce, 'the same token (same nonce), so the meter counts it once');
  const api = await http<{ credits: Array<{ energyMWh: number }> }>(gw.httpUrl + `/api/meters/${m.id}`, 'GET', undefined, { authorization: `Bearer ${grid.operatorSecret}` });
  t.is(api.body.credits[0].energyMWh, 317);
  await m.close();
});

test.serial('the neighbour was never disturbed: every one of its readings was stored and acknowledged', async (t) => {
  neighbourRunning = false;
  await neighbourLoop;
  await neighbour.waitFor(() => neighbour.lastAck() === neighbour.seq, 'the neighbour\'s last Ack');
  t.is(stored(neighbour), neighbour.seq);
  t.deepEqual(gw.metering.gaps(neighbour.id), []);
});
