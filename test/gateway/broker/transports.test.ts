/**
 * The broker's transports and limits, on a real gateway: MQTT over TLS (the grid's
 * own CA) and over WebSocket; packets over the size limit, clients over the message
 * rate and connections beyond the client limit are cut off and counted, others go
 * on. And Home Assistant discovery appears with a meter and goes with it.
 */
import test from 'ava';
import mqtt from 'mqtt';
import { connect as netConnect } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { topics } from '../../../protocol/index.ts';
import { waitForTx } from '../../../gateway/api/routes/ledger.ts';
import { Gateway } from '../../../gateway/gateway.ts';
import { silentLogger } from '../../../gateway/log.ts';
import { newGridDir } from '../../helpers/gateway.ts';
import { MqttMeter } from '../../helpers/mqttMeter.ts';

const grid = newGridDir({ blockPeriodMs: 100 });
const G = grid.genesis.grid;
let gw: Gateway;

test.before(async () => {
  gw = await Gateway.start({
    dataDir: grid.dir, httpPort: 0, mqttPort: 0, mqttTlsPort: 0, mqttWsPort: 0, log: silentLogger,
    limits: { maxPacketBytes: 8 * 1024, ratePerSec: 5, burstSec: 2, maxClients: 6 },
  });
});
test.after.always(() => gw?.stop());

async function enrol(m: MqttMeter): Promise<void> {
  const { id } = gw.authority.submit({ type: 'EnrollMeter', meter: m.id, publicKey: m.key.publicKey, participant: grid.households[0].email, installer: 'Ines', location: 'garage', pulsesPerKWh: 1000, relay: true });
  await waitForTx(gw.ledger, gw.clock, id, 10_000);
}

