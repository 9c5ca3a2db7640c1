/**
 * bench/ingest — N meter connections publishing signed readings to a real
 * `helios gateway` (child process). Prints sustained verified-and-durably-stored
 * readings/s, p50/p99 acknowledgement latency and gateway RSS, and — measured in
 * the same run — OpenSSL's P-256 verify rate on all cores and mosquitto relaying
 * the same number of unsigned messages of the same size.
 *
 *   npm run bench -- ingest [--meters 1000] [--readings 20] [--paced 5] [--connecting 200]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { generateKeyPair, topics, type KeyPair } from '../protocol/index.ts';
import { newGridDir, startChildGateway, type ChildGateway } from '../test/helpers/gateway.ts';
import { testEntropy } from '../test/helpers/grid.ts';
import { rawConnect, type RawClient } from './lib/rawMqtt.ts';
import { benchArgs } from './lib/args.ts';
import { fmt, opensslP256, table, within } from './lib/reference.ts';
import { privateKeyObject, signFast } from './lib/signing.ts';

const o = benchArgs('ingest', 'Signed readings per second through a real gateway, beside OpenSSL.', {
  meters: { type: 'string', default: '1000', help: 'meters connected' },
  readings: { type: 'string', default: '20', help: 'readings per meter in the burst' },
  paced: { type: 'string', default: '5', help: 'readings per meter sent paced, for latency' },
  connecting: { type: 'string', default: '200', help: 'logins in flight at once' },
  'verify-workers': { type: 'string', help: 'signature-checking worker threads of the gateway' },
});
const N = Number(o.meters);
const R = Number(o.readings);
/** Readings per meter in the second phase, sent at half the rate the burst sustained, for latency under load rather than queueing. */
const P = Number(o.paced);
/** Logins in flight at once while the meters connect. */
const CONNECTING = Number(o.connecting);
const total = N * R;
const log = (s: string) => process.stderr.write(s + '\n');

console.log(`bench/ingest — ${fmt(N)} meters × ${R} signed readings = ${fmt(total)} readings, ${cpus().length} cores\n`);
const ossl = opensslP256(3, cpus().length);

// ——— the gateway ———
const grid = newGridDir({ blockPeriodMs: 1000, seed: 11 });
const gw = await startChildGateway(grid.dir, ['--mqtt-port', '0', '--mqtt-tls-port', 'off', '--mqtt-ws-port', 'off', '--log-level', 'error', ...(o['verify-workers'] !== undefined ? ['--verify-workers', o['verify-workers']] : [])], {},
  process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : []);
const runInfo = JSON.parse(readFileSync(join(grid.dir, 'run', 'gateway.json'), 'utf8')) as { mqtt: string };
const mqttPort = Number(new URL(runInfo.mqtt).port);
const secret = readFileSync(join(grid.dir, 'operator.secret'), 'utf8').trim();
const G = grid.genesis.grid;

log(`making and enrolling ${N} meters…`);
const keys: KeyPair[] = Array.from({ length: N }, (_, i) => generateKeyPair(testEntropy(100_000 + i)));
let next = 0;
await Promise.all(Array.from({ length: 32 }, async () => {
  while (next < N) {
    const k = keys[next++];
    const res = await fetch(gw.url + '/api/authority/tx', {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
      body: JSON.stringify({ type: 'EnrollMeter', meter: k.keyId, publicKey: k.publicKey, participant: grid.households[next % 2].email, installer: 'bench', location: 'bench', pulsesPerKWh: 1000, relay: false }),
    });
    if (res.status !== 202) throw new Error(`enrolment refused: ${await res.text()}`);
  }
}));
for (;;) {
  const h = (await (await fetch(gw.url + '/api/health')).json()) as { pending: number };
  if (h.pending === 0) break;
  await new Promise((r) => setTimeout(r, 100));
}
await new Promise((r) => setTimeout(r, 1500)); // let the last block land

log(`signing ${fmt(total)} readings (client side, not measured)…`);
const t0 = Date.now();
const logins: string[] = [];
const payloads: Buffer[][] = keys.map((k) => {
  const pk = privateKeyObject(k);
  logins.push(signFast({ type: 'Login', grid: G, id: k.keyId, client: k.keyId, ctr: 1 }, pk));
  return Array.from({ length: R + P }, (_, j) => Buffer.from(signFast({
    type: 'Reading', grid: G, meter: k.keyId, seq: j + 1, t: t0 + j * 1000, importMWh: 1000 * (j + 1), exportMWh: 0, powerW: 400, relay: 'open', creditMWh: 0, fw: 'bench',
  }, pk)));
});
const payloadBytes = payloads[0][0].length;

