/**
 * A node-platform meter against a real MQTT broker (Aedes on a loopback port),
 * with the test playing the gateway's part of docs/protocol.md over MQTT: it
 * checks logins (§3), enrols on Hello, verifies and stores readings, acknowledges
 * them, sends Time, and issues credit signed by a test authority. The broker is
 * restarted mid-run. (The end-to-end run against `helios gateway` itself is a
 * separate, later test.)
 */
import test from 'ava';
import { Aedes } from 'aedes';
import { mkdtempSync, rmSync } from 'node:fs';
import net, { type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import {
  canonicalize, generateKeyPair, keyIdOf, parseJson, signBody, signed, topics, verifyBody,
  HelloBody, LoginBody, ReadingBody, StatusMessage, type CreditTokenBody, type EnrolmentBody,
} from '../../../../protocol/index.ts';
import { createNodeMeter, type NodeMeter } from '../../../../firmware/platform/node/index.ts';

const GRID = 'looptest';
const authority = generateKeyPair((n) => crypto.getRandomValues(new Uint8Array(n)));

/** Poll until `cond` holds (events arrive over real sockets); fail after `ms`. */
async function until(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface BrokerRun {
  port: number;
  refusals: string[];
  logins: Array<{ id: string; ctr: number }>;
  stop(): Promise<void>;
}

/** Known meter keys and login counters survive broker restarts, as the gateway's database would. */
const meterKeys = new Map<string, string>();
const lastCtr = new Map<string, number>();

/**
 * @param gatewayReady meters are let in only once this resolves — the gateway's subscriptions are in
 *   place, as they are from the first instant in `helios gateway`, whose broker is embedded in it.
 */
async function startBroker(port = 0, gatewayReady: () => Promise<void> = () => Promise.resolve()): Promise<BrokerRun> {
  const refusals: string[] = [];
  const logins: Array<{ id: string; ctr: number }> = [];
  const aedes = await Aedes.createBroker({
    preConnect: (client, packet, done) => {
      if (packet.clientId === 'gateway') return done(null, true);
      gatewayReady().then(() => done(null, true), () => done(null, false));
    },
    // docs/protocol.md §3: username = meter id, password = signed Login token with a rising ctr.
    authenticate: (client, username, password, done) => {
      const refuse = (why: string) => {
        refusals.push(why);
        done(Object.assign(new Error(why), { returnCode: 4 as const }), false);
      };
      if (username === 'gateway') return done(null, true);
      try {
        const token = signed(LoginBody).parse(parseJson(password?.toString('utf8') ?? ''), '');
        const b = token.body;
        if (b.id !== username || b.client !== client.id || b.grid !== GRID) return refuse(`E_BAD_LOGIN ${username}`);
        // An enrolled meter's key is known; a new meter sends its key in the token, bound by its key id.
        const key = meterKeys.get(b.id) ?? b.publicKey;
        if (!key || keyIdOf(key) !== b.id || !verifyBody(token, key)) return refuse(`E_BAD_LOGIN signature ${username}`);
        if (b.ctr === undefined || b.ctr <= (lastCtr.get(b.id) ?? 0)) return refuse(`E_LOGIN_REPLAY ${username}`);
        lastCtr.set(b.id, b.ctr);
        logins.push({ id: b.id, ctr: b.ctr });
        done(null, true);
      } catch (e) {
        refuse(`E_BAD_LOGIN ${(e as Error).message}`);
      }
    },
    // A meter publishes only under its own id (E_NOT_AUTHORIZED otherwise).
    authorizePublish: (client, packet, done) => {
      if (!client || client.id === 'gateway') return done(null);
      const p = packet.topic.split('/');
      if (p[0] === 'helios' && p[1] === GRID && p[2] === 'meter' && p[3] === client.id && ['reading', 'status', 'hello'].includes(p[4])) return done(null);
      refusals.push(`E_NOT_AUTHORIZED publish ${packet.topic}`);
      done(new Error('E_NOT_AUTHORIZED'));
    },
    authorizeSubscribe: (client, sub, done) => {
      if (client.id === 'gateway') return done(null, sub);
      const p = sub.topic.split('/');
      if (p[0] === 'helios' && p[1] === GRID && p[2] === 'meter' && p[3] === client.id && ['ack', 'time', 'credit', 'enrolment'].includes(p[4])) return done(null, sub);
      refusals.push(`E_NOT_AUTHORIZED subscribe ${sub.topic}`);
      done(new Error('E_NOT_AUTHORIZED'));
    },
  });
  const sockets = new Set<Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    aedes.handle(s);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    refusals,
    logins,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => aedes.close(() => r()));
    },
  };
}

/** The gateway's side of the meter protocol, over MQTT. */
class TestGateway {
  readonly client: MqttClient;
  received: number[] = [];
  readings = new Map<number, ReadingBody>();
  badSignatures = 0;
  acks = true;
  private subscribed = false;
  private waiters: Array<() => void> = [];

