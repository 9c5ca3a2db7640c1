/**
 * bench/dashboard — how fresh the dashboards are and what they cost, on a grid with N
 * meters publishing signed readings to a real `helios gateway` (child process), with
 * real Node-RED (`flows/`) and Debian's Chromium:
 *  - from a reading's arrival at the gateway to the household's power widget showing
 *    it (p50/p99): one meter, the household's own, publishes a distinct power every
 *    2 s; a MutationObserver in the page stamps each change;
 *  - Node-RED's CPU and RSS, the gateway's CPU, and the HTTP requests/s the flows
 *    put on the gateway (counted by a pass-through proxy between the two);
 *  - each beside the same figure with no browser open, measured in the same run (the
 *    operator's polls run with or without a page), and the latency beside the
 *    household page's poll period, which bounds it.
 *
 *   npm run bench -- dashboard [--meters 1000] [--period 10] [--seconds 60]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { generateKeyPair, topics, type KeyPair } from '../protocol/index.ts';
import { insecureKey, type KeystoreFile } from '../gateway/keystore.ts';
import { FlowsProcess, makeFlowsEnv } from '../flows/process.ts';
import { freePort } from '../simulator/gatewayProcess.ts';
import { newGridDir, startChildGateway } from '../test/helpers/gateway.ts';
import { tempDir, testEntropy } from '../test/helpers/grid.ts';
import { benchArgs } from './lib/args.ts';
import { rawConnect, type RawClient } from './lib/rawMqtt.ts';
import { fmt, table, within } from './lib/reference.ts';
import { privateKeyObject, signFast } from './lib/signing.ts';

const o = benchArgs('dashboard', 'Reading-to-widget latency, Node-RED CPU/RSS and gateway load with the dashboards open, beside none open.', {
  meters: { type: 'string', default: '1000', help: 'meters publishing readings' },
  period: { type: 'string', default: '10', help: 'seconds between one meter\'s readings' },
  seconds: { type: 'string', default: '60', help: 'length of each phase (the page shows a new reading about once per 3 s poll: 60 s gives ~20 latency samples)' },
});
const N = Number(o.meters);
const PERIOD_MS = Number(o.period) * 1000;
const PHASE_MS = Number(o.seconds) * 1000;
/** The watched meter's reading period: a new value well inside each phase, at every phase of the page's 3 s poll. */
const WATCH_MS = 2000;
/** The Household page's poll period (flows/helios.json, ui.household). */
const POLL_MS = 3000;
const log = (s: string) => process.stderr.write(s + '\n');
let nrChild: () => { kill(): unknown } | undefined = () => undefined;

console.log(`bench/dashboard — ${fmt(N)} meters, a reading every ${PERIOD_MS / 1000} s each (${fmt((N * 1000) / PERIOD_MS)} readings/s), ${PHASE_MS / 1000} s per phase, ${cpus().length} cores\n`);

// ——— the grid: one household watched in the browser, the meters spread over the others ———
const households = [
  { name: 'Bench home', email: 'home@example.org', role: 'consumer' as const, allocationMicroHec: 10_000_000 },
  ...Array.from({ length: 19 }, (_, i) => ({ name: `Neighbour ${i + 1}`, email: `n${i + 1}@example.org`, role: (i % 3 === 0 ? 'prosumer' : 'consumer') as 'prosumer' | 'consumer', allocationMicroHec: 10_000_000 })),
];
const grid = newGridDir({ blockPeriodMs: 1000, households, seed: 21 });
const gw = await startChildGateway(grid.dir, ['--mqtt-port', '0', '--mqtt-tls-port', 'off', '--mqtt-ws-port', 'off', '--log-level', 'error']);
// A failed run must not leave the gateway (or Node-RED, below) running.
process.once('exit', () => { gw.child.kill(); nrChild()?.kill(); });
const runInfo = JSON.parse(readFileSync(join(grid.dir, 'run', 'gateway.json'), 'utf8')) as { mqtt: string };
const mqttPort = Number(new URL(runInfo.mqtt).port);
const G = grid.genesis.grid;
const operator = { authorization: `Bearer ${grid.operatorSecret}` };