log(`connecting ${N} meters…`);
const acked = new Int32Array(N);
const sentAt: Float64Array[] = keys.map(() => new Float64Array(R + P + 1));
let latencies: number[] = [];
let doneMeters = 0;
let target = R;
let finished: () => void = () => undefined;
let allDone = new Promise<void>((r) => (finished = r));
const clients: RawClient[] = new Array(N);
let connectNext = 0;
const connectStart = performance.now();
await Promise.all(Array.from({ length: CONNECTING }, async () => {
  while (connectNext < N) {
    const i = connectNext++;
    const k = keys[i];
    const token = logins[i];
    clients[i] = await rawConnect(mqttPort, { clientId: k.keyId, username: k.keyId, password: token }, (_topic, payload) => {
      const seq = (JSON.parse(payload.toString()) as { seq: number }).seq;
      const now = performance.now();
      for (let s = acked[i] + 1; s <= seq; s++) latencies.push(now - sentAt[i][s]);
      if (seq > acked[i]) acked[i] = seq;
      if (seq === target) {
        doneMeters++;
        if (doneMeters === N) finished();
      }
    });
    clients[i].subscribe([topics.meter(G, k.keyId, 'ack')]);
  }
}));
const connectSeconds = (performance.now() - connectStart) / 1000;
await new Promise((r) => setTimeout(r, 1000));
latencies.length = 0;

log('publishing…');
const rssBefore = rssOf(gw);
const start = performance.now();
// Each meter sends its readings one after another, a few meters per tick, as fast as the socket takes them.
let round = 0;
const pump = () => {
  if (round >= R) return;
  const s = round + 1;
  const now = performance.now();
  for (let i = 0; i < N; i++) {
    sentAt[i][s] = now;
    clients[i].socket.write(publishPacket(topics.meter(G, keys[i].keyId, 'reading'), payloads[i][round]));
  }
  round++;
  setImmediate(pump);
};
pump();
await within(allDone, 600_000, () => `${doneMeters}/${N} meters fully acknowledged`);
const elapsed = (performance.now() - start) / 1000;
const rss = rssOf(gw);
const burstLatencies = latencies.sort((a, b) => a - b);

// Second phase: the same meters at half the rate the burst sustained, evenly spread — the latency a meter sees on a busy but not saturated gateway.
const pacedRate = Math.max(1, Math.floor(total / elapsed / 2));
latencies = [];
if (P > 0) {
  doneMeters = 0;
  target = R + P;
  allDone = new Promise<void>((r) => (finished = r));
  let sent = 0;
  const t0p = performance.now();
  const timer = setInterval(() => {
    const due = Math.min(N * P, Math.floor(((performance.now() - t0p) / 1000) * pacedRate));
    for (; sent < due; sent++) {
      const i = sent % N;
      const j = R + Math.floor(sent / N);
      sentAt[i][j + 1] = performance.now();
      clients[i].socket.write(publishPacket(topics.meter(G, keys[i].keyId, 'reading'), payloads[i][j]));
    }
    if (sent === N * P) clearInterval(timer);
  }, 5);
  await within(allDone, 600_000, () => `paced phase: ${doneMeters}/${N} meters fully acknowledged`);
  latencies.sort((a, b) => a - b);
}
for (const c of clients) c.close();
await new Promise((r) => setTimeout(r, 500));
await gw.kill();

// Lost or duplicated? Count what the gateway stored.
const db = new Database(join(grid.dir, 'ledger.sqlite'), { readonly: true });
const stored0 = db.prepare(`SELECT count(*) AS n, count(DISTINCT meter || ':' || seq) AS d FROM readings`).get() as { n: number; d: number };
db.close();

const stored = { n: stored0.n, d: stored0.d };
const all = N * (R + P);
const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
const rate = total / elapsed;

// ——— mosquitto, same connections and messages, no signatures ———
const mq = await mosquittoReference(N, R, payloadBytes);