  constructor(port: number) {
    this.client = connect(`mqtt://127.0.0.1:${port}`, { clientId: 'gateway', username: 'gateway', password: 'x', reconnectPeriod: 100 });
    this.client.on('error', () => {});
    this.client.on('close', () => { this.subscribed = false; });
    this.client.on('connect', () => {
      this.client.subscribe([`helios/${GRID}/meter/+/reading`, `helios/${GRID}/meter/+/hello`, `helios/${GRID}/meter/+/status`], { qos: 1 }, () => {
        this.subscribed = true;
        for (const w of this.waiters.splice(0)) w();
      });
    });
    this.client.on('message', (topic, payload) => this.handle(topic, payload.toString('utf8')));
  }

  private handle(topic: string, text: string): void {
    const [, , , meter, leaf] = topic.split('/');
    if (leaf === 'hello') {
      const h = signed(HelloBody).parse(parseJson(text), '');
      if (keyIdOf(h.body.publicKey) !== meter || !verifyBody(h, h.body.publicKey)) {
        this.badSignatures++;
        return;
      }
      meterKeys.set(meter, h.body.publicKey);
      const cert: EnrolmentBody = {
        type: 'Enrolment', grid: GRID, meter, participant: 'zarak@example.org', authority: authority.publicKey, pulsesPerKWh: 1000, relay: true, t: Date.now(),
      };
      this.client.publish(topics.meter(GRID, meter, 'enrolment'), canonicalize(signBody(cert, authority.secretKey)), { qos: 1, retain: true });
    } else if (leaf === 'reading') {
      const r = signed(ReadingBody).parse(parseJson(text), '');
      const key = meterKeys.get(meter);
      if (!key || !verifyBody(r, key) || r.body.meter !== meter) {
        this.badSignatures++;
        return;
      }
      this.received.push(r.body.seq);
      if (!this.readings.has(r.body.seq)) this.readings.set(r.body.seq, r.body);
      if (this.acks) this.ack(meter);
    } else if (leaf === 'status' && text) {
      const s = StatusMessage.parse(parseJson(text), '');
      if (s.state === 'online') this.client.publish(topics.meter(GRID, meter, 'time'), canonicalize({ type: 'Time', t: Date.now() }), { qos: 1 });
    }
  }

  ack(meter: string): void {
    const seq = Math.max(0, ...this.readings.keys());
    this.client.publish(topics.meter(GRID, meter, 'ack'), canonicalize({ type: 'Ack', meter, seq, t: Date.now() }), { qos: 1 });
  }

  credit(meter: string, energyMWh: number, nonce: string): void {
    const body: CreditTokenBody = {
      type: 'CreditToken', grid: GRID, meter, energyMWh, validFrom: Date.now() - 1000, validUntil: Date.now() + 3_600_000, nonce, issuer: authority.keyId,
    };
    this.client.publish(topics.meter(GRID, meter, 'credit'), canonicalize(signBody(body, authority.secretKey)), { qos: 1 });
  }

  /** Resolves once the gateway's subscriptions are in place on the current broker. */
  ready = (): Promise<void> => (this.subscribed ? Promise.resolve() : new Promise((r) => this.waiters.push(r)));

  stored(): number[] {
    return [...this.readings.keys()].sort((a, b) => a - b);
  }

  close(): Promise<void> {
    return new Promise((r) => this.client.end(true, {}, () => r()));
  }
}

