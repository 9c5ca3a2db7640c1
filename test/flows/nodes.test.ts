/**
 * The helios nodes in Node-RED's own test harness (node-red-node-test-helper),
 * against a real gateway (SQLite, Aedes, HTTP) on a ManualClock:
 *  - helios-broadcasts follows the grid's time from …/market/clock, not Node-RED's:
 *    it opens the next listing when its period begins and closes bidding at the
 *    listing's closesAt, both before the gateway's fallback would, and the listing
 *    records the flows as the sender (and /metrics counts them);
 *  - helios-api calls the gateway as the public, as the operator — refused for a
 *    page socket that did not prove it is the operator's — and passes a household's
 *    token as `Authorization: Helios …`, answering with msg._client kept;
 *  - the dashboard plugin sends operator messages to operator sockets only and
 *    never stores a message addressed to one socket.
 * Plus the schedule's pure rules (lib/marketClock.cjs).
 */
import test from 'ava';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { httpToken, ManualClock } from '../../protocol/index.ts';
import { Gateway } from '../../gateway/gateway.ts';
import type { ListingEntry } from '../../gateway/ledger/entities.ts';
import { createLogger } from '../../gateway/log.ts';
import { listingIdOf } from '../../gateway/market/period.ts';
import { newGridDir } from '../helpers/gateway.ts';

const require = createRequire(import.meta.url);
const helper = require('node-red-node-test-helper');
const heliosNodes = require('../../flows/nodes/helios.cjs');
const { MarketClock } = require('../../flows/nodes/lib/marketClock.cjs');
const { hooks } = require('../../flows/nodes/scope.cjs');
helper.init(require.resolve('node-red'));

const MIN = 60_000;
const HOUR = 60 * MIN;

test('MarketClock: opens the next period once, closes at closesAt once, ignores what the gateway already has', (t) => {
  const c = new MarketClock(HOUR);
  const B = Date.UTC(2026, 2, 21, 12);
  t.deepEqual(c.tick(B + 5_000), [{ command: 'broadcast', listing: '2026-03-21T13:00Z' }]);
  t.deepEqual(c.tick(B + 10_000), [], 'sent once');
  c.listing({ id: '2026-03-21T13:00Z', state: 'ACCEPT_OFFERS', closesAt: B + 59 * MIN });
  t.deepEqual(c.tick(B + 58 * MIN), []);
  t.deepEqual(c.tick(B + 59 * MIN), [{ command: 'close', listing: '2026-03-21T13:00Z' }]);
  t.deepEqual(c.tick(B + 59 * MIN + 5_000), []);
  // A listing the gateway already announced is not opened again (the fallback or another operator did).
  c.listing({ id: '2026-03-21T14:00Z', state: 'ACCEPT_OFFERS', closesAt: B + 119 * MIN });
  t.deepEqual(c.tick(B + HOUR + 1_000), []);
  t.throws(() => new MarketClock(90_000), { instanceOf: RangeError });
});

