/**
 * Finding 2 of issue 13, pending-meter flood: logins that prove only a fresh key
 * (a new meter saying Hello) get a pool of their own — rate-limited per source
 * address and overall, of bounded size, each session and each Hello expiring — and
 * never take the places of enrolled meters and households. Tried with raw MQTT
 * CONNECTs from several loopback addresses (each a different source) against a real
 * gateway with a client cap of 4.
 */
import test from 'ava';
import { canonicalize, generateKeyPair, signBody, topics, type KeyPair } from '../../protocol/index.ts';
import { waitForTx } from '../../gateway/api/routes/ledger.ts';
import { Gateway } from '../../gateway/gateway.ts';
import { silentLogger } from '../../gateway/log.ts';
import { http, newGridDir } from '../helpers/gateway.ts';
import { testEntropy } from '../helpers/grid.ts';
import { MqttMeter } from '../helpers/mqttMeter.ts';
import { closed, loginToken, metric, rawLogin, until } from '../helpers/attacker.ts';
import type { Socket } from 'node:net';

const grid = newGridDir({ blockPeriodMs: 100 });
const G = grid.genesis.grid;
let gw: Gateway;
let port: number;
const enrolled = [11, 12, 13].map((s) => new MqttMeter(G, s));
let seed = 5000;

test.before(async () => {
  gw = await Gateway.start({
    dataDir: grid.dir, httpPort: 0, mqttPort: 0, mqttTlsPort: null, mqttWsPort: null, log: silentLogger,
    limits: {
      maxClients: 4, helloTtlMs: 1500,
      pending: { pendingMax: 3, perSourceBurst: 2, perSourceRefillMs: 600_000, globalBurst: 5, globalRefillMs: 600_000, sessionMs: 6_000 },
    },
  });
  port = gw.broker.ports.tcp!;
  for (const m of enrolled) {
    const { id } = gw.authority.submit({ type: 'EnrollMeter', meter: m.id, publicKey: m.key.publicKey, participant: grid.households[0].email, installer: 'Ines', location: 'garage', pulsesPerKWh: 1000, relay: true });
    await waitForTx(gw.ledger, gw.clock, id, 10_000);
  }
});
test.after.always(() => gw?.stop());

const refused = (code: string) => metric(gw.httpUrl, 'helios_mqtt_refused_total', { code });

/** A stranger's pending-meter login from `localAddress`. */
function stranger(localAddress: string): Promise<{ code: number | 'closed'; socket: Socket; key: KeyPair }> {
  const key = generateKeyPair(testEntropy(seed++));
  const password = loginToken(key, { grid: G, client: key.keyId, ctr: 1, publicKey: key.publicKey });
  return rawLogin(port, { clientId: key.keyId, username: key.keyId, password, localAddress }).then((r) => ({ ...r, key }));
}

test.serial('pending meters: a Hello is listed, then leaves the list after its time; the pool is rate-limited per source and overall and bounded; enrolled meters and households keep their places', async (t) => {
  // A new meter says Hello and the installer sees it…
  const fresh = new MqttMeter(G, 4000);
  await fresh.connect(gw.mqttUrl!, { withKey: true, subscribe: false });
  const hello = canonicalize(signBody({ type: 'Hello', grid: G, meter: fresh.id, publicKey: fresh.key.publicKey, fw: 'test 1' }, fresh.key.secretKey));
  await fresh.publish(topics.meter(G, fresh.id, 'hello'), hello);
  const listed = async () => (await http<Array<{ meter: string }>>(`${gw.httpUrl}/api/meters/pending`)).body.some((h) => h.meter === fresh.id);
  await until(listed, 'the Hello listed');
  await fresh.close();
  // …and, not heard again, it leaves the list.
  await until(async () => !(await listed()), 'the Hello expired from /api/meters/pending');
  t.false(await listed());

  // Per source: 127.0.0.1 has used one of its two; the second passes, the third is refused.
  const rate0 = await refused('E_RATE_LIMIT');
  const a = await stranger('127.0.0.1');
  t.is(a.code, 0);
  const b = await stranger('127.0.0.1');
  t.is(b.code, 3, 'over the per-source rate: server unavailable');
  t.is(await refused('E_RATE_LIMIT'), rate0 + 1);

  // Pool size: two more from another source fill it (3); the next is refused.
  const pool0 = await refused('E_TOO_MANY_PENDING');
  const c = await stranger('127.0.0.2');
  const d = await stranger('127.0.0.2');
  t.deepEqual([c.code, d.code], [0, 0]);
  const e = await stranger('127.0.0.3');
  t.is(e.code, 3, 'the pending pool is full');
  t.is(await refused('E_TOO_MANY_PENDING'), pool0 + 1);
  // Overall: five new-meter logins were admitted to a check so far, the global allowance; a sixth source is refused by rate.
  const f = await stranger('127.0.0.4');
  t.is(f.code, 3);
  t.is(await refused('E_RATE_LIMIT'), rate0 + 2);

  // The pool is full, yet every enrolled meter and a household get in (the cap of 4 is theirs).
  for (const m of enrolled) await m.connect(gw.mqttUrl!);
  const h = grid.households[0];
  const now = Date.now();
  const ha = await rawLogin(port, { clientId: 'ha-1', username: h.key.keyId, password: loginToken(h.key, { grid: G, client: 'ha-1', iat: now, exp: now + 60_000 }) });
  t.is(ha.code, 0, 'the household got in');
  t.true(enrolled.every((m) => m.client!.connected));
  // The cap itself still holds for them.
  const tooMany = await refused('E_TOO_MANY_CLIENTS');
  const extra = await rawLogin(port, { clientId: 'ha-2', username: h.key.keyId, password: loginToken(h.key, { grid: G, client: 'ha-2', iat: now, exp: now + 60_000 }) });
  t.not(extra.code, 0);
  t.is(await refused('E_TOO_MANY_CLIENTS'), tooMany + 1);

  // A pending session expires: the gateway closes it, so a flood cannot hold the pool.
  await Promise.all([closed(a.socket), closed(c.socket), closed(d.socket)]);
  t.pass();
  for (const m of enrolled) await m.close();
  ha.socket.destroy();
  for (const s of [b, e, f, extra]) s.socket.destroy();
});