console.log(table(['measure', 'value', 'vs reference'], [
  [`OpenSSL P-256 verify, ${ossl.processes} cores`, `${fmt(ossl.verifyPerSec)} /s`, '1.00'],
  ['gateway: verified + durably stored readings', `${fmt(rate)} /s`, `${fmt(rate / ossl.verifyPerSec, 2)} of OpenSSL (aim ≥ 0.50)`],
  ['gateway: ack latency p50 / p99, burst (queueing included)', `${fmt(pct(burstLatencies, 50), 1)} / ${fmt(pct(burstLatencies, 99), 1)} ms`, ''],
  ...(P > 0 ? [[`gateway: ack latency p50 / p99 at ${fmt(pacedRate)} readings/s (half the burst rate)`, `${fmt(pct(latencies, 50), 1)} / ${fmt(pct(latencies, 99), 1)} ms`, '']] : []),
  [`gateway: logins (CONNECT → CONNACK, signed token checked), ${CONNECTING} in flight`, `${fmt(N / connectSeconds)} /s`, `${fmt(N)} meters in ${fmt(connectSeconds, 1)} s`],
  ['gateway: RSS with all meters connected (before → after)', `${fmt(rssBefore)} → ${fmt(rss)} MiB`, 'aim < 1024 MiB at 10,000 meters'],
  ['gateway: readings stored / distinct / sent', `${fmt(stored.n)} / ${fmt(stored.d)} / ${fmt(all)}`, stored.n === all && stored.d === all ? 'none lost, none duplicated' : 'MISMATCH'],
  [mq ? 'mosquitto relaying the same messages (unsigned)' : 'mosquitto', mq ? `${fmt(mq.rate)} /s` : 'not installed (apt-get install mosquitto)', mq ? `gateway = ${fmt(rate / mq.rate, 2)} of mosquitto` : ''],
]));
console.log(`\nreading payload ${payloadBytes} bytes; ${fmt(elapsed, 2)} s from the first publish to the last acknowledgement`);
if (stored.n !== all || stored.d !== all) process.exitCode = 1;

function publishPacket(topic: string, payload: Buffer): Buffer {
  // PUBLISH QoS 0: fixed header, remaining length, topic, payload.
  const t = Buffer.from(topic);
  const len = 2 + t.length + payload.length;
  const lenBytes: number[] = [];
  let x = len;
  do { let b = x % 128; x = Math.floor(x / 128); if (x > 0) b |= 128; lenBytes.push(b); } while (x > 0);
  return Buffer.concat([Buffer.from([0x30, ...lenBytes, t.length >> 8, t.length & 255]), t, payload]);
}

function rssOf(g: ChildGateway): number {
  const s = readFileSync(`/proc/${g.child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(s)![1]) / 1024;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function mosquittoReference(n: number, r: number, size: number): Promise<{ rate: number } | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'helios-mosq-'));
  const port = await freePort();
  writeFileSync(join(dir, 'm.conf'), `listener ${port} 127.0.0.1\nallow_anonymous true\nmax_connections -1\npersistence false\nmax_queued_messages 0\nlog_type none\n`);
  const proc = spawn('mosquitto', ['-c', join(dir, 'm.conf')], { stdio: 'ignore' });
  const ok = await new Promise<boolean>((resolve) => {
    proc.once('error', () => resolve(false));
    setTimeout(() => resolve(proc.exitCode === null), 500);
  });
  if (!ok) return undefined;
  try {
    let got = 0;
    let done: () => void;
    const all = new Promise<void>((res) => (done = res));
    const sub = await rawConnect(port, { clientId: 'sink' }, () => { if (++got === n * r) done(); });
    sub.subscribe(['bench/#']);
    const pubs: RawClient[] = [];
    for (let i = 0; i < n; i++) pubs.push(await rawConnect(port, { clientId: `p${i}` }, () => undefined));
    await new Promise((res) => setTimeout(res, 500));
    const payload = Buffer.alloc(size, 120);
    const s0 = performance.now();
    for (let j = 0; j < r; j++) for (let i = 0; i < n; i++) pubs[i].socket.write(publishPacket(`bench/${i}`, payload));
    // A QoS 0 message mosquitto dropped would never arrive: report the rate of what did.
    await within(all, 120_000, () => `mosquitto delivered ${got}/${n * r}`).catch(() => undefined);
    const secs = (performance.now() - s0) / 1000;
    for (const p of pubs) p.close();
    sub.close();
    return { rate: got / secs };
  } finally {
    proc.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}
