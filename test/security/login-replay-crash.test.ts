/**
 * Finding 5 of issue 13, login replay after a crash: a login counter the gateway
 * acknowledged with CONNACK is durable before the CONNACK. An attacker who captured
 * the token (it travels as the MQTT password) and finds the gateway restarted after a
 * SIGKILL — at a random moment after the CONNACK — still cannot log in with it.
 */
import test from 'ava';
import mqtt from 'mqtt';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { http, newGridDir, startChildGateway } from '../helpers/gateway.ts';
import { MqttMeter } from '../helpers/mqttMeter.ts';

const ports = ['--mqtt-port', '0', '--mqtt-tls-port', 'off', '--mqtt-ws-port', 'off'];

function login(url: string, m: MqttMeter, password: string): Promise<'accepted' | string> {
  return new Promise((resolve) => {
    const c = mqtt.connect(url, { clientId: m.id, username: m.id, password, reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4 });
    c.once('connect', () => resolve('accepted'));
    c.once('error', (e) => { resolve(e.message); c.end(true); });
    c.once('close', () => resolve('closed before CONNACK'));
  });
}

test('a captured login token stays used up after a SIGKILL at any moment after its CONNACK', async (t) => {
  const grid = newGridDir({ blockPeriodMs: 100 });
  let gw = await startChildGateway(grid.dir, ports);
  const secret = readFileSync(join(grid.dir, 'operator.secret'), 'utf8').trim();
  const m = new MqttMeter(grid.genesis.grid, 77);
  const r = await http(gw.url + '/api/authority/tx?wait=commit', 'POST', {
    type: 'EnrollMeter', meter: m.id, publicKey: m.key.publicKey, participant: grid.households[0].email, installer: 'Ines', location: 'flat', pulsesPerKWh: 1000, relay: false,
  }, { authorization: `Bearer ${secret}` });
  t.is(r.status, 200);
  const mqttUrl = () => (JSON.parse(readFileSync(join(grid.dir, 'run', 'gateway.json'), 'utf8')) as { mqtt: string }).mqtt;
  try {
    for (let i = 0; i < 5; i++) {
      const captured = m.loginToken();
      t.is(await login(mqttUrl(), m, captured), 'accepted');
      // Killed 0–40 ms after the CONNACK (the old write-behind window was 50 ms).
      await new Promise((res) => setTimeout(res, Math.floor(Math.random() * 40)));
      await gw.kill('SIGKILL');
      gw = await startChildGateway(grid.dir, ports);
      const replay = await login(mqttUrl(), m, captured);
      t.regex(replay, /bad user ?name or password/i, `try ${i + 1}: the captured token was ${replay}`);
    }
    // The meter itself, with its next counter, still gets in.
    t.is(await login(mqttUrl(), m, m.loginToken()), 'accepted');
  } finally {
    await gw.kill('SIGKILL');
  }
});