// ——— a pass-through proxy that counts what the flows ask of the gateway ———
const upstream = new URL(gw.url);
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
interface RouteCount { n: number; bytes: number; failed: number }
let requests = new Map<string, RouteCount>();
const routeOf = (url: string) => url.split('?')[0].replace(/[0-9a-f]{32,64}/g, ':id').replace(/\/[^/?]+(@|%40)[^/?]+/g, '/:email').replace(/\/\d+$/, '/:n');
const proxy = createServer((req, res) => {
  const r = `${req.method} ${routeOf(req.url ?? '')}`;
  const c = requests.get(r) ?? { n: 0, bytes: 0, failed: 0 };
  requests.set(r, c);
  c.n++;
  const up = request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers, agent }, (ur) => {
    if ((ur.statusCode ?? 502) >= 400) c.failed++;
    ur.on('data', (d: Buffer) => { c.bytes += d.length; });
    res.writeHead(ur.statusCode ?? 502, ur.headers);
    ur.pipe(res);
  });
  up.on('error', (e) => { res.writeHead(502); res.end(e.message); });
  req.pipe(up);
});
await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
const proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;

// ——— the meters ———
log(`making and enrolling ${N} meters…`);
const keys: KeyPair[] = Array.from({ length: N }, (_, i) => generateKeyPair(testEntropy(300_000 + i)));
for (let i = 0; i < N; i += 500) {
  const batch = keys.slice(i, i + 500).map((k, j) => ({
    type: 'EnrollMeter', meter: k.keyId, publicKey: k.publicKey, participant: households[i + j === 0 ? 0 : 1 + ((i + j) % 19)].email,
    installer: 'bench', location: 'bench', pulsesPerKWh: 1000, relay: false,
  }));
  const r = await fetch(gw.url + '/api/authority/txs', { method: 'POST', headers: { 'content-type': 'application/json', ...operator }, body: JSON.stringify(batch) });
  const body = (await r.json()) as { rejected: number; results: Array<{ code?: string; message?: string }> };
  if (body.rejected) throw new Error(`enrolment refused: ${JSON.stringify(body.results.find((x) => x.code))}`);
}
for (;;) {
  const h = (await (await fetch(gw.url + '/api/health')).json()) as { pending: number };
  if (h.pending === 0) break;
  await new Promise((r) => setTimeout(r, 200));
}
await new Promise((r) => setTimeout(r, 1500));

log(`connecting ${N} meters…`);
const pks = keys.map(privateKeyObject);
const seq = new Int32Array(N);
const clients: RawClient[] = new Array(N);
/** The watched meter's readings: power → when it was sent and when the gateway acknowledged it. */
const sentAt = new Map<number, number>();
const ackAt = new Map<number, number>();
const powerOfSeq = new Map<number, number>();
let connectNext = 0;
await Promise.all(Array.from({ length: 100 }, async () => {
  while (connectNext < N) {
    const i = connectNext++;
    const k = keys[i];
    clients[i] = await rawConnect(mqttPort, { clientId: k.keyId, username: k.keyId, password: signFast({ type: 'Login', grid: G, id: k.keyId, client: k.keyId, ctr: 1 }, pks[i]) }, i === 0 ? (_t, payload) => {
      const s = (JSON.parse(payload.toString()) as { seq: number }).seq;
      const p = powerOfSeq.get(s);
      if (p !== undefined && !ackAt.has(p)) ackAt.set(p, Date.now());
    } : () => undefined);
    if (i === 0) clients[i].subscribe([topics.meter(G, k.keyId, 'ack')]);
  }
}));

let watchedPower = 1000;
function publish(i: number): void {
  const s = ++seq[i];
  const powerW = i === 0 ? ++watchedPower : 400;
  const t = Date.now();
  const body = { type: 'Reading', grid: G, meter: keys[i].keyId, seq: s, t, importMWh: 1000 * s, exportMWh: 0, powerW, relay: 'closed', creditMWh: 0, fw: 'bench' };
  if (i === 0) { powerOfSeq.set(s, powerW); sentAt.set(powerW, t); }
  clients[i].publish(topics.meter(G, keys[i].keyId, 'reading'), signFast(body, pks[i]));
}
// Each meter at its own phase of the period; the watched one every WATCH_MS.
const nextAt = Float64Array.from({ length: N }, (_, i) => Date.now() + (i === 0 ? 0 : (i * PERIOD_MS) / N));
const pump = setInterval(() => {
  const now = Date.now();
  for (let i = 0; i < N; i++) {
    if (nextAt[i] > now) continue;
    publish(i);
    nextAt[i] += i === 0 ? WATCH_MS + Math.floor(Math.random() * 500) : PERIOD_MS;
  }
}, 20);