test.serial('helios-broadcasts opens and closes a listing on the grid\'s clock before the fallback; the listing records the flows', async (t) => {
  const B = Math.ceil(Date.now() / HOUR) * HOUR + 2 * HOUR;
  const at = (h: number, m = 0, s = 0) => B + (h - 12) * HOUR + m * MIN + s * 1000;
  const clock = new ManualClock(at(11, 59, 50));
  const grid = newGridDir({ blockPeriodMs: 5000, t: at(11) });
  const gw = await Gateway.start({ dataDir: grid.dir, clock, httpPort: 0, mqttPort: 0, mqttTlsPort: null, mqttWsPort: null, log: createLogger({ level: 'error' }) });
  await new Promise<void>((r) => helper.startServer(r));
  t.teardown(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(r));
    await gw.stop();
  });
  const flow = [
    { id: 'gw1', type: 'helios-gateway', grid: grid.genesis.grid, mqtt: gw.mqttUrl, api: gw.httpUrl, marketPeriodMs: String(HOUR) },
    { id: 'b1', type: 'helios-broadcasts', gateway: 'gw1', wires: [['out']] },
    { id: 'out', type: 'helper' },
  ];
  await helper.load(heliosNodes, flow, { gw1: { secret: grid.operatorSecret } });
  const sent: Array<{ tx: string; listing: string }> = [];
  helper.getNode('out').on('input', (msg: { payload: { tx: string; listing: string } }) => sent.push(msg.payload));
  const gwNode = helper.getNode('gw1');
  while (!gwNode.connected) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 100)); // its subscriptions are in

  const listing = (id: string) => gw.ledger.state.get<ListingEntry>(`listing/${id}`);
  const L = listingIdOf(at(13));
  // Grid time passes in block-sized steps; real time only as much as MQTT needs.
  const advanceTo = async (target: number, pauseMs = 15) => {
    while (clock.now() < target) {
      clock.advance(Math.min(5000, target - clock.now()));
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  };
  await advanceTo(at(12, 0, 30));
  t.like(listing(L), { state: 'ACCEPT_OFFERS', openedBy: 'flows' }, 'opened by the flows at 12:00, three minutes before the fallback would');
  await advanceTo(at(12, 58), 1); // nothing is due in between
  await advanceTo(at(12, 58, 55));
  t.is(listing(L)!.state, 'ACCEPT_OFFERS', 'not closed before 12:59 (grid time)');
  await advanceTo(at(12, 59, 20));
  t.like(listing(L), { state: 'AUCTION_CLOSED', closedBy: 'flows' }, 'closed by the flows at 12:59, before the fallback at 12:59:30');
  t.true(listing(L)!.closed!.t < at(12, 59, 30));
  t.deepEqual(sent.filter((s) => s.listing === L).map((s) => s.tx), ['AcceptOfferBroadcast', 'CloseBidding']);
  const metrics = await (await fetch(gw.httpUrl + '/metrics')).text();
  t.regex(metrics, /helios_market_broadcasts_total\{tx="AcceptOfferBroadcast",by="flows"\} [1-9]/);
  t.regex(metrics, /helios_market_broadcasts_total\{tx="CloseBidding",by="flows"\} 1/);
  // The one fallback close is the 12:00 listing's, due (11:59:30) before the flows were running.
  t.regex(metrics, /helios_market_broadcasts_total\{tx="CloseBidding",by="fallback"\} 1\n/);
});

test.serial('helios-api: public and operator calls; an operator call from a page socket that is not the operator\'s is refused; a household\'s token goes as its credential', async (t) => {
  const grid = newGridDir({ blockPeriodMs: 200 });
  const gw = await Gateway.start({ dataDir: grid.dir, httpPort: 0, mqttPort: 0, mqttTlsPort: null, mqttWsPort: null, log: createLogger({ level: 'error' }) });
  // In front of the gateway, a loopback server that records the Authorization header each call carries.
  const seen: Array<string | undefined> = [];
  const front = createServer((req, res) => {
    seen.push(req.headers.authorization);
    fetch(gw.httpUrl + req.url!, { headers: { ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) } })
      .then(async (r) => { res.writeHead(r.status, { 'content-type': 'application/json' }); res.end(await r.text()); });
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  const frontUrl = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  await new Promise<void>((r) => helper.startServer(r));
  t.teardown(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(r));
    front.close();
    await gw.stop();
  });
  const flow = [
    { id: 'gw1', type: 'helios-gateway', grid: grid.genesis.grid, mqtt: gw.mqttUrl, api: gw.httpUrl, marketPeriodMs: String(HOUR) },
    { id: 'pub', type: 'helios-api', gateway: 'gw1', method: 'GET', path: '/api/health', auth: 'public', wires: [['out']] },
    { id: 'op', type: 'helios-api', gateway: 'gw1', method: 'POST', path: '/api/authority/tx?wait=commit', auth: 'operator', wires: [['out']] },
    { id: 'gw2', type: 'helios-gateway', grid: grid.genesis.grid, mqtt: gw.mqttUrl, api: frontUrl, marketPeriodMs: String(HOUR) },
    { id: 'hh', type: 'helios-api', gateway: 'gw2', method: 'GET', path: '/api/participants/{email}', auth: 'household', wires: [['out']] },
    { id: 'out', type: 'helper' },
  ];
  await helper.load(heliosNodes, flow, { gw1: { secret: grid.operatorSecret }, gw2: { secret: grid.operatorSecret } });
  const next = () => new Promise<{ payload: Record<string, unknown>; _client?: { socketId: string } }>((r) => helper.getNode('out').once('input', r));

  let answer = next();
  helper.getNode('pub').receive({});
  t.like((await answer).payload, { ok: true, grid: grid.genesis.grid });

  // A page socket that has not proved it is the operator's: refused before the gateway sees anything.
  const mint = { type: 'Mint', to: grid.households[0].email, amountMicroHec: 5 };
  answer = next();
  helper.getNode('op').receive({ payload: mint, _client: { socketId: 's1', heliosRole: 'public' } });
  t.like((await answer).payload, { error: { code: 'E_NOT_AUTHORIZED' } });
  answer = next();
  helper.getNode('op').receive({ payload: mint, _dashboard: { sourceId: 'ui.op.households' } });
  t.like((await answer).payload, { error: { code: 'E_NOT_AUTHORIZED' } }, 'a page message that says nothing about its socket is refused too');
  answer = next();
  helper.getNode('op').receive({ payload: mint, _client: { socketId: 's2', heliosRole: 'operator' } });
  t.like((await answer).payload, { status: 'committed' });

  // The household's own signed token (as its browser wallet makes it): the gateway answers with its private record.
  const token = httpToken(grid.households[0].key, grid.genesis.grid, gw.clock.now(), 60_000);
  answer = next();
  helper.getNode('hh').receive({ params: { email: grid.households[0].email }, token, _client: { socketId: 's3', heliosRole: 'public' } });
  const got = await answer;
  t.is(got.payload.email, grid.households[0].email);
  t.is(got._client?.socketId, 's3', 'the answer goes back to the asking socket only');
  t.deepEqual(seen, [`Helios ${token}`], 'the household\'s own credential, never the operator\'s');
  t.false('token' in got && (got as { token?: string }).token !== undefined, 'the token is not passed on');
});

