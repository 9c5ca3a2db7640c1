/**
 * The market over HTTP on a real gateway (real SQLite, real HTTP): the read API
 * (current listing with its book, a listing by id, history, storage), and bad
 * market input — offers on an unknown or closed listing, bids beyond the balance,
 * zero, negative and fractional quantities, prices over the cap, a consumer posting
 * a PVOffer, CloseBidding from a household, a late cancel — each refused with its
 * code and HTTP status, counted, and leaving the chain exactly as it was.
 */
import test from 'ava';
import { generateKeyPair, scaledClock, systemClock, type SignedTx } from '../../../protocol/index.ts';
import { txId } from '../../../gateway/ledger/block.ts';
import { Gateway } from '../../../gateway/gateway.ts';
import { silentLogger } from '../../../gateway/log.ts';
import { listingIdOf } from '../../../gateway/market/period.ts';
import { http, newGridDir } from '../../helpers/gateway.ts';
import { waitForTx } from '../../../gateway/api/routes/ledger.ts';
import { testEntropy } from '../../helpers/grid.ts';

const HOUR = 3_600_000;
const KWH = 1_000_000;
const HEC = 1_000_000;

// The gateway's clock runs at real speed from ten past a coming hour, so nothing is due while the tests run.
const start = Math.ceil(Date.now() / HOUR) * HOUR + HOUR + 10 * 60_000;
const clock = scaledClock(systemClock(), 1, start);
const grid = newGridDir({ blockPeriodMs: 100, t: start - 60_000 });
const [zarak, asad] = grid.households; // prosumer 100 HEC, consumer 50 HEC
const gw = await Gateway.start({ dataDir: grid.dir, clock, httpPort: 0, mqttPort: null, mqttTlsPort: null, mqttWsPort: null, log: silentLogger });
test.after.always(() => gw.stop());

const OPEN = listingIdOf(start - 10 * 60_000 + HOUR); // the next period: the gateway opens it at once
const CLOSED = listingIdOf(start - 10 * 60_000 + 2 * HOUR);
const UNKNOWN = listingIdOf(start - 10 * 60_000 + 5 * HOUR);
let meterZ = '';
let meterA = '';
let lateBid: SignedTx;

async function authority(fields: Parameters<typeof gw.authority.submit>[0]): Promise<void> {
  const { id } = gw.authority.submit(fields);
  const s = await waitForTx(gw.ledger, gw.clock, id, 10_000);
  if (s.status !== 'committed') throw new Error(`${fields.type} not committed: ${JSON.stringify(s)}`);
}

const sign = (h: typeof zarak, fields: Parameters<typeof grid.tx>[1]) => grid.tx(h, fields, clock.now());

test.before(async () => {
  const [mz, ma] = [generateKeyPair(testEntropy(6001)), generateKeyPair(testEntropy(6002))];
  meterZ = mz.keyId;
  meterA = ma.keyId;
  await authority({ type: 'EnrollMeter', meter: mz.keyId, publicKey: mz.publicKey, participant: zarak.email, installer: 'Ines', location: 'roof', pulsesPerKWh: 1000, relay: true });
  await authority({ type: 'EnrollMeter', meter: ma.keyId, publicKey: ma.publicKey, participant: asad.email, installer: 'Ines', location: 'flat', pulsesPerKWh: 1000, relay: true });
  if (!gw.ledger.state.get(`listing/${OPEN}`)) throw new Error(`the gateway did not open ${OPEN}`);
  // A second listing with a bid on it, closed.
  await authority({ type: 'AcceptOfferBroadcast', listing: CLOSED });
  lateBid = sign(asad, { type: 'BuyOffer', listing: CLOSED, meter: meterA, energyMWh: KWH, bidPriceMicroHecPerKWh: 250_000 });
  const r = await http<{ status: string }>(gw.httpUrl + '/api/tx?wait=commit', 'POST', lateBid);
  if (r.body.status !== 'committed') throw new Error(JSON.stringify(r.body));
  await authority({ type: 'CloseBidding', listing: CLOSED });
});

