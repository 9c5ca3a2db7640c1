/**
 * The Restore (docs/protocol.md §4) against a real gateway: a meter that lost its
 * state record logs in with `restore: true` and no counter; the gateway hands it —
 * and only it — its own newest stored reading and its own last counter login, as it
 * signed them. The restore session can do nothing else, never cuts a live meter off,
 * and is refused for a revoked meter.
 */
import test from 'ava';
import mqtt from 'mqtt';
import { canonicalize, parseJson, signBody, topics, verifyBody, type LoginBody, type RestoreMessage, type Signed } from '../../../protocol/index.ts';
import { waitForTx } from '../../../gateway/api/routes/ledger.ts';
import { Gateway } from '../../../gateway/gateway.ts';
import { silentLogger } from '../../../gateway/log.ts';
import { newGridDir } from '../../helpers/gateway.ts';
import { MqttMeter } from '../../helpers/mqttMeter.ts';

const grid = newGridDir({ blockPeriodMs: 100 });
const G = grid.genesis.grid;
let gw: Gateway;
let url: string;

async function enrol(m: MqttMeter): Promise<void> {
  const { id } = gw.authority.submit({ type: 'EnrollMeter', meter: m.id, publicKey: m.key.publicKey, participant: grid.households[0].email, installer: 'Ines', location: 'roof', pulsesPerKWh: 1000, relay: true });
  const s = await waitForTx(gw.ledger, gw.clock, id, 10_000);
  if (s.status !== 'committed') throw new Error(`enrolment not committed: ${JSON.stringify(s)}`);
}

function restoreLogin(m: MqttMeter, extra: Partial<LoginBody> = {}): string {
  return canonicalize(signBody({ type: 'Login', grid: G, id: m.id, client: m.id, restore: true, ...extra }, m.key.secretKey));
}

/** Connect with `password`; resolves with the client once connected, rejects with the refusal. */
function connect(clientId: string, username: string, password: string): Promise<mqtt.MqttClient> {
  const c = mqtt.connect(url, { clientId, username, password, reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4 });
  return new Promise((resolve, reject) => {
    c.once('connect', () => resolve(c));
    c.once('error', (e) => { c.end(true); reject(e); });
    c.once('close', () => reject(new Error('closed before CONNACK')));
  });
}

/** The SUBACK's granted QoS per topic (128 = refused), whether or not mqtt.js calls a refusal an error. */
function subscribe(c: mqtt.MqttClient, list: string | string[]): Promise<number[]> {
  return new Promise((resolve) => {
    c.subscribe(list, (err, granted) => {
      const g = (err as { packet?: { granted?: number[] } } | null)?.packet?.granted ?? granted?.map((x) => x.qos) ?? [];
      resolve(g.map((x) => (typeof x === 'number' ? x : (x as { qos: number }).qos)));
    });
  });
}

test.before(async () => {
  gw = await Gateway.start({ dataDir: grid.dir, httpPort: 0, mqttPort: 0, mqttTlsPort: null, mqttWsPort: null, log: silentLogger });
  url = gw.mqttUrl!;
});

test.after.always(async () => {
  await gw.stop();
});

test.serial('a restoring meter receives its own last stored reading and last login token, exactly as it signed them, and nothing else', async (t) => {
  const m = new MqttMeter(G, 501);
  await enrol(m);
  await m.connect(url);
  const last = m.loginToken(); // what the next login will present
  m.ctr -= 1;
  await m.close();
  await m.connect(url, { password: last });
  await m.publishReading();
  const second = m.reading();
  await m.publishReading(second);
  await m.waitFor(() => gw.metering.readingCount(m.id) === 2, 'two readings stored');
  await m.close();

  const c = await connect(m.id, m.id, restoreLogin(m));
  const got = new Promise<RestoreMessage>((resolve) => c.on('message', (_topic, p) => resolve(parseJson(p.toString()) as RestoreMessage)));
  const granted = await subscribe(c, [topics.meter(G, m.id, 'restore'), topics.meter(G, m.id, 'ack'), topics.meter(G, m.id, 'credit')]);
  t.deepEqual(granted, [0, 128, 128], 'only the Restore (and the time) may be heard');
  const r = await got;
  t.is(r.type, 'Restore');
  t.is(r.meter, m.id);
  t.is(r.reading, second, 'the newest stored reading, byte for byte');
  t.is(r.login, last, 'the last login token accepted with a counter');
  t.true(verifyBody(parseJson(r.login!) as unknown as Signed<LoginBody>, m.key.publicKey), 'signed by the meter: it can check it with its own key');
  // The restore session cannot deliver readings.
  await c.publishAsync(topics.meter(G, m.id, 'reading'), m.reading());
  await new Promise((res) => setTimeout(res, 200));
  t.is(gw.metering.readingCount(m.id), 2);
  c.end(true);
});

test.serial('a restore login carries no counter, never takes over a live session, and is refused for a revoked or unknown meter', async (t) => {
  const m = new MqttMeter(G, 502);
  await enrol(m);
  await t.throwsAsync(connect(m.id, m.id, restoreLogin(m, { ctr: 5 })), undefined, 'restore with a counter');
  await m.connect(url);
  await t.throwsAsync(connect(m.id, m.id, restoreLogin(m)), undefined, 'a replayed restore login while the meter is online');
  t.true(m.client!.connected, 'the live meter was not cut off');
  await m.close();
  // A stranger's key, no public key in the token: nobody to check it against.
  const stranger = new MqttMeter(G, 503);
  await t.throwsAsync(connect(stranger.id, stranger.id, restoreLogin(stranger)));
  // Another meter cannot ask for this meter's Restore under its own login.
  const other = new MqttMeter(G, 504);
  await enrol(other);
  await other.connect(url);
  t.deepEqual(await subscribe(other.client!, topics.meter(G, m.id, 'restore')), [128]);
  await other.close();
  // Revoked: refused like any login of it.
  const { id } = gw.authority.submit({ type: 'RevokeMeter', meter: m.id, reason: 'test' });
  await waitForTx(gw.ledger, gw.clock, id, 10_000);
  await t.throwsAsync(connect(m.id, m.id, restoreLogin(m)));
});
