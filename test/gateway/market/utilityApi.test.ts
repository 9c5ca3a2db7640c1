/**
 * The grid connection on a real on-grid gateway (real SQLite, real HTTP): GET
 * /api/utility, the price band refusing a bid above the import tariff (400, counted,
 * chain unchanged), SetTariff from a future period, and the allowance: a household
 * whose bid lost still gets a signed credit token for the period from its balance.
 */
import test from 'ava';
import { generateKeyPair, httpToken, scaledClock, systemClock } from '../../../protocol/index.ts';
import { Gateway } from '../../../gateway/gateway.ts';
import { silentLogger } from '../../../gateway/log.ts';
import { listingIdOf } from '../../../gateway/market/period.ts';
import { waitForTx } from '../../../gateway/api/routes/ledger.ts';
import { http, newGridDir } from '../../helpers/gateway.ts';
import { testEntropy } from '../../helpers/grid.ts';

const HOUR = 3_600_000;
const KWH = 1_000_000;

const start = Math.ceil(Date.now() / HOUR) * HOUR + HOUR + 10 * 60_000;
const clock = scaledClock(systemClock(), 1, start);
const grid = newGridDir({
  blockPeriodMs: 100, t: start - 60_000, seed: 77,
  utility: { mode: 'on-grid', tariff: { importMicroHecPerKWh: 300_000, feedInMicroHecPerKWh: 50_000 }, allowanceMWh: 10 * KWH },
});
const [zarak, asad] = grid.households;
const gw = await Gateway.start({ dataDir: grid.dir, clock, httpPort: 0, mqttPort: null, mqttTlsPort: null, mqttWsPort: null, log: silentLogger });
test.after.always(() => gw.stop());
const OPEN = listingIdOf(start - 10 * 60_000 + HOUR);
const LATER = listingIdOf(start - 10 * 60_000 + 3 * HOUR);
/** Asad's own signed credential: a household's meter and account are private to it (and the operator). */
const asadReads = (): Record<string, string> => ({ authorization: `Helios ${httpToken(asad.key, grid.genesis.grid, gw.clock.now(), 60_000)}` });

/** An authority transaction: committed, or refused when the mempool admits it (it throws, changing nothing). */
async function authority(fields: Parameters<typeof gw.authority.submit>[0]): Promise<{ status: string; code?: string }> {
  let id: string;
  try {
    ({ id } = gw.authority.submit(fields));
  } catch (e) {
    return { status: 'rejected', code: (e as { code?: string }).code };
  }
  return waitForTx(gw.ledger, gw.clock, id, 10_000);
}

test.serial('on-grid over HTTP: the utility\'s figures, a bid above the import tariff refused, SetTariff, and credit for a household whose bid lost', async (t) => {
  const u = await http<{ mode: string; allowanceMWh: number; current: { importMicroHecPerKWh: number; feedInMicroHecPerKWh: number }; account: { balanceMicroHec: number } }>(gw.httpUrl + '/api/utility');
  t.like(u.body, { mode: 'on-grid', allowanceMWh: 10 * KWH, current: { importMicroHecPerKWh: 300_000, feedInMicroHecPerKWh: 50_000 }, account: { balanceMicroHec: 0 } });

  const ma = generateKeyPair(testEntropy(7002));
  t.is((await authority({ type: 'EnrollMeter', meter: ma.keyId, publicKey: ma.publicKey, participant: asad.email, installer: 'Ines', location: 'flat', pulsesPerKWh: 1000, relay: true })).status, 'committed');
  t.truthy(gw.ledger.state.get(`listing/${OPEN}`), 'the gateway opened the next listing');

  const head = gw.ledger.tip.height;
  const tooHigh = await http<{ code: string; message: string }>(gw.httpUrl + '/api/tx?wait=commit', 'POST', grid.tx(asad, { type: 'BuyOffer', listing: OPEN, meter: ma.keyId, energyMWh: KWH, bidPriceMicroHecPerKWh: 300_001 }, clock.now()));
  t.is(tooHigh.status, 400);
  t.is(tooHigh.body.code, 'E_PRICE_CAP');
  t.regex(tooHigh.body.message, /import tariff/);
  const metrics = await fetch(gw.httpUrl + '/metrics').then((r) => r.text());
  t.regex(metrics, /helios_txs_rejected_total\{code="E_PRICE_CAP"\} [1-9]/);
  t.is(gw.ledger.tip.height, head, 'no block for a refused bid');
  asad.nonce--; // the refused bid did not use its nonce

  // A bid nobody sells to (no offers): it loses, as Kamran's did.
  const bid = await http<{ status: string }>(gw.httpUrl + '/api/tx?wait=commit', 'POST', grid.tx(asad, { type: 'BuyOffer', listing: OPEN, meter: ma.keyId, energyMWh: KWH, bidPriceMicroHecPerKWh: 100_000 }, clock.now()));
  t.is(bid.body.status, 'committed');

  t.is((await authority({ type: 'SetTariff', from: LATER, tariff: { importMicroHecPerKWh: 200_000, feedInMicroHecPerKWh: 40_000 } })).status, 'committed');
  const refused = await authority({ type: 'SetTariff', from: OPEN, tariff: { importMicroHecPerKWh: 1, feedInMicroHecPerKWh: 0 } });
  t.like(refused, { status: 'rejected', code: 'E_LISTING_EXISTS' });
  const u2 = await http<{ changes: Array<{ from: string }> }>(gw.httpUrl + '/api/utility');
  t.deepEqual(u2.body.changes.map((c) => c.from), [LATER]);

  t.is((await authority({ type: 'CloseBidding', listing: OPEN })).status, 'committed');
  const meter = await http<{ credits: Array<{ energyMWh: number; ref: string; validFrom: number }> }>(gw.httpUrl + `/api/meters/${ma.keyId}`, 'GET', undefined, asadReads());
  t.deepEqual(meter.body.credits.map((c) => [c.energyMWh, c.ref]), [[10 * KWH, `${OPEN}/utility`]], 'no trade, and still a signed credit token: 10 kWh from the balance at 0.30 HEC/kWh');
  const p = await http<{ balanceMicroHec: number; escrowMicroHec: number }>(gw.httpUrl + `/api/participants/${asad.email}`, 'GET', undefined, asadReads());
  t.is(p.body.escrowMicroHec, 3_000_000, 'the lost bid\'s escrow came back; the allowance holds 3 HEC');
  void zarak;
});