test.serial('the read API: current listing with its book (or its summary), a listing by id, history, storage', async (t) => {
  const offer = sign(zarak, { type: 'PVOffer', listing: OPEN, meter: meterZ, energyMWh: 466, reservePriceMicroHecPerKWh: 9_463_722_398 });
  t.is((await http<{ status: string }>(gw.httpUrl + '/api/tx?wait=commit', 'POST', offer)).body.status, 'committed');
  const cur = await http<{ id: string; state: string; offers: number; offeredMWh: number; offersPosted: Array<{ id: string; owner: string; energyMWh: number; seq: number; status: string }> }>(gw.httpUrl + '/api/market/listings/current');
  t.is(cur.status, 200);
  t.like(cur.body, { id: OPEN, state: 'ACCEPT_OFFERS', offers: 1, offeredMWh: 466 });
  t.like(cur.body.offersPosted[0], { id: txId(offer), owner: zarak.email, energyMWh: 466, status: 'open' });
  const summary = await http<Record<string, unknown>>(gw.httpUrl + '/api/market/listings/current?view=summary');
  t.like(summary.body, { id: OPEN, state: 'ACCEPT_OFFERS', offers: 1, offeredMWh: 466 });
  t.false('offersPosted' in summary.body, 'the summary leaves the book out');
  t.is((await http<{ code: string }>(gw.httpUrl + '/api/market/listings/current?view=everything')).status, 400);
  const closed = await http<{ state: string; trades: unknown[]; bidsPosted: Array<{ escrowMicroHec: number }> }>(gw.httpUrl + `/api/market/listings/${CLOSED}`);
  t.like(closed.body, { state: 'AUCTION_CLOSED', trades: [] });
  t.is(closed.body.bidsPosted[0].escrowMicroHec, 0, 'nobody sold: the bid\'s escrow came back at close');
  const hist = await http<Array<{ id: string; mine?: { offers: unknown[] } }>>(gw.httpUrl + `/api/market/history?participant=${asad.email}`, 'GET', undefined, { authorization: `Bearer ${grid.operatorSecret}` });
  t.deepEqual(hist.body.map((l) => l.id), [CLOSED], 'Asad took part in one listing');
  const all = await http<Array<{ id: string }>>(gw.httpUrl + '/api/market/history');
  t.deepEqual(all.body.map((l) => l.id), [CLOSED, OPEN], 'newest first');
  const st = await http<{ capacityMWh: number; storedMWh: number; availableMWh: number; sellPriceMicroHecPerKWh: number }>(gw.httpUrl + '/api/storage');
  t.like(st.body, { capacityMWh: grid.genesis.storage.capacityMWh, storedMWh: 0, availableMWh: 0, sellPriceMicroHecPerKWh: grid.genesis.storage.sellPriceMicroHecPerKWh });
  t.deepEqual((await http<{ code: string }>(gw.httpUrl + `/api/market/listings/${UNKNOWN}`)).body.code, 'E_UNKNOWN_LISTING');
  t.is((await http(gw.httpUrl + '/api/market/listings/tomorrow')).status, 400);
});

interface Snapshot { height: number; root: string; people: string }
async function snapshot(): Promise<Snapshot> {
  const head = await http<{ height: number }>(gw.httpUrl + '/api/chain/head');
  const people = await http<unknown[]>(gw.httpUrl + '/api/participants', 'GET', undefined, { authorization: `Bearer ${grid.operatorSecret}` });
  return { height: head.body.height, root: gw.ledger.state.root(), people: JSON.stringify(people.body) };
}

