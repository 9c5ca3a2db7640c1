/**
 * A full delivery hour on the demo clock (×300), end to end: the operator's
 * broadcast over MQTT (as Node-RED sends it), offers and bids over HTTP — one bid
 * placed by the gateway for a standing order — CloseBidding, credit tokens to the
 * buyers' meters, an hour of metered delivery by real node meters with one seller
 * (Zarak) delivering only half of what he sold, and Settle from the committed
 * readings. Every figure is checked against docs/market.md's rules, the MQTT
 * broadcasts against docs/protocol.md §7, and `verifyChain` replays it all.
 */
import test from 'ava';
import mqtt from 'mqtt';
import { parseJson, paymentMicroHec, scaledClock, systemClock, topics, type ListingMessage, type StorageMessage, type TradesMessage } from '../../../protocol/index.ts';
import { createNodeMeter, ProfileEnergySource, type NodeMeter } from '../../../firmware/platform/node/index.ts';
import { waitForTx } from '../../../gateway/api/routes/ledger.ts';
import { txId } from '../../../gateway/ledger/block.ts';
import { Gateway } from '../../../gateway/gateway.ts';
import { tokenTotals, verifyChain } from '../../../gateway/ledger/verify.ts';
import { silentLogger } from '../../../gateway/log.ts';
import { listingIdOf } from '../../../gateway/market/period.ts';
import { http, newGridDir } from '../../helpers/gateway.ts';
import { testEntropy } from '../../helpers/grid.ts';