// ——— Node-RED against the gateway, its HTTP through the proxy ———
const flowsPort = await freePort();
const nr = new FlowsProcess({
  env: makeFlowsEnv({ grid: G, mqttUrl: runInfo.mqtt, apiUrl: proxyUrl, operatorSecret: grid.operatorSecret, marketPeriodMs: grid.genesis.marketPeriodMs, userDir: tempDir('helios-bench-flows-'), port: flowsPort }),
});
nrChild = () => nr.child;
await nr.start();
const dash = `${nr.url}/dashboard`;

// ——— measuring a process ———
const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK; // utime, stime
}
function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}
interface Phase { nrCpu: number; nrRss: number; gwCpu: number; gwRss: number; reqPerSec: number; kibPerSec: number; failed: number; routes: Map<string, RouteCount> }
async function phase(ms: number): Promise<Phase> {
  const nrPid = nr.child!.pid!;
  const gwPid = gw.child.pid!;
  requests = new Map();
  const c0 = { nr: cpuSeconds(nrPid), gw: cpuSeconds(gwPid), t: performance.now() };
  const rss: number[] = [];
  const grss: number[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, 1000));
    rss.push(rssMiB(nrPid));
    grss.push(rssMiB(gwPid));
  }
  const secs = (performance.now() - c0.t) / 1000;
  const routes = requests;
  const sum = (f: (c: RouteCount) => number) => [...routes.values()].reduce((a, c) => a + f(c), 0);
  return {
    nrCpu: (cpuSeconds(nrPid) - c0.nr) / secs, nrRss: Math.max(...rss), gwCpu: (cpuSeconds(gwPid) - c0.gw) / secs, gwRss: Math.max(...grss),
    reqPerSec: sum((c) => c.n) / secs, kibPerSec: sum((c) => c.bytes) / 1024 / secs, failed: sum((c) => c.failed),
    routes: new Map([...routes].map(([k, c]) => [k, { n: c.n / secs, bytes: c.bytes / 1024 / secs, failed: c.failed }])),
  };
}

const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN; };
const ackLatencies = (from: number, to: number) => [...sentAt].filter(([p, t]) => t >= from && t < to && ackAt.has(p)).map(([p, t]) => ackAt.get(p)! - t);

// ——— phase 1: no browser ———
log('no browser: measuring…');
await new Promise((r) => setTimeout(r, 5000)); // Node-RED's first polls and subscriptions
const p1From = Date.now();
const quiet = await phase(PHASE_MS);
const ack1 = ackLatencies(p1From, Date.now());

// ——— phase 2: the household's page, the operator's and the public market page ———
log('opening the dashboards in Chromium…');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const page = async (): Promise<Page> => (await browser.newContext({ viewport: { width: 1280, height: 1000 } })).newPage();
const testid = (p: Page, id: string) => p.locator(`[data-testid="${id}"]`);
const home = await page();
await home.goto(`${dash}/wallet`);
const file: KeystoreFile = insecureKey(grid.households[0].key, 'bench home');
await testid(home, 'wallet-import-file').setInputFiles({ name: 'home.key', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(file)) });
await testid(home, 'wallet-import').click();
await testid(home, 'wallet-email').locator('input').fill(households[0].email);
await testid(home, 'wallet-save-email').click();
await testid(home, 'wallet-saved').waitFor();
await home.goto(`${dash}/household`);
const watched = keys[0].keyId;
await testid(home, `meter-${watched}`).locator('[data-testid="meter-power"]').waitFor({ timeout: 60_000 });
const op = await page();
await op.goto(`${dash}/operator`);
await testid(op, 'operator-secret').locator('input').fill(grid.operatorSecret);
await testid(op, 'operator-signin-button').click();
await testid(op, 'meters-count').waitFor({ timeout: 60_000 });
const market = await page();
await market.goto(`${dash}/market`);
await new Promise((r) => setTimeout(r, 5000));

