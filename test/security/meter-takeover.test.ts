/**
 * Finding 1 of issue 13, meter takeover: a stranger with a fresh key, or a household,
 * logging in under an enrolled meter's client id (with mosquitto's own clients) is
 * refused, and the meter stays connected, online and served. A client id is taken
 * over only by the same identity with a newer token.
 */
import test from 'ava';
import mqtt from 'mqtt';
import { generateKeyPair, topics } from '../../protocol/index.ts';
import { waitForTx } from '../../gateway/api/routes/ledger.ts';
import { Gateway } from '../../gateway/gateway.ts';
import { silentLogger } from '../../gateway/log.ts';
import { http, newGridDir } from '../helpers/gateway.ts';
import { testEntropy } from '../helpers/grid.ts';
import { MqttMeter } from '../helpers/mqttMeter.ts';
import { loginToken, metric, mosquitto } from '../helpers/attacker.ts';

const grid = newGridDir({ blockPeriodMs: 100 });
const G = grid.genesis.grid;
let gw: Gateway;
let port: number;

test.before(async () => {
  gw = await Gateway.start({ dataDir: grid.dir, httpPort: 0, mqttPort: 0, mqttTlsPort: null, mqttWsPort: null, log: silentLogger });
  port = gw.broker.ports.tcp!;
});
test.after.always(() => gw?.stop());

async function enrolledMeter(seed: number): Promise<MqttMeter> {
  const m = new MqttMeter(G, seed);
  const { id } = gw.authority.submit({ type: 'EnrollMeter', meter: m.id, publicKey: m.key.publicKey, participant: grid.households[0].email, installer: 'Ines', location: 'garage', pulsesPerKWh: 1000, relay: true });
  await waitForTx(gw.ledger, gw.clock, id, 10_000);
  await m.connect(gw.mqttUrl!);
  await m.publishReading();
  await m.waitFor(() => m.lastAck() === 1, 'first Ack');
  return m;
}

/** mosquitto_sub logging in with the given identity; it must be refused at CONNACK. */
async function intrude(clientId: string, username: string, password: string, topic: string) {
  return mosquitto('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-V', 'mqttv311', '-i', clientId, '-u', username, '-P', password, '-t', topic, '-C', '1', '-W', '3']);
}

async function meterState(id: string): Promise<string> {
  return (await http<{ status: { state: string } }>(`${gw.httpUrl}/api/meters/${id}`, 'GET', undefined, { authorization: `Bearer ${grid.operatorSecret}` })).body.status.state;
}

test.serial('a stranger logging in as a pending meter under an enrolled meter\'s client id is refused; the meter stays online and acknowledged', async (t) => {
  const m = await enrolledMeter(1);
  let dropped = 0;
  m.client!.on('close', () => dropped++);
  const before = await metric(gw.httpUrl, 'helios_mqtt_refused_total', { code: 'E_CLIENT_ID_RESERVED' });
  const stranger = generateKeyPair(testEntropy(9001));
  for (let i = 1; i <= 3; i++) {
    const token = loginToken(stranger, { grid: G, client: m.id, ctr: i, publicKey: stranger.publicKey });
    const r = await intrude(m.id, stranger.keyId, token, topics.meter(G, m.id, 'ack'));
    t.not(r.code, 0, r.out);
    t.regex(r.out, /identifier rejected|refused/i);
  }
  t.is(await metric(gw.httpUrl, 'helios_mqtt_refused_total', { code: 'E_CLIENT_ID_RESERVED' }), before + 3);
  t.is(dropped, 0, 'the real meter was never disconnected');
  t.true(m.client!.connected);
  t.is(await meterState(m.id), 'online');
  await m.publishReading();
  await m.waitFor(() => m.lastAck() === 2, 'the meter is still acknowledged');
  await m.close();
});

test.serial('a household logging in under a meter\'s client id is refused; the meter keeps its session', async (t) => {
  const m = await enrolledMeter(2);
  let dropped = 0;
  m.client!.on('close', () => dropped++);
  const h = grid.households[0];
  const now = Date.now();
  const token = loginToken(h.key, { grid: G, client: m.id, iat: now, exp: now + 60_000 });
  const r = await intrude(m.id, h.key.keyId, token, topics.listing(G));
  t.not(r.code, 0, r.out);
  t.is(dropped, 0);
  t.is(await meterState(m.id), 'online');
  // The operator may not sit on a key id either.
  const op = await intrude(m.id, 'operator', grid.operatorSecret, topics.listing(G));
  t.not(op.code, 0, op.out);
  t.is(dropped, 0);
  await m.close();
});

test.serial('a client id is taken over only by the same identity: another household is refused, the same one with its token gets in', async (t) => {
  const [a, b] = grid.households;
  const now = Date.now();
  const tokenA = loginToken(a.key, { grid: G, client: 'home-assistant', iat: now, exp: now + 3_600_000 });
  const first = mqtt.connect(gw.mqttUrl!, { clientId: 'home-assistant', username: a.key.keyId, password: tokenA, reconnectPeriod: 0, protocolVersion: 4 });
  await new Promise<void>((resolve, reject) => { first.once('connect', () => resolve()); first.once('error', reject); });
  let firstClosed = false;
  first.on('close', () => (firstClosed = true));
  const tokenB = loginToken(b.key, { grid: G, client: 'home-assistant', iat: now, exp: now + 3_600_000 });
  const r = await intrude('home-assistant', b.key.keyId, tokenB, topics.listing(G));
  t.not(r.code, 0, r.out);
  t.false(firstClosed, 'another identity cannot take the session over');
  t.true((await metric(gw.httpUrl, 'helios_mqtt_refused_total', { code: 'E_SESSION_IN_USE' })) >= 1);
  // Household a reconnecting (its old socket half-open, say) with its own token takes over.
  const again = await mosquitto('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-V', 'mqttv311', '-i', 'home-assistant', '-u', a.key.keyId, '-P', tokenA, '-t', topics.listing(G), '-C', '1', '-W', '2']);
  t.notRegex(again.out, /refused|rejected|not authori[sz]ed/i);
  await new Promise((r2) => setTimeout(r2, 100));
  t.true(firstClosed, 'the same identity took its session over');
  first.end(true);
});

test.serial('a meter takes over its own session only with a newer login counter', async (t) => {
  const m = await enrolledMeter(3);
  let dropped = 0;
  m.client!.on('close', () => dropped++);
  // The same counter again (a captured token) is refused, and the session stays.
  const replay = loginToken(m.key, { grid: G, client: m.id, ctr: m.ctr });
  const r = await intrude(m.id, m.id, replay, topics.meter(G, m.id, 'ack'));
  t.not(r.code, 0, r.out);
  t.is(dropped, 0);
  // A newer counter is the meter itself reconnecting: it takes the session over.
  const second = new MqttMeter(G, 3);
  second.ctr = m.ctr;
  await second.connect(gw.mqttUrl!);
  await m.waitFor(() => dropped === 1, 'the old session closed');
  t.true(second.client!.connected);
  await second.close();
});