async function counted(code: string): Promise<number> {
  const text = await (await fetch(gw.httpUrl + '/metrics')).text();
  return Number(new RegExp(`^helios_(?:readings_rejected|mqtt_refused)_total\\{code="${code}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
}

test.serial('a meter connects over TLS, verifying the server against the grid CA, and its readings are stored', async (t) => {
  const m = new MqttMeter(G, 1);
  await enrol(m);
  const run = gw.runInfo();
  t.truthy(run.mqttTls);
  const ca = readFileSync(run.caCert!);
  const client = mqtt.connect(run.mqttTls!, { clientId: m.id, username: m.id, password: m.loginToken(), ca, rejectUnauthorized: true, reconnectPeriod: 0, servername: 'localhost' });
  await new Promise<void>((resolve, reject) => { client.once('connect', () => resolve()); client.once('error', reject); });
  await client.subscribeAsync(topics.meter(G, m.id, 'ack'));
  const acked = new Promise<number>((resolve) => client.on('message', (_t, p) => { const seq = JSON.parse(p.toString()).seq; if (seq > 0) resolve(seq); }));
  await client.publishAsync(topics.meter(G, m.id, 'reading'), m.reading());
  t.is(await acked, 1);
  await client.endAsync();
  // Without the CA the certificate is not trusted.
  const untrusted = mqtt.connect(run.mqttTls!, { clientId: m.id, username: m.id, password: m.loginToken(), rejectUnauthorized: true, reconnectPeriod: 0 });
  const err = await new Promise<Error>((resolve) => untrusted.once('error', resolve));
  t.regex(err.message, /self.signed|certificate|unable to verify/i);
  untrusted.end(true);
});

test.serial('a browser-style client connects over WebSocket', async (t) => {
  const m = new MqttMeter(G, 2);
  await enrol(m);
  const client = mqtt.connect(gw.runInfo().mqttWs!, { clientId: m.id, username: m.id, password: m.loginToken(), reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => { client.once('connect', () => resolve()); client.once('error', reject); });
  await client.subscribeAsync(topics.meter(G, m.id, 'ack'));
  const acked = new Promise<number>((resolve) => client.on('message', (_t, p) => { const seq = JSON.parse(p.toString()).seq; if (seq > 0) resolve(seq); }));
  await client.publishAsync(topics.meter(G, m.id, 'reading'), m.reading());
  t.is(await acked, 1);
  await client.endAsync();
});

test.serial('a packet over the size limit is cut off before it is buffered, and counted', async (t) => {
  const before = await counted('E_PACKET_TOO_LARGE');
  // A CONNECT header announcing 200 MiB: the guard closes the socket on the header alone.
  const port = gw.broker.ports.tcp!;
  const closed = await new Promise<boolean>((resolve) => {
    const s = netConnect(port, '127.0.0.1', () => s.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f])));
    s.on('close', () => resolve(true));
    s.on('error', () => undefined);
  });
  t.true(closed);
  t.is(await counted('E_PACKET_TOO_LARGE'), before + 1);
  // An authenticated client publishing 9 KiB is cut off too.
  const m = new MqttMeter(G, 3);
  await enrol(m);
  await m.connect(gw.mqttUrl!);
  const gone = new Promise<void>((r) => m.client!.once('close', () => r()));
  await m.publish(topics.meter(G, m.id, 'status'), Buffer.alloc(9 * 1024, 32));
  await gone;
  t.is(await counted('E_PACKET_TOO_LARGE'), before + 2);
});

test.serial('a client over its message rate is disconnected and counted; a calm neighbour is not', async (t) => {
  const loud = new MqttMeter(G, 4);
  const calm = new MqttMeter(G, 5);
  await enrol(loud);
  await enrol(calm);
  await loud.connect(gw.mqttUrl!);
  await calm.connect(gw.mqttUrl!);
  const before = await counted('E_RATE_LIMIT');
  const gone = new Promise<void>((r) => loud.client!.once('close', () => r()));
  for (let i = 0; i < 30; i++) loud.publishReading().catch(() => undefined); // 30 at once: burst allows 10
  await gone;
  t.true((await counted('E_RATE_LIMIT')) > before);
  await calm.publishReading();
  await calm.waitFor(() => calm.lastAck() === 1, 'calm neighbour acknowledged');
  t.true(calm.client!.connected);
  await calm.close();
});

test.serial('connections beyond the client limit are refused and counted', async (t) => {
  const before = await counted('E_TOO_MANY_CLIENTS');
  const meters = Array.from({ length: 8 }, (_, i) => new MqttMeter(G, 100 + i));
  for (const m of meters) await enrol(m);
  const results = await Promise.allSettled(meters.map((m) => m.connect(gw.mqttUrl!)));
  const ok = results.filter((r) => r.status === 'fulfilled').length;
  t.true(ok <= 6 && ok >= 1, `${ok} connected`);
  t.true((await counted('E_TOO_MANY_CLIENTS')) >= before + (8 - ok));
  await Promise.all(meters.map((m) => m.close().catch(() => undefined)));
});

test.serial('Home Assistant discovery: retained configs appear at enrolment and are removed at revocation', async (t) => {
  const m = new MqttMeter(G, 50);
  await enrol(m);
  const secret = readFileSync(join(grid.dir, 'operator.secret'), 'utf8').trim();
  const ha = mqtt.connect(gw.mqttUrl!, { clientId: 'home-assistant', username: 'operator', password: secret, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => { ha.once('connect', () => resolve()); ha.once('error', reject); });
  const seen = new Map<string, string>();
  ha.on('message', (topic, payload) => seen.set(topic, payload.toString()));
  await ha.subscribeAsync(`homeassistant/+/helios_${m.id}/+/config`);
  const wait = async (pred: () => boolean) => { for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 10)); };
  await wait(() => seen.size >= 5);
  const importCfg = JSON.parse(seen.get(topics.homeAssistant('sensor', m.id, 'import'))!);
  t.like(importCfg, { device_class: 'energy', state_class: 'total_increasing', unit_of_measurement: 'kWh', state_topic: topics.meter(G, m.id, 'reading') });
  t.is(JSON.parse(seen.get(topics.homeAssistant('sensor', m.id, 'power'))!).unit_of_measurement, 'W');
  t.truthy(seen.get(topics.homeAssistant('binary_sensor', m.id, 'relay')));
  // The template really extracts kWh from a signed reading: 1234567 mWh → 1.234567 kWh.
  t.regex(importCfg.value_template, /value_json\.body\.importMWh \/ 1000000/);

  const { id } = gw.authority.submit({ type: 'RevokeMeter', meter: m.id, reason: 'moved house' });
  await waitForTx(gw.ledger, gw.clock, id, 10_000);
  await wait(() => seen.get(topics.homeAssistant('sensor', m.id, 'import')) === '');
  t.is(seen.get(topics.homeAssistant('sensor', m.id, 'import')), '');
  t.is(seen.get(topics.homeAssistant('binary_sensor', m.id, 'relay')), '');
  await ha.endAsync();
});
