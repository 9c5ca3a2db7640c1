/**
 * Chaos: under steady load — meters streaming signed readings over MQTT, households
 * submitting transfers over HTTP, meters logging in again and again — the gateway is
 * killed with SIGKILL at random moments, at least 20 times. After every restart
 * nothing a client was told was accepted is missing: each reading acknowledged
 * before the kill is stored, each transaction answered 202 is pending or committed.
 * At the end every such transaction commits and `helios ledger verify` passes.
 * Bounded: about a second of load per round.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { http, heliosBin, newGridDir, startChildGateway, type ChildGateway } from '../helpers/gateway.ts';
import { MqttMeter } from '../helpers/mqttMeter.ts';

const run = promisify(execFile);
const KILLS = Number(process.env.HELIOS_CHAOS_KILLS ?? 20);
const ARGS = ['--mqtt-port', '0', '--mqtt-tls-port', 'off', '--mqtt-ws-port', 'off', '--verify-workers', '1'];

test('SIGKILL at random moments under load loses no acknowledged reading and no accepted transaction', async (t) => {
  t.timeout(240_000);
  const grid = newGridDir({ blockPeriodMs: 200 });
  const [zarak, asad] = grid.households;
  const op = { authorization: `Bearer ${grid.operatorSecret}` };
  const meters = [0, 1, 2].map((i) => new MqttMeter(grid.genesis.grid, 7100 + i));
  const mqttUrl = () => (JSON.parse(readFileSync(join(grid.dir, 'run', 'gateway.json'), 'utf8')) as { mqtt: string }).mqtt;
  let gw: ChildGateway = await startChildGateway(grid.dir, ARGS);
  for (const m of meters) {
    const r = await http(gw.url + '/api/authority/tx?wait=commit', 'POST', {
      type: 'EnrollMeter', meter: m.id, publicKey: m.key.publicKey, participant: zarak.email, installer: 'Ines', location: 'roof', pulsesPerKWh: 1000, relay: false,
    }, op);
    t.is(r.status, 200);
  }
  const acked = new Map<string, number>(meters.map((m) => [m.id, 0]));
  // As the firmware does (docs/protocol.md §4): every reading stays in an outbox until an Ack covers it,
  // and after a reconnect the outbox is sent again, oldest first.
  const outbox = new Map<string, Map<number, string>>(meters.map((m) => [m.id, new Map()]));
  const login = async (m: MqttMeter) => {
    await m.connect(mqttUrl());
    logins++;
    const box = outbox.get(m.id)!;
    for (const [seq, payload] of box) {
      if (seq <= m.lastAck()) box.delete(seq);
      else await m.publishReading(payload);
    }
  };
  const stream = async (m: MqttMeter, alive: () => boolean) => {
    while (alive() && m.client?.connected) {
      const payload = m.reading();
      const box = outbox.get(m.id)!;
      box.set(m.seq, payload);
      for (const seq of box.keys()) if (seq <= m.lastAck()) box.delete(seq); else break;
      await m.publishReading(payload).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 15));
    }
  };
  const accepted: string[] = [];
  let logins = 0;

  try {
    for (let round = 0; round < KILLS; round++) {
      let alive = true;
      // Readings: each meter logs in (a new counter token) and streams.
      const streams = meters.map(async (m) => {
        try {
          await login(m);
        } catch {
          return;
        }
        await stream(m, () => alive);
      });
      // Logins: one meter drops and logs in again while the others stream.
      const churn = (async () => {
        const m = meters[round % meters.length];
        while (alive) {
          await new Promise((r) => setTimeout(r, 150));
          if (!alive) break;
          m.client?.end(true);
          if (await login(m).then(() => true, () => false)) await stream(m, () => alive);
        }
      })();
      // Transactions: both households send transfers, one after another.
      const send = async (from: typeof zarak, to: typeof asad) => {
        while (alive) {
          const tx = grid.tx(from, { type: 'Transfer', to: to.email, amountMicroHec: 10 });
          const r = await http<{ id: string }>(gw.url + '/api/tx', 'POST', tx).catch(() => undefined);
          if (!r) return;
          if (r.status === 202) accepted.push(r.body.id);
          else from.nonce--;
        }
      };
      const senders = [send(zarak, asad), send(asad, zarak)];
      await new Promise((r) => setTimeout(r, 400 + Math.random() * 800));
      await gw.kill('SIGKILL');
      alive = false;
      // Whatever was acknowledged before the process died is what the gateway promised.
      for (const m of meters) acked.set(m.id, Math.max(acked.get(m.id)!, m.lastAck()));
      await Promise.race([Promise.all([...streams, churn, ...senders]), new Promise((r) => setTimeout(r, 2000))]);
      for (const m of meters) m.client?.end(true);

      gw = await startChildGateway(grid.dir, ARGS);
      for (const m of meters) {
        const rows = await http<Array<{ seq: number }>>(gw.url + `/api/meters/${m.id}/readings?limit=10000`, 'GET', undefined, op);
        const seqs = new Set(rows.body.map((r) => r.seq));
        const a = acked.get(m.id)!;
        const missing = [];
        for (let s = 1; s <= a; s++) if (!seqs.has(s)) missing.push(s);
        t.deepEqual(missing, [], `round ${round}: meter ${m.id.slice(0, 8)} had readings up to ${a} acknowledged`);
      }
      for (const id of accepted) {
        const s = await http<{ status: string }>(gw.url + `/api/tx/${id}`);
        if (s.body.status !== 'pending' && s.body.status !== 'committed') t.fail(`round ${round}: transaction ${id} was answered 202, now ${JSON.stringify(s.body)}`);
      }
      for (const h of [zarak, asad]) {
        const n = await http<{ nextNonce: number }>(gw.url + `/api/accounts/${h.key.keyId}/nonce`);
        h.nonce = n.body.nextNonce - 1;
      }
    }
    t.log(`${KILLS} kills; ${[...acked.values()].reduce((a, b) => a + b, 0)} readings acknowledged, ${accepted.length} transactions accepted, ${logins} logins`);
    t.true(accepted.length > KILLS, 'transactions flowed');
    t.true([...acked.values()].every((a) => a > KILLS), 'readings flowed');
    // Everything accepted commits.
    const last = await http<{ status: string }>(gw.url + '/api/tx?wait=commit&timeoutMs=30000', 'POST', grid.tx(asad, { type: 'Transfer', to: zarak.email, amountMicroHec: 1 }));
    t.is(last.body.status, 'committed');
    for (const id of accepted) {
      const s = await http<{ status: string }>(gw.url + `/api/tx/${id}`);
      if (s.body.status !== 'committed') t.fail(`transaction ${id} is ${s.body.status}`);
    }
  } finally {
    for (const m of meters) m.client?.end(true);
    await gw.kill();
  }
  const v = await run(process.execPath, [heliosBin, 'ledger', 'verify', '--data', grid.dir]);
  t.regex(v.stdout, /^OK: /);
});
