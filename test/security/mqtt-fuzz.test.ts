/**
 * Property-based fuzzing of the gateway's MQTT listener (fast-check), against a real
 * `helios gateway` process: raw random bytes, random bytes after a valid CONNECT, and
 * structured packets made by mqtt-packet — CONNECTs with random identities and
 * tokens, then PUBLISH / SUBSCRIBE / UNSUBSCRIBE / PINGREQ with random topics, QoS
 * and payloads, some from a logged-in meter so the readings pipeline and the ACL see
 * them. After every case the gateway must still be running and answer only with
 * the codes docs/protocol.md §3 documents (CONNACK 0–5, SUBACK 0/1/2/128) or close
 * the socket; afterwards `helios ledger verify` must pass.
 */
import test from 'ava';
import fc from 'fast-check';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { topics } from '../../protocol/index.ts';
import { http, heliosBin, newGridDir, startChildGateway, type ChildGateway } from '../helpers/gateway.ts';
import { MqttMeter } from '../helpers/mqttMeter.ts';

const run = promisify(execFile);
const grid = newGridDir({ blockPeriodMs: 200 });
const G = grid.genesis.grid;
let gw: ChildGateway;
let port: number;
const meter = new MqttMeter(G, 71);

test.before(async () => {
  gw = await startChildGateway(grid.dir, ['--mqtt-port', '0', '--mqtt-tls-port', 'off', '--mqtt-ws-port', 'off', '--log-level', 'error']);
  port = Number(new URL((JSON.parse(readFileSync(join(grid.dir, 'run', 'gateway.json'), 'utf8')) as { mqtt: string }).mqtt).port);
  const r = await http(gw.url + '/api/authority/tx?wait=commit', 'POST', {
    type: 'EnrollMeter', meter: meter.id, publicKey: meter.key.publicKey, participant: grid.households[0].email, installer: 'Ines', location: 'flat', pulsesPerKWh: 1000, relay: false,
  }, { authorization: `Bearer ${grid.operatorSecret}` });
  if (r.status !== 200) throw new Error(`enrolment failed: ${JSON.stringify(r.body)}`);
});
test.after.always(() => gw?.kill('SIGKILL'));

interface Exchange {
  packets: Packet[];
  closedByGateway: boolean;
}

/** Write `chunks` on a fresh socket, wait `ms` for answers, and collect what came back. */
function exchange(chunks: Buffer[], ms: number): Promise<Exchange> {
  return new Promise((resolve) => {
    const s = netConnect(port, '127.0.0.1');
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const packets: Packet[] = [];
    let closedByGateway = false;
    let done = false;
    parser.on('packet', (p) => packets.push(p));
    parser.on('error', () => undefined);
    s.on('data', (d) => parser.parse(d));
    s.on('error', () => undefined);
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ packets, closedByGateway });
    };
    s.on('close', () => { closedByGateway = !done; finish(); });
    const timer = setTimeout(finish, ms);
    s.on('connect', () => { for (const c of chunks) if (!s.destroyed) s.write(c); });
  });
}

/** Every answer is one docs/protocol.md §3 documents. */
function documented(x: Exchange): boolean {
  return x.packets.every((p) => {
    if (p.cmd === 'connack') return [0, 1, 2, 3, 4, 5].includes(p.returnCode ?? 0);
    if (p.cmd === 'suback') return p.granted.every((g) => [0, 1, 2, 128].includes(typeof g === 'number' ? g : (g as { qos?: number }).qos ?? -1));
    return ['publish', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'unsuback', 'pingresp'].includes(p.cmd);
  });
}

async function alive(): Promise<boolean> {
  if (gw.child.exitCode !== null || gw.child.signalCode !== null) return false;
  return (await fetch(gw.url + '/api/health')).ok;
}

const gen = (p: Record<string, unknown>) => {
  try {
    return mqttPacket.generate(p as unknown as Packet);
  } catch {
    return Buffer.from([0xf0, 0x00]); // mqtt-packet refused to encode it: send a reserved packet type instead
  }
};