test('the dashboard plugin: operator messages to operator sockets only; messages for one socket are never stored for others', (t) => {
  const op = { request: { helios: { role: 'operator' } } };
  const anon = { request: { helios: { role: 'public' } } };
  t.true(hooks.onIsValidConnection(op, { heliosAudience: 'operator' }));
  t.false(hooks.onIsValidConnection(anon, { heliosAudience: 'operator' }));
  t.false(hooks.onIsValidConnection({}, { heliosAudience: 'operator' }));
  t.true(hooks.onIsValidConnection(anon, { payload: 1 }));
  t.false(hooks.onCanSaveInStore({ _client: { socketId: 'x' } }));
  t.false(hooks.onCanSaveInStore({ heliosAudience: 'operator' }));
  t.true(hooks.onCanSaveInStore({ payload: 1 }));
  t.like(hooks.onAddConnectionCredentials(anon, {}), { _client: { heliosRole: 'public' } });
});

test('the operator\'s views poll the gateway only while an operator page is open', async (t) => {
  const { EventEmitter } = await import('node:events');
  const session = require('../../flows/nodes/lib/session.cjs');
  const socket = (cookie?: string) => Object.assign(new EventEmitter(), { handshake: { headers: cookie ? { cookie } : {} } });
  const isOperator = (s: string) => s === 'the-secret';
  const before = session.live.operatorPages as number;
  const op = socket('helios_operator=the-secret');
  session.track(op, session.authenticateSocket(op, { isOperator }));
  const pub = socket();
  session.track(pub, session.authenticateSocket(pub, { isOperator }));
  t.is(session.live.operatorPages, before + 1, 'the operator page counts; a public one does not');
  op.emit('disconnect');
  pub.emit('disconnect');
  t.is(session.live.operatorPages, before, 'and stops counting when it closes');
  // The flow: the operator's timer reaches the gateway only through that count.
  const flows = JSON.parse((await import('node:fs')).readFileSync(new URL('../../flows/helios.json', import.meta.url), 'utf8')) as Array<{ id: string; type: string; wires?: string[][]; property?: string; propertyType?: string; rules?: unknown[] }>;
  const tick = flows.find((n) => n.id === 'op.meters.tick')!;
  const gate = flows.find((n) => n.id === tick.wires![0][0])!;
  t.deepEqual([tick.wires, gate.type, gate.propertyType, gate.property, gate.rules], [[['op.watched']], 'switch', 'global', 'helios.operatorPages', [{ t: 'gt', v: '0', vt: 'num' }]]);
  t.true(gate.wires![0].every((id) => flows.find((n) => n.id === id)?.type === 'helios-api'));
});