test('over real MQTT: readings signed and acknowledged, outbox drained, unacknowledged readings resent once after a broker restart, credit closes the relay and consumption opens it', async (t) => {
  let gateway: TestGateway | undefined;
  const gatewayReady = () => gateway!.ready();
  let broker = await startBroker(0, gatewayReady);
  const port = broker.port;
  gateway = new TestGateway(port);
  const dir = mkdtempSync(join(tmpdir(), 'helios-meter-'));
  let m: NodeMeter | undefined;
  try {
    m = createNodeMeter({
      grid: GRID,
      brokerUrl: `mqtt://127.0.0.1:${port}`,
      dataDir: dir,
      clockSet: false,
      power: 3600, // 1 mWh per ms while supplied
      config: { readingPeriodMs: 1000, backoff: { baseMs: 100, capMs: 1000, stableMs: 5000 }, connectTimeoutMs: 5000 },
    });
    const meter = m.meter;
    const id = meter.meterId;
    m.start();

    // Hello → enrolment → log in again as a meter; Time → clock set; readings flow and are acknowledged.
    await until('enrolled, clock set, three readings stored', () => meter.snapshot().enrolled && gateway.readings.size >= 3);
    await until('outbox drained', () => meter.snapshot().outbox.length === 0);
    t.is(meter.snapshot().clock, 'set');
    t.deepEqual(gateway.stored(), Array.from({ length: gateway.readings.size }, (_, i) => i + 1));
    t.is(gateway.badSignatures, 0, 'every reading verified with the key from the Hello');
    t.true(broker.logins.length >= 2, 'a pending login, then a meter login');
    t.true(broker.logins.every((l, i) => i === 0 || l.ctr > broker.logins[i - 1].ctr), 'login counter rises');

    // The gateway stops acknowledging; two readings wait; the broker dies and comes back.
    gateway.acks = false;
    await until('two unacknowledged readings', () => meter.snapshot().outbox.length >= 2);
    const unacked = meter.snapshot().outbox.slice();
    // (Readings still in a socket buffer when the broker dies would reach the gateway only once, after the restart.)
    await until('the gateway has them', () => unacked.every((s) => gateway!.received.includes(s)));
    const loginsBefore = broker.refusals.length;
    await broker.stop();
    await until('meter notices', () => meter.sessionInfo().state !== 'online');
    await until('a reading taken while the broker is down', () => meter.snapshot().outbox.length >= unacked.length + 1);
    t.is(broker.refusals.length, loginsBefore);
    broker = await startBroker(port, gatewayReady);
    gateway.acks = true;
    await until('meter back online and outbox drained', () => meter.sessionInfo().state === 'online' && meter.snapshot().outbox.length === 0);
    const times = (seq: number) => gateway.received.filter((s) => s === seq).length;
    for (const seq of unacked) t.is(times(seq), 2, `unacknowledged reading ${seq} sent again exactly once`);
    const last = Math.max(...gateway.readings.keys());
    for (let seq = unacked[unacked.length - 1] + 1; seq <= last; seq++) t.true(times(seq) <= 1, `reading ${seq} sent once`);
    t.deepEqual(gateway.stored(), Array.from({ length: last }, (_, i) => i + 1), 'nothing lost, nothing stored twice');

    // Credit: 3 Wh at 3.6 kW. No credit so far, so the household was cut off.
    t.is(meter.snapshot().relay, 'open');
    const importBefore = meter.snapshot().importMWh;
    t.is(importBefore, 0);
    gateway.credit(id, 3000, 'c0ffee00c0ffee00c0ffee00c0ffee00');
    await until('relay closed by credit', () => m!.relay.closed === true);
    await until('credit used up, relay open again', () => m!.relay.closed === false);
    const afterCredit = meter.snapshot();
    t.true(afterCredit.importMWh >= 3000, `measured import ${afterCredit.importMWh} mWh used the credit`);
    t.is(afterCredit.creditMWh, 0);
    const seqNow = afterCredit.seq;
    await until('two more readings', () => gateway.readings.size >= seqNow + 2);
    const tail = [...gateway.readings.values()].slice(-2);
    t.is(tail[0].importMWh, tail[1].importMWh, 'no import once the relay is open');
    t.is(tail[1].relay, 'open');
    t.true([...gateway.readings.values()].some((r) => r.relay === 'closed' && r.creditMWh > 0), 'a reading showed the credit in use');
    t.deepEqual(broker.refusals, [], 'the broker refused nothing the meter did');
    t.deepEqual(meter.counters.snapshot(), {});

    // The same token again: refused.
    gateway.credit(id, 3000, 'c0ffee00c0ffee00c0ffee00c0ffee00');
    await until('replay refused', () => meter.counters.get('E_CREDIT_REPLAY') === 1);
    t.is(m.relay.closed, false);
  } finally {
    m?.stop();
    await gateway.close();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a virtual meter with a data directory keeps its key, login counter and registers across a restart of the process; with no broker it keeps metering', async (t) => {
  const { ManualClock } = await import('../../../../protocol/index.ts');
  const dir = mkdtempSync(join(tmpdir(), 'helios-meter-'));
  try {
    const clock = new ManualClock(Date.UTC(2026, 2, 21, 13));
    // Port 9 (discard) on loopback: nothing listens, every connection attempt is refused.
    // Clock unset and relay closed at power-on: the household is supplied and metered, no reading is sent.
    const options = {
      grid: GRID, brokerUrl: 'mqtt://127.0.0.1:9', dataDir: dir, clock, clockSet: false, power: 1000,
      config: { relayPowerOn: 'closed' as const, backoff: { baseMs: 1000, capMs: 2000, stableMs: 5000 } },
    };
    const a = createNodeMeter(options);
    a.start();
    for (let i = 0; i < 180; i++) {
      clock.advance(1000);
      await new Promise((r) => setTimeout(r, 1)); // let refused connections report back
    }
    const before = a.meter.snapshot();
    t.is(before.importMWh, 50_000, '3 minutes at 1 kW');
    t.true(before.ctr >= 3, `${before.ctr} connection attempts, each with a fresh login counter`);
    a.stop();
    const b = createNodeMeter(options);
    const after = b.meter.snapshot();
    t.is(after.meter, before.meter, 'same key');
    t.false(b.meter.keyCreated);
    t.is(after.importMWh, 50_000, 'a clean stop keeps every mWh');
    t.true(after.ctr >= before.ctr);
    b.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