const topic = fc.oneof(
  fc.constantFrom('#', '+', '$SYS/#', `helios/${G}/#`, topics.tx(G), topics.listing(G), topics.chainHead(G), `helios/${G}/operator/broadcast`, `homeassistant/sensor/x/config`),
  fc.constantFrom('reading', 'status', 'hello', 'ack', 'credit', 'time', 'enrolment').map((leaf) => topics.meter(G, meter.id, leaf as 'reading')),
  fc.string({ maxLength: 80 }),
);
const payload = fc.oneof(
  fc.uint8Array({ maxLength: 3000 }).map((b) => Buffer.from(b)),
  fc.jsonValue({ maxDepth: 20 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
  fc.constant(null).map(() => Buffer.from(meter.reading())),
);
const action = fc.oneof(
  fc.record({ cmd: fc.constant('publish'), topic, payload, qos: fc.constantFrom(0, 1, 2), retain: fc.boolean(), dup: fc.boolean(), messageId: fc.integer({ min: 1, max: 65535 }) }),
  fc.record({ cmd: fc.constant('subscribe'), messageId: fc.integer({ min: 1, max: 65535 }), subscriptions: fc.array(fc.record({ topic, qos: fc.constantFrom(0, 1, 2) }), { minLength: 1, maxLength: 4 }) }),
  fc.record({ cmd: fc.constant('unsubscribe'), messageId: fc.integer({ min: 1, max: 65535 }), unsubscriptions: fc.array(topic, { minLength: 1, maxLength: 3 }) }),
  fc.constant({ cmd: 'pingreq' }),
  fc.constant({ cmd: 'disconnect' }),
);
const login = fc.oneof(
  // The enrolled meter with a fresh counter (so later packets reach the ACL and the pipeline).
  fc.constant(null).map(() => ({ clientId: meter.id, username: meter.id, password: Buffer.from(meter.loginToken()) })),
  fc.record({
    clientId: fc.oneof(fc.string({ maxLength: 70 }), fc.constant(meter.id)),
    username: fc.option(fc.oneof(fc.string({ maxLength: 40 }), fc.constant('operator'), fc.constant(meter.id)), { nil: undefined }),
    password: fc.option(fc.oneof(fc.uint8Array({ maxLength: 1500 }).map((b) => Buffer.from(b)), fc.constant(Buffer.from(meter.loginToken({ ctr: 1 })))), { nil: undefined }),
  }),
);

test.serial('random bytes, and random bytes after a valid CONNECT: the gateway stays up and answers only with documented codes', async (t) => {
  const connect = gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 30, clientId: 'fuzz' });
  await fc.assert(fc.asyncProperty(fc.boolean(), fc.uint8Array({ maxLength: 600 }), async (prefix, bytes) => {
    const x = await exchange(prefix ? [connect, Buffer.from(bytes)] : [Buffer.from(bytes)], 60);
    return documented(x) && (await alive());
  }), { numRuns: 150 });
  t.true(await alive());
});

test.serial('structured packets from mqtt-packet — logins, then publishes, subscribes and the rest: up, documented answers, a refused login gets nothing more', async (t) => {
  let accepted = 0;
  let subacks = 0;
  await fc.assert(fc.asyncProperty(
    fc.record({ version: fc.constantFrom(3, 4, 4, 4, 5), keepalive: fc.integer({ min: 0, max: 65535 }), clean: fc.boolean() }),
    login,
    fc.array(action, { maxLength: 6 }),
    async (c, who, actions) => {
      const connect = gen({ cmd: 'connect', protocolId: c.version === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: c.version, clean: c.clean, keepalive: c.keepalive, ...who });
      const x = await exchange([connect, ...actions.map(gen)], 80);
      if (!documented(x)) return false;
      // Nothing but a CONNACK goes to a client whose login was refused.
      const connack = x.packets.find((p) => p.cmd === 'connack');
      if (connack && connack.cmd === 'connack' && connack.returnCode !== 0 && x.packets.some((p) => p.cmd !== 'connack')) return false;
      if (connack && connack.cmd === 'connack' && connack.returnCode === 0) accepted++;
      if (x.packets.some((p) => p.cmd === 'suback')) subacks++;
      return alive();
    },
  ), { numRuns: 120 });
  t.true(await alive());
  // The runs did get past the login, so the ACL and the readings pipeline were fuzzed too.
  t.true(accepted > 10, `${accepted} logins accepted`);
  t.true(subacks > 0, `${subacks} runs answered with SUBACK`);
  // The chain the gateway kept writing all along still verifies.
  const v = await run(process.execPath, [heliosBin, 'ledger', 'verify', '--data', grid.dir]);
  t.regex(v.stdout, /^OK: /);
});
