/**
 * Finding 4 of issue 13: silent sockets on the TLS and WebSocket listeners never
 * timed out. Every MQTT listener now gives a socket a deadline from its accept to
 * CONNACK (TLS handshake and WebSocket upgrade included), and a connected client that
 * asked for no keep-alive is closed after a time without traffic. Each case is tried
 * on a real gateway with raw sockets, a TLS client and a WebSocket client.
 */
import test from 'ava';
import mqtt from 'mqtt';
import { connect as tlsConnect } from 'node:tls';
import { WebSocket } from 'ws';
import { Gateway } from '../../gateway/gateway.ts';
import { silentLogger } from '../../gateway/log.ts';
import { newGridDir } from '../helpers/gateway.ts';
import { closed, metric, rawSocket, until } from '../helpers/attacker.ts';

const grid = newGridDir({ blockPeriodMs: 200 });
let gw: Gateway;

test.before(async () => {
  gw = await Gateway.start({
    dataDir: grid.dir, httpPort: 0, mqttPort: 0, mqttTlsPort: 0, mqttWsPort: 0, log: silentLogger,
    limits: { handshakeTimeoutMs: 400, idleTimeoutMs: 600 },
  });
});
test.after.always(() => gw?.stop());

/** Resolves true when `p` settles before `ms` (the bound only keeps a failing test from hanging). */
async function within(p: Promise<unknown>, ms = 8_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([p.then(() => true), new Promise<boolean>((res) => { timer = setTimeout(() => res(false), ms); })]);
  clearTimeout(timer);
  return r;
}

const handshakes = () => metric(gw.httpUrl, 'helios_mqtt_refused_total', { code: 'E_HANDSHAKE_TIMEOUT' });

for (const listener of ['tcp', 'tls', 'ws'] as const) {
  test.serial(`a silent socket on the ${listener} listener is closed and counted`, async (t) => {
    const before = await handshakes();
    const s = await rawSocket(gw.broker.ports[listener]!);
    t.true(await within(closed(s)), 'the gateway closed the silent socket');
    await until(async () => (await handshakes()) > before, 'E_HANDSHAKE_TIMEOUT counted');
    t.true((await handshakes()) > before);
  });
}

test.serial('a TLS client that completes the handshake and then says nothing is closed', async (t) => {
  const s = tlsConnect({ host: '127.0.0.1', port: gw.broker.ports.tls!, rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => { s.once('secureConnect', () => resolve()); s.once('error', reject); });
  const gone = new Promise<void>((resolve) => { s.once('close', () => resolve()); s.on('error', () => undefined); });
  t.true(await within(gone));
});

test.serial('a WebSocket client that upgrades and then sends no CONNECT is closed', async (t) => {
  const ws = new WebSocket(`ws://127.0.0.1:${gw.broker.ports.ws}/`, 'mqtt');
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
  t.true(await within(new Promise<void>((resolve) => ws.once('close', () => resolve()))));
});

test.serial('a client trickling a CONNECT one byte at a time is cut off at the deadline', async (t) => {
  const s = await rawSocket(gw.broker.ports.tcp!);
  const gone = closed(s);
  // A CONNECT announcing 100 bytes, fed slower than the deadline allows.
  const bytes = [0x10, 100, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 2, 0, 60];
  const feeder = (async () => {
    for (const b of bytes) {
      if (s.destroyed) return;
      s.write(Buffer.from([b]));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  t.true(await within(gone));
  await feeder;
});

test.serial('a logged-in client that asked for no keep-alive and goes silent is closed after the idle time, and counted', async (t) => {
  const before = await metric(gw.httpUrl, 'helios_mqtt_refused_total', { code: 'E_IDLE_TIMEOUT' });
  const c = mqtt.connect(gw.mqttUrl!, { clientId: 'silent-operator', username: 'operator', password: grid.operatorSecret, keepalive: 0, reconnectPeriod: 0, protocolVersion: 4 });
  await new Promise<void>((resolve, reject) => { c.once('connect', () => resolve()); c.once('error', reject); });
  t.true(await within(new Promise<void>((resolve) => c.once('close', () => resolve()))));
  t.true((await metric(gw.httpUrl, 'helios_mqtt_refused_total', { code: 'E_IDLE_TIMEOUT' })) > before);
  c.end(true);
});