// Stamp every change of the watched meter's power as the page shows it.
// (Page code as text: this file is type-checked without the DOM's types.)
await home.evaluate(`(() => {
  window.seen = [];
  let last = '';
  const read = () => {
    const v = document.querySelector('[data-testid="meter-${watched}"] [data-testid="meter-power"]')?.textContent ?? '';
    if (v && v !== last) { last = v; window.seen.push([Date.now(), v]); }
  };
  new MutationObserver(read).observe(document.body, { subtree: true, childList: true, characterData: true });
  read();
})()`);
log('three pages open: measuring…');
const p2From = Date.now();
const open = await phase(PHASE_MS);
const ack2 = ackLatencies(p2From, Date.now());
const seen = (await home.evaluate('window.seen')) as Array<[number, string]>;
const shown = seen.slice(1).map(([t, v]) => t - (sentAt.get(Number(v)) ?? NaN)).filter((x) => Number.isFinite(x) && x >= 0);
const skipped = Math.max(0, [...sentAt.values()].filter((t) => t >= p2From).length - shown.length);

await browser.close();
clearInterval(pump);
await within(nr.stop(), 20_000, () => 'Node-RED did not stop');
for (const c of clients) c.close();
await gw.kill();
proxy.close();
agent.destroy();

const ratio = (a: number, b: number) => (b > 0 ? `${fmt(a / b, 2)}×` : 'from none');
/** What the Household page asks for (flows/helios.json, the hh.* nodes). */
const HOUSEHOLD = /^GET \/api\/(participants\/:email|meters\/:id\/(readings|energy)|market\/(listings\/current|orders|purchases)|storage|accounts\/:id\/nonce)$/;
const householdPerSec = [...open.routes].filter(([r]) => HOUSEHOLD.test(r)).reduce((a, [, c]) => a + c.n, 0);
const ms = (xs: number[]) => (xs.length ? `${fmt(pct(xs, 50))} / ${fmt(pct(xs, 99))} ms` : '—');
console.log(table(['measure', 'no browser', 'household + operator + market pages open', 'ratio'], [
  ['reading → power widget in the page, p50 / p99', '—', ms(shown), `p50 = ${fmt(pct(shown, 50) / (POLL_MS / 2), 2)} × half the page's ${POLL_MS / 1000} s poll`],
  ['reading → gateway stored and acknowledged (the watched meter), p50 / p99', ms(ack1), ms(ack2), ''],
  ['Node-RED CPU, share of one core', `${fmt(100 * quiet.nrCpu, 1)} %`, `${fmt(100 * open.nrCpu, 1)} %`, ratio(open.nrCpu, quiet.nrCpu)],
  ['Node-RED RSS, peak', `${fmt(quiet.nrRss)} MiB`, `${fmt(open.nrRss)} MiB`, ratio(open.nrRss, quiet.nrRss)],
  ['gateway CPU, share of one core (ingesting the readings too)', `${fmt(100 * quiet.gwCpu, 1)} %`, `${fmt(100 * open.gwCpu, 1)} %`, ratio(open.gwCpu, quiet.gwCpu)],
  ['HTTP requests/s from the flows to the gateway', fmt(quiet.reqPerSec, 1), fmt(open.reqPerSec, 1), ratio(open.reqPerSec, quiet.reqPerSec)],
  ['HTTP answers from the gateway to the flows, KiB/s', fmt(quiet.kibPerSec), fmt(open.kibPerSec), ratio(open.kibPerSec, quiet.kibPerSec)],
]));
if (quiet.failed || open.failed) console.log(`\n${quiet.failed + open.failed} requests answered with an error status (see the table below)`);
console.log(`\nthe Household page alone: ${fmt(householdPerSec, 2)} requests/s (${fmt(1000 / Math.max(householdPerSec, 1e-9))} open household pages would ask ~1,000/s)`);
console.log(`${shown.length} of the watched meter's readings seen changing the widget (${skipped} superseded before a poll showed them); gateway RSS peak ${fmt(quiet.gwRss)} → ${fmt(open.gwRss)} MiB.`);
const routes = [...new Set([...quiet.routes.keys(), ...open.routes.keys()])].sort((a, b) => (open.routes.get(b)?.bytes ?? 0) - (open.routes.get(a)?.bytes ?? 0));
const cell = (c: RouteCount | undefined) => (c ? `${fmt(c.n, 2)} /s, ${fmt(c.bytes, 1)} KiB/s${c.failed ? `, ${c.failed} failed` : ''}` : '—');
console.log('\n' + table(['request', 'no browser', 'pages open'], routes.map((r) => [r, cell(quiet.routes.get(r)), cell(open.routes.get(r))])));