async function rejectedCount(code: string): Promise<number> {
  const text = await (await fetch(gw.httpUrl + '/metrics')).text();
  return Number(new RegExp(`^helios_txs_rejected_total\\{code="${code}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
}

/** [name, signed transaction (or raw body), status, code, whether the ledger saw it (schema-valid)]. */
const cases: Array<[string, () => { tx?: SignedTx; raw?: string }, number, string, boolean]> = [
  ['an offer on an unknown listing', () => ({ tx: sign(zarak, { type: 'PVOffer', listing: UNKNOWN, meter: meterZ, energyMWh: KWH }) }), 404, 'E_UNKNOWN_LISTING', true],
  ['an offer on a closed listing', () => ({ tx: sign(zarak, { type: 'PVOffer', listing: CLOSED, meter: meterZ, energyMWh: KWH }) }), 409, 'E_LISTING_CLOSED', true],
  ['a bid on a closed listing', () => ({ tx: sign(asad, { type: 'BuyOffer', listing: CLOSED, meter: meterA, energyMWh: KWH, bidPriceMicroHecPerKWh: 1 }) }), 409, 'E_LISTING_CLOSED', true],
  ['a bid beyond the balance', () => ({ tx: sign(asad, { type: 'BuyOffer', listing: OPEN, meter: meterA, energyMWh: 200 * KWH, bidPriceMicroHecPerKWh: 300_000 }) }), 402, 'E_INSUFFICIENT_BALANCE', true],
  ['a zero quantity', () => ({ tx: sign(asad, { type: 'BuyOffer', listing: OPEN, meter: meterA, energyMWh: 0, bidPriceMicroHecPerKWh: 300_000 }) }), 400, 'E_OUT_OF_RANGE', false],
  ['a negative quantity', () => ({ tx: sign(zarak, { type: 'PVOffer', listing: OPEN, meter: meterZ, energyMWh: -5 }) }), 400, 'E_OUT_OF_RANGE', false],
  ['a fractional quantity', () => {
    const tx = sign(zarak, { type: 'PVOffer', listing: OPEN, meter: meterZ, energyMWh: 1000 });
    return { raw: JSON.stringify(tx).replace('"energyMWh":1000', '"energyMWh":1000.5') };
  }, 400, 'E_NOT_INTEGER', false],
  ['a reserve price over the cap', () => ({ tx: sign(zarak, { type: 'PVOffer', listing: OPEN, meter: meterZ, energyMWh: KWH, reservePriceMicroHecPerKWh: grid.genesis.priceCapMicroHecPerKWh + 1 }) }), 400, 'E_PRICE_CAP', true],
  ['a bid price over the cap', () => ({ tx: sign(asad, { type: 'BuyOffer', listing: OPEN, meter: meterA, energyMWh: 1, bidPriceMicroHecPerKWh: grid.genesis.priceCapMicroHecPerKWh + 1 }) }), 400, 'E_PRICE_CAP', true],
  ['a consumer posting a PVOffer', () => ({ tx: sign(asad, { type: 'PVOffer', listing: OPEN, meter: meterA, energyMWh: KWH }) }), 403, 'E_WRONG_ROLE', true],
  ['a CloseBidding from a household', () => ({ tx: sign(zarak, { type: 'CloseBidding', listing: OPEN }) }), 403, 'E_NOT_AUTHORITY', true],
  ['an AcceptOfferBroadcast from a household', () => ({ tx: sign(asad, { type: 'AcceptOfferBroadcast', listing: UNKNOWN }) }), 403, 'E_NOT_AUTHORITY', true],
  ['a cancel after the auction ran', () => ({ tx: sign(asad, { type: 'CancelOffer', listing: CLOSED, offer: txId(lateBid) }) }), 409, 'E_OFFER_NOT_OPEN', true],
  ['someone else\'s meter', () => ({ tx: sign(asad, { type: 'BuyOffer', listing: OPEN, meter: meterZ, energyMWh: KWH, bidPriceMicroHecPerKWh: 1 }) }), 403, 'E_NOT_OWNER', true],
  ['buying stored energy the storage does not have', () => ({ tx: sign(asad, { type: 'StoragePurchase', meter: meterA, energyMWh: 1, maxPriceMicroHecPerKWh: HEC }) }), 409, 'E_STORAGE_EMPTY', true],
  ['a direct purchase from a consumer', () => ({ tx: sign(zarak, { type: 'DirectPurchase', seller: asad.email, meter: meterZ, energyMWh: 317, amountMicroHec: 3 * HEC, durationMs: 60_000 }) }), 403, 'E_WRONG_ROLE', true],
];

for (const [name, make, status, code, seen] of cases) {
  test.serial(`bad input — ${name}: ${status} ${code}, counted, chain unchanged`, async (t) => {
    const before = await snapshot();
    const counted = await rejectedCount(code);
    const { tx, raw } = make();
    const r = await http<{ code: string; message: string }>(gw.httpUrl + '/api/tx', 'POST', raw ?? tx);
    t.is(r.status, status, JSON.stringify(r.body));
    t.is(r.body.code, code);
    t.true(r.body.message.length > 20, 'the message says what is wrong and what to do');
    await new Promise((res) => setTimeout(res, 250)); // a couple of block periods
    t.deepEqual(await snapshot(), before);
    if (seen) {
      t.is(await rejectedCount(code), counted + 1, 'counted under its code');
      const s = await http<{ status: string; code: string }>(gw.httpUrl + `/api/tx/${txId(tx!)}`);
      t.deepEqual([s.body.status, s.body.code], ['rejected', code]);
    }
    // The signer's nonce was not used: hand it back.
    if (tx) for (const h of grid.households) if (h.key.keyId === tx.body.signer) h.nonce--;
    if (raw) for (const h of grid.households) if (raw.includes(h.key.keyId)) h.nonce--;
  });
}
