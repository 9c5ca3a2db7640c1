/**
 * The gateway's market scheduler on a ManualClock (a real gateway: SQLite, Aedes,
 * MQTT meters): with no broadcast from Node-RED it opens the next listing once the
 * grace window has passed and closes it before delivery, logging and counting each
 * fallback; an operator command is honoured and a bad one refused and counted; a
 * standing sell order is placed with the surplus forecast; Settle waits for
 * readings covering the end of the period, or for the timeout; other prosumers'
 * export is deposited into storage; and the chain verifies.
 */
import test from 'ava';
import mqtt from 'mqtt';
import { ManualClock, topics } from '../../../protocol/index.ts';
import { Gateway } from '../../../gateway/gateway.ts';
import type { ListingEntry, OfferEntry, SettlementEntry } from '../../../gateway/ledger/entities.ts';
import { tokenTotals, verifyChain } from '../../../gateway/ledger/verify.ts';
import { createLogger } from '../../../gateway/log.ts';
import { listingIdOf } from '../../../gateway/market/period.ts';
import { http, newGridDir } from '../../helpers/gateway.ts';
import { MqttMeter } from '../../helpers/mqttMeter.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const HEC = 1_000_000;

test('fallback broadcasts, standing orders, settle on covering readings or the timeout, storage deposits — on a manual clock', async (t) => {
  // "12:00" is a whole hour ahead of real time, so signatures made now are never in the gateway's future.
  const B = Math.ceil(Date.now() / HOUR) * HOUR + 2 * HOUR;
  const at = (h: number, m = 0, s = 0) => B + (h - 12) * HOUR + m * MIN + s * 1000;
  const clock = new ManualClock(at(12, 1));
  const grid = newGridDir({
    blockPeriodMs: 5000,
    households: [
      { name: 'Zarak', email: 'zarak@example.org', role: 'prosumer', allocationMicroHec: 10 * HEC },
      { name: 'Asad', email: 'asad@example.org', role: 'consumer', allocationMicroHec: 10 * HEC },
      { name: 'Bilal', email: 'bilal@example.org', role: 'prosumer', allocationMicroHec: 10 * HEC },
    ],
    t: at(11, 0),
  });
  const [zarak, asad, bilal] = grid.households;
  const G = grid.genesis.grid;
  const lines: string[] = [];
  const log = createLogger({ level: 'info', pretty: false, write: (l) => lines.push(l) });
  const gw = await Gateway.start({ dataDir: grid.dir, clock, httpPort: 0, mqttPort: 0, mqttTlsPort: null, mqttWsPort: null, log });
  const LA = listingIdOf(at(13));
  const LB = listingIdOf(at(14));
  const listing = (id: string) => gw.ledger.state.get<ListingEntry>(`listing/${id}`);
  const logged = (msg: string) => lines.filter((l) => l.includes(msg));
  const metric = async (name: string, label: string) => {
    const text = await (await fetch(gw.httpUrl + '/metrics')).text();
    return Number(new RegExp(`^${name}\\{${label}\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  };
  // Time passes in block-sized steps, so blocks and scheduler steps interleave as they would.
  const advanceTo = async (target: number) => {
    while (clock.now() < target) {
      clock.advance(Math.min(5000, target - clock.now()));
      await new Promise((r) => setImmediate(r));
    }
  };
  const submit = async (h: typeof zarak, fields: Parameters<typeof grid.tx>[1]) => {
    const r = await http<{ id: string; status: string; code?: string }>(gw.httpUrl + '/api/tx', 'POST', grid.tx(h, fields, clock.now()));
    t.is(r.status, 202, JSON.stringify(r.body));
    await advanceTo(clock.now() + 5000);
    t.is(gw.ledger.status(r.body.id).status, 'committed');
    return r.body.id;
  };
  const meters = { zarak: new MqttMeter(G, 9401), asad: new MqttMeter(G, 9402), bilal: new MqttMeter(G, 9403) };
  const operator = await mqtt.connectAsync(gw.mqttUrl!, { username: 'operator', password: grid.operatorSecret, clientId: 'node-red', reconnectPeriod: 0 });
  /** A reading stored by the gateway (acknowledged), committed by the next block. */
  const read = async (m: MqttMeter, tMs: number, exportMWh: number) => {
    await m.publishReading(m.reading({ exportMWh }, tMs));
    await m.waitFor(() => m.lastAck() === m.seq, `ack ${m.seq}`);
  };
  try {
    for (const [m, owner] of [[meters.zarak, zarak], [meters.asad, asad], [meters.bilal, bilal]] as const) {
      gw.authority.submit({ type: 'EnrollMeter', meter: m.id, publicKey: m.key.publicKey, participant: owner.email, installer: 'Ines', location: owner.name, pulsesPerKWh: 1000, relay: true });
    }
    gw.authority.submit({ type: 'Mint', to: 'storage', amountMicroHec: HEC });
    await advanceTo(at(12, 1, 10));
    for (const m of Object.values(meters)) await m.connect(gw.mqttUrl!);

    // Zarak's meter: 0.7 kWh exported (and 100 mWh imported) in 11:00–12:00 — the forecast for his standing order.
    await read(meters.zarak, at(10, 59), 0);
    await read(meters.zarak, at(11, 59), 700_000);
    const order = await submit(zarak, { type: 'StandingOrder', side: 'sell', meter: meters.zarak.id, energyMWh: 1_000_000, priceMicroHecPerKWh: 100_000 });

    // A bad operator command is refused and counted; nothing opens before the grace window (12:03).
    await operator.publishAsync(topics.operator(G, 'broadcast'), '{"listing": "13:00 please"}');
    await new Promise((r) => setTimeout(r, 200));
    t.is(await metric('helios_market_operator_commands_refused_total', 'code="E_BAD_FORMAT"'), 1);
    await advanceTo(at(12, 2, 55));
    t.is(listing(LA), undefined, 'the operator still has time to broadcast');
    await advanceTo(at(12, 3, 10));
    t.like(listing(LA), { state: 'ACCEPT_OFFERS' });
    t.is(logged('AcceptOfferBroadcast did not come from the operator').length, 1);
    t.is(await metric('helios_market_fallback_broadcasts_total', 'tx="AcceptOfferBroadcast"'), 1);
    // Who sent it is on the listing record (signed with the transaction) and in /metrics.
    t.is(listing(LA)!.openedBy, 'fallback');
    t.is(await metric('helios_market_broadcasts_total', 'tx="AcceptOfferBroadcast",by="fallback"'), 1);

    // The standing order's offer: net export of the last complete period, 700 000 − 100 mWh, within the order's 1 kWh.
    await advanceTo(at(12, 3, 30));
    const book = await http<{ offersPosted: Array<{ order?: string; energyMWh: number; priceMicroHecPerKWh: number; owner: string }> }>(gw.httpUrl + `/api/market/listings/${LA}`);
    t.deepEqual(book.body.offersPosted.map((o) => [o.order, o.owner, o.energyMWh, o.priceMicroHecPerKWh]), [[order, zarak.email, 699_900, 100_000]]);
    await submit(asad, { type: 'BuyOffer', listing: LA, meter: meters.asad.id, energyMWh: 500_000, bidPriceMicroHecPerKWh: 300_000 });

    // Node-RED is silent at 12:59 too: the gateway closes at 12:59:30, before delivery.
    await advanceTo(at(12, 59, 25));
    t.is(listing(LA)!.state, 'ACCEPT_OFFERS');
    await advanceTo(at(12, 59, 45));
    t.like(listing(LA), { state: 'AUCTION_CLOSED', trades: 1, tradedMWh: 500_000 });
    t.true(listing(LA)!.closed!.t < at(13));
    t.is(await metric('helios_market_fallback_broadcasts_total', 'tx="CloseBidding"'), 1);
    t.is(listing(LA)!.closedBy, 'fallback');

    // Delivery 13:00–14:00: Zarak exports 0.3 kWh of the 0.5 he sold; Bilal, who offered nothing, exports 0.2 kWh.
    await read(meters.zarak, at(12, 59, 50), 700_000);
    await read(meters.asad, at(12, 59, 50), 0);
    await read(meters.bilal, at(12, 59, 50), 0);
    // The 14:00 listing opened at 13:03. Zarak's order saw no net export in 12:00–13:00, so it offers nothing there;
    // Bilal offers a little and Asad bids for it.
    await advanceTo(at(13, 5));
    t.like(listing(LB), { state: 'ACCEPT_OFFERS' });
    t.is(gw.ledger.state.get(`placed/${order}/${LB}`), undefined, 'no surplus, no offer');
    const sell = await submit(bilal, { type: 'PVOffer', listing: LB, meter: meters.bilal.id, energyMWh: 100_000 });
    await submit(asad, { type: 'BuyOffer', listing: LB, meter: meters.asad.id, energyMWh: 100_000, bidPriceMicroHecPerKWh: 200_000 });
    t.like(gw.ledger.state.get<OfferEntry>(`offer/${sell}`), { status: 'open' });
    await advanceTo(at(13, 59, 50));
    t.like(listing(LB), { state: 'AUCTION_CLOSED', trades: 1 });
    await read(meters.zarak, at(13, 59, 50), 1_000_000);
    await read(meters.asad, at(13, 59, 50), 0);
    await read(meters.bilal, at(13, 59, 50), 200_000);
    await advanceTo(at(14, 0, 30));
    t.is(listing(LA)!.state, 'AUCTION_CLOSED', 'no reading covers 14:00 yet: Settle waits');
    await read(meters.zarak, at(14, 0, 40), 1_000_000);
    await advanceTo(at(14, 1));
    t.is(listing(LA)!.state, 'AUCTION_CLOSED', 'Asad\'s meter has not reported past 14:00 yet');
    await read(meters.asad, at(14, 1, 5), 0);
    await advanceTo(at(14, 1, 30));
    t.is(listing(LA)!.state, 'SETTLED', 'every meter covered: settled at once, well before the 14:15 deadline');
    const s = gw.ledger.state.get<SettlementEntry>(`settlement/${LA}`)!;
    // pay-as-clear priced LA at Zarak's reserve, 0.10 (his unsold energy at 0.10 makes it the clearing price): Asad pays for the 0.3 kWh delivered.
    const paidLA = s.totals.paidToSellersMicroHec;
    t.is(paidLA, 30_000);
    t.deepEqual(s.metered, [
      { meter: meters.asad.id, importMWh: 100, exportMWh: 0 },
      { meter: meters.zarak.id, importMWh: 100, exportMWh: 300_000 },
    ].sort((a, b) => (a.meter < b.meter ? -1 : 1)));

    // Bilal's 0.2 kWh goes into storage at 14:15 (P/4 after the period), paid at 0.08 HEC/kWh from the storage fund.
    await advanceTo(at(14, 14, 50));
    t.is(gw.ledger.state.get(`deposit/${LA}/${meters.bilal.id}`), undefined);
    await advanceTo(at(14, 15, 30));
    t.like(gw.ledger.state.get(`deposit/${LA}/${meters.bilal.id}`), { energyMWh: 200_000, amountMicroHec: 16_000 });
    t.is((await http<{ balanceMicroHec: number }>(gw.httpUrl + `/api/participants/${bilal.email}`, 'GET', undefined, { authorization: `Bearer ${grid.operatorSecret}` })).body.balanceMicroHec, 10 * HEC + 16_000);
    // …as Zarak's 0.7 kWh of 11:00–12:00 went in at 12:15 (he offered nothing for that period); his LA surplus was none.
    t.like(gw.ledger.state.get(`deposit/${listingIdOf(at(11))}/${meters.zarak.id}`), { energyMWh: 700_000, amountMicroHec: 56_000 });
    t.is(s.storage.depositedMWh, 0);
    t.like((await http(gw.httpUrl + '/api/storage')).body, { storedMWh: 900_000, availableMWh: 900_000, fundMicroHec: HEC - 56_000 - 16_000 });

    // 14:00–15:00: Bilal's and Asad's meters go quiet, so no reading covers 15:00.
    await advanceTo(at(15, 14, 50));
    t.is(listing(LB)!.state, 'AUCTION_CLOSED', 'no covering readings: Settle waits until 15:15');
    await advanceTo(at(15, 15, 30));
    t.is(listing(LB)!.state, 'SETTLED');
    t.is(logged('settling without readings covering the end of the period').length, 1);
    // With what there was: no reading of Bilal's inside 14:00–15:00, so nothing delivered, and Asad's escrow all back —
    // half at close (pay-as-clear priced the trade at 0.10 against his 0.20 bid), the rest now.
    const sb = gw.ledger.state.get<SettlementEntry>(`settlement/${LB}`)!;
    t.like(sb.totals, { deliveredMWh: 0, paidToSellersMicroHec: 0, escrowMicroHec: 10_000, refundedMicroHec: 10_000 });
    t.is((await http<{ balanceMicroHec: number }>(gw.httpUrl + `/api/participants/${asad.email}`, 'GET', undefined, { authorization: `Bearer ${grid.operatorSecret}` })).body.balanceMicroHec, 10 * HEC - paidLA);
    t.is((await http<{ escrowMicroHec: number }>(gw.httpUrl + `/api/participants/${asad.email}`, 'GET', undefined, { authorization: `Bearer ${grid.operatorSecret}` })).body.escrowMicroHec, 0);

    const tokens = tokenTotals(gw.ledger.state);
    t.is(tokens.heldMicroHec, tokens.mintedMicroHec);
    const report = await verifyChain(gw.ledger.store, grid.genesis);
    t.true(report.ok, JSON.stringify(report.fault));
  } finally {
    await operator.endAsync();
    for (const m of Object.values(meters)) await m.close();
    await gw.stop();
  }
});

test('the gateway closes bidding at its fallback deadline, not a scheduler step later: the close is in a block a block period before delivery', async (t) => {
  // A 7 s block period does not divide the minute, so the deadline (12:59:30) falls between slots; the
  // gateway starts so that its every-block-period step would come 6.9 s after the deadline.
  const BP = 7000;
  let B = Math.ceil(Date.now() / HOUR) * HOUR + 2 * HOUR;
  while ((B + HOUR - 30_000) % BP === 0) B += HOUR;
  const at = (h: number, m = 0, s = 0) => B + (h - 12) * HOUR + m * MIN + s * 1000;
  const deadline = at(12, 59, 30);
  let start = at(12, 1);
  start += (((deadline + BP - 100 - start) % BP) + BP) % BP;
  const clock = new ManualClock(start);
  const grid = newGridDir({ blockPeriodMs: BP, t: at(11, 0) });
  const log = createLogger({ level: 'error', pretty: false, write: () => undefined });
  const gw = await Gateway.start({ dataDir: grid.dir, clock, httpPort: 0, mqttPort: 0, mqttTlsPort: null, mqttWsPort: null, log });
  try {
    while (clock.now() < at(13)) {
      clock.advance(Math.min(1000, at(13) - clock.now()));
      await new Promise((r) => setImmediate(r));
    }
    const l = gw.ledger.state.get<ListingEntry>(`listing/${listingIdOf(at(13))}`)!;
    t.is(l.closedBy, 'fallback');
    t.true(l.closed!.t <= deadline + BP, `closed in the block at ${new Date(l.closed!.t).toISOString()}; deadline ${new Date(deadline).toISOString()}`);
  } finally {
    await gw.stop();
  }
});