const HOUR = 3_600_000;
const MIN = 60_000;
const KWH = 1_000_000;
const HEC = 1_000_000;

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('an hour: broadcast, offers, close, credit tokens, metered delivery with one seller short, settlement with the right refunds', async (t) => {
  // Delivery S…E is a whole hour; the demo clock starts 45 simulated minutes before it (never behind real time),
  // which leaves 9 real seconds to enrol the meters and post the book before delivery begins.
  const S = Math.ceil((Date.now() + 2 * HOUR) / HOUR) * HOUR;
  const E = S + HOUR;
  const L = listingIdOf(S);
  const clock = scaledClock(systemClock(), 300, S - 45 * MIN);
  const grid = newGridDir({
    blockPeriodMs: 5000,
    marketPeriodMs: HOUR,
    clearing: 'pay-as-bid',
    households: [
      { name: 'Bilal', email: 'bilal@example.org', role: 'prosumer', allocationMicroHec: 10 * HEC },
      { name: 'Zarak', email: 'zarak@example.org', role: 'prosumer', allocationMicroHec: 10 * HEC },
      { name: 'Asad', email: 'asad@example.org', role: 'consumer', allocationMicroHec: 10 * HEC },
      { name: 'Dana', email: 'dana@example.org', role: 'consumer', allocationMicroHec: 10 * HEC },
    ],
    t: S - 46 * MIN,
  });
  const [bilal, zarak, asad, dana] = grid.households;
  const G = grid.genesis.grid;
  // Node-RED's part is played by this test over MQTT, so the gateway's own fallback stays out of the way (tested on its own).
  const gw = await Gateway.start({ dataDir: grid.dir, clock, httpPort: 0, mqttPort: 0, mqttTlsPort: null, mqttWsPort: null, log: silentLogger, marketFallback: false });
  const meters: NodeMeter[] = [];
  const operator = await mqtt.connectAsync(gw.mqttUrl!, { username: 'operator', password: grid.operatorSecret, clientId: 'node-red', reconnectPeriod: 0 });
  const listings: ListingMessage[] = [];
  const trades: TradesMessage[] = [];
  const storage: StorageMessage[] = [];
  operator.on('message', (topic, payload) => {
    const m = parseJson(payload.toString()) as { type: string };
    if (m.type === 'Listing') listings.push(m as ListingMessage);
    if (m.type === 'Trades') trades.push(m as TradesMessage);
    if (m.type === 'Storage') storage.push(m as StorageMessage);
  });
  await operator.subscribeAsync([`helios/${G}/market/#`, topics.storage(G)]);
  // The operator secret's first check is a scrypt (tens of ms on the main thread): do it now, not while the
  // ×300 clock runs through the settlement this test reads (later checks of the same secret are remembered).
  await http(gw.httpUrl + '/api/participants', 'GET', undefined, { authorization: `Bearer ${grid.operatorSecret}` });
  const send = async (h: typeof bilal, fields: Parameters<typeof grid.tx>[1]) => {
    const tx = grid.tx(h, fields, clock.now());
    const r = await http<{ status: string; code?: string; message?: string }>(gw.httpUrl + '/api/tx?wait=commit', 'POST', tx);
    t.is(r.body.status, 'committed', `${fields.type} by ${h.name}: ${JSON.stringify(r.body)}`);
    return txId(tx);
  };
  try {
    // The storage is funded (Mint to "storage") so it can buy Bilal's surplus at 0.08 HEC/kWh.
    const fund = await http<{ status: string }>(gw.httpUrl + '/api/authority/tx?wait=commit', 'POST', { type: 'Mint', to: 'storage', amountMicroHec: 10 * HEC }, { authorization: `Bearer ${grid.operatorSecret}` });
    t.is(fund.body.status, 'committed');

    // Four houses with real meters. The sellers' PV runs during the delivery hour only; the buyers' loads run always, but only a closed relay supplies them.
    const config = { readingPeriodMs: 60_000, connectTimeoutMs: 600_000, backoff: { baseMs: 1000, capMs: 10_000, stableMs: 60_000 } };
    const pv = (w: number) => new ProfileEnergySource({ power: (x) => (x >= S && x < E ? -w : 0), stepMs: MIN, startMs: clock.now() });
    const spec = [[bilal, { energy: pv(2000) }], [zarak, { energy: pv(500) }], [asad, { power: 1500 }], [dana, { power: 800 }]] as const;
    for (const [i, [owner, source]] of spec.entries()) {
      const m = createNodeMeter({ grid: G, brokerUrl: gw.mqttUrl!, clock, entropy: testEntropy(8100 + i), config, ...source });
      meters.push(m);
      m.start();
      await until(`Hello from ${owner.name}'s meter`, () => gw.metering.hellos().some((h) => h.meter === m.meter.meterId));
      const { id } = gw.authority.submit({ type: 'EnrollMeter', meter: m.meter.meterId, publicKey: m.meter.publicKey, participant: owner.email, installer: 'Ines', location: owner.name, pulsesPerKWh: 1000, relay: true });
      t.is((await waitForTx(gw.ledger, gw.clock, id, 60_000)).status, 'committed');
    }
    const [mB, mZ, mA, mD] = meters.map((m) => m.meter.meterId);
    await until('meters enrolled and online', () => meters.every((m) => m.meter.snapshot().enrolled && m.meter.sessionInfo().state === 'online'));

    // Asad signs once: "buy up to 1 kWh at up to 0.30 HEC/kWh" every period.
    const order = await send(asad, { type: 'StandingOrder', side: 'buy', meter: mA, energyMWh: KWH, priceMicroHecPerKWh: 300_000 });

    // Node-RED's broadcast opens the listing; the gateway places Asad's bid for his order.
    await operator.publishAsync(topics.operator(G, 'broadcast'), JSON.stringify({ listing: L }));
    await until('the listing is open', () => gw.ledger.state.get(`listing/${L}`) !== undefined);
    await until('the standing order\'s bid is placed', async () => {
      const d = await http<{ bidsPosted: Array<{ order?: string }> }>(gw.httpUrl + `/api/market/listings/${L}`);
      return d.body.bidsPosted.some((b) => b.order === order);
    });
    await send(bilal, { type: 'PVOffer', listing: L, meter: mB, energyMWh: KWH, reservePriceMicroHecPerKWh: 100_000 });
    await send(zarak, { type: 'PVOffer', listing: L, meter: mZ, energyMWh: KWH, reservePriceMicroHecPerKWh: 100_000 });
    await send(dana, { type: 'BuyOffer', listing: L, meter: mD, energyMWh: KWH, bidPriceMicroHecPerKWh: 250_000 });
    const current = await http<{ id: string; state: string; offers: number; bids: number }>(gw.httpUrl + '/api/market/listings/current');
    t.like(current.body, { id: L, state: 'ACCEPT_OFFERS', offers: 2, bids: 2 });
    t.is((await http<{ escrowMicroHec: number }>(gw.httpUrl + `/api/participants/${dana.email}`, 'GET', undefined, { authorization: `Bearer ${grid.operatorSecret}` })).body.escrowMicroHec, 250_000);

    // Node-RED's close, before delivery starts.
    await operator.publishAsync(topics.operator(G, 'close'), JSON.stringify({ listing: L }));
    await until('bidding closed', () => (gw.ledger.state.get<{ state: string }>(`listing/${L}`)?.state ?? '') === 'AUCTION_CLOSED');
    t.true(gw.ledger.tip.t < S, 'closed before the delivery hour');
    // pay-as-bid: offers by reserve (equal: Bilal posted first), bids high to low, each trade at the bid.
    await until('Trades broadcast', () => trades.length === 1);
    t.deepEqual(trades[0].trades.map((x) => [x.seller, x.buyer, x.energyMWh, x.priceMicroHecPerKWh, x.paymentMicroHec]), [
      [bilal.email, asad.email, KWH, 300_000, 300_000],
      [zarak.email, dana.email, KWH, 250_000, 250_000],
    ]);
    // Credit tokens for the hour, one per buyer meter.
    await until('credit tokens issued', () => [mA, mD].every((m) => gw.metering.creditsOf(m).some((c) => c.ref === L)));
    for (const m of [mA, mD]) t.like(gw.metering.creditsOf(m).find((c) => c.ref === L), { energyMWh: KWH, validFrom: S, validUntil: E });

    // The delivery hour. Once the Settle is in a block the market stops: on the ×300 clock a later
    // StorageDeposit (the hour's export committed after the Settle's readingsHeight) could otherwise
    // land between the reads below, which check the Settle's own figures.
    gw.ledger.on('block', (b) => {
      if (b.block.txs.some((x) => x.body.type === 'Settle' && (x.body as { listing: string }).listing === L)) gw.market.stop();
    });
    await until('settled', () => (gw.ledger.state.get<{ state: string }>(`listing/${L}`)?.state ?? '') === 'SETTLED', 90_000);
    const detail = (await http<{
      state: string; trades: unknown[]; settlement: {
        readingsHeight: number; metered: Array<{ meter: string; importMWh: number; exportMWh: number }>;
        trades: Array<{ seller: string; deliveredMWh: number; paidMicroHec: number }>; bids: Array<{ buyer: string; refundMicroHec: number; escrowMicroHec: number }>;
        sellers: Array<{ meter: string; storedMWh: number; storageCreditMicroHec: number; surplusMWh: number }>;
      };
    }>(gw.httpUrl + `/api/market/listings/${L}`)).body;
    t.is(detail.state, 'SETTLED');
    const s = detail.settlement;
    // The metered figures are what the gateway's readings say for 13:00–14:00 (any client can ask).
    for (const row of s.metered) {
      const e = await http<{ importMWh: number; exportMWh: number }>(gw.httpUrl + `/api/meters/${row.meter}/energy?from=${S}&to=${E}`, 'GET', undefined, { authorization: `Bearer ${grid.operatorSecret}` });
      t.deepEqual([row.importMWh, row.exportMWh], [e.body.importMWh, e.body.exportMWh], `meter ${row.meter}`);
    }
    const exported = (m: string) => s.metered.find((r) => r.meter === m)!.exportMWh;
    const xB = exported(mB);
    const xZ = exported(mZ);
    t.true(xB > KWH, `Bilal exported ${xB} mWh: more than he sold`);
    t.true(xZ > 0 && xZ < KWH, `Zarak exported ${xZ} mWh: less than the 1 kWh he sold`);

    // docs/market.md §4.1: delivered = min(export, sold); paid = floor(delivered × price); the buyer gets the rest of its escrow.
    const paidZ = paymentMicroHec(xZ, 250_000);
    t.like(s.trades.find((x) => x.seller === zarak.email), { deliveredMWh: xZ, paidMicroHec: paidZ });
    t.like(s.trades.find((x) => x.seller === bilal.email), { deliveredMWh: KWH, paidMicroHec: 300_000 });
    t.like(s.bids.find((b) => b.buyer === dana.email), { escrowMicroHec: 250_000, refundMicroHec: 250_000 - paidZ });
    t.like(s.bids.find((b) => b.buyer === asad.email), { escrowMicroHec: 300_000, refundMicroHec: 0 });
    // Rule 5: Bilal's surplus goes into storage (room and fund are ample) at the buy price.
    const credit = paymentMicroHec(xB - KWH, 80_000);
    t.like(s.sellers.find((x) => x.meter === mB), { surplusMWh: xB - KWH, storedMWh: xB - KWH, storageCreditMicroHec: credit });

    const balance = async (email: string) => (await http<{ balanceMicroHec: number; escrowMicroHec: number }>(gw.httpUrl + `/api/participants/${email}`, 'GET', undefined, { authorization: `Bearer ${grid.operatorSecret}` })).body;
    t.like(await balance(bilal.email), { balanceMicroHec: 10 * HEC + 300_000 + credit, escrowMicroHec: 0 });
    t.is((await balance(zarak.email)).balanceMicroHec, 10 * HEC + paidZ);
    t.is((await balance(asad.email)).balanceMicroHec, 10 * HEC - 300_000);
    t.deepEqual([(await balance(dana.email)).balanceMicroHec, (await balance(dana.email)).escrowMicroHec], [10 * HEC - paidZ, 0]);
    const st = await http<{ storedMWh: number; fundMicroHec: number }>(gw.httpUrl + '/api/storage');
    t.like(st.body, { storedMWh: xB - KWH, fundMicroHec: 10 * HEC - credit });
    const tokens = tokenTotals(gw.ledger.state);
    t.is(tokens.heldMicroHec, tokens.mintedMicroHec, 'tokens conserved');

    // The buyers' relays closed with the hour's credit: from the start of the hour, not before.
    const closedAt = (m: NodeMeter) => m.relay.history.find((h) => h.closed)?.t ?? Number.NaN;
    t.true(closedAt(meters[2]) >= S && closedAt(meters[3]) >= S, 'relays closed only once the delivery hour began');
    const relay = (m: NodeMeter) => m.relay.history.slice(1).map((h) => [h.closed, h.t]);
    const [asadRelay, danaRelay] = [relay(meters[2]), relay(meters[3])];
    t.is(asadRelay.length, 2, 'Asad: closed, then open');
    t.true((asadRelay[1][1] as number) < E, 'Asad\'s 1 kWh ran out within the hour (1.5 kW)');
    t.true((danaRelay[1][1] as number) >= E, 'Dana\'s lasted the hour (0.8 kW); the window closed it');

    // MQTT: the retained Listing followed the listing through every state; the Storage broadcast shows what was deposited.
    const seen = [...new Set(listings.filter((m) => m.id === L).map((m) => m.state))];
    t.deepEqual(seen, ['ACCEPT_OFFERS', 'AUCTION_CLOSED', 'DELIVERING', 'SETTLED']);
    await until('Storage broadcast', () => storage.some((m) => m.storedMWh === xB - KWH));

    // Replaying the chain gives the same state, and the Settle's figures match the committed readings.
    const report = await verifyChain(gw.ledger.store, grid.genesis);
    t.true(report.ok, JSON.stringify(report.fault));
  } finally {
    await operator.endAsync();
    for (const m of meters) m.stop();
    await gw.stop();
  }
});
