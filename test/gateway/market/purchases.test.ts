/**
 * Direct and storage purchases belong to no listing, so `market history` used to say a
 * household that bought one "has not taken part in any listing". GET
 * /api/market/purchases reads them from the chain; `helios market history --email`
 * lists them beside the auctions — for the buyer, and a direct purchase for its seller.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateKeyPair, httpToken, paymentMicroHec, scaledClock, systemClock } from '../../../protocol/index.ts';
import { waitForTx } from '../../../gateway/api/routes/ledger.ts';
import { Gateway } from '../../../gateway/gateway.ts';
import { insecureKey, writeKeystore } from '../../../gateway/keystore.ts';
import { silentLogger } from '../../../gateway/log.ts';
import { heliosBin, http, newGridDir } from '../../helpers/gateway.ts';
import { testEntropy } from '../../helpers/grid.ts';

const run = promisify(execFile);
const HOUR = 3_600_000;

interface Purchase { id: string; kind: string; buyer: string; seller?: string; meter: string; energyMWh: number; amountMicroHec: number; durationMs?: number; height: number; t: number }

test('direct and storage purchases: listed newest first, per household, with what was paid; in helios market history', async (t) => {
  const start = Math.ceil(Date.now() / HOUR) * HOUR + HOUR + 10 * 60_000;
  const clock = scaledClock(systemClock(), 1, start);
  const grid = newGridDir({
    blockPeriodMs: 100, t: start - 60_000, households: [
      { name: 'Zarak', email: 'zarak@example.org', role: 'prosumer', allocationMicroHec: 100_000_000 },
      { name: 'Asad', email: 'asad@example.org', role: 'consumer', allocationMicroHec: 50_000_000 },
      { name: 'Bilal', email: 'bilal@example.org', role: 'consumer', allocationMicroHec: 50_000_000 },
    ],
  });
  const [zarak, asad, bilal] = grid.households;
  const gw = await Gateway.start({ dataDir: grid.dir, clock, httpPort: 0, mqttPort: null, mqttTlsPort: null, mqttWsPort: null, log: silentLogger });
  try {
    const meters: Record<string, string> = {};
    for (const [i, h] of [zarak, asad, bilal].entries()) {
      const m = generateKeyPair(testEntropy(6300 + i));
      meters[h.email] = m.keyId;
      const { id } = gw.authority.submit({ type: 'EnrollMeter', meter: m.keyId, publicKey: m.publicKey, participant: h.email, installer: 'Ines', location: 'x', pulsesPerKWh: 1000, relay: true });
      await waitForTx(gw.ledger, gw.clock, id, 10_000);
    }
    // Zarak's surplus of the past hour goes into storage, paid from its fund.
    const pastHour = new Date(start - 10 * 60_000 - HOUR).toISOString().slice(0, 16) + 'Z';
    for (const fields of [
      { type: 'Mint', to: 'storage', amountMicroHec: 10_000_000 },
      { type: 'StorageDeposit', meter: meters[zarak.email], energyMWh: 2_000_000, period: pastHour, readingsHeight: 0 },
    ] as const) {
      const r = await waitForTx(gw.ledger, gw.clock, gw.authority.submit(fields).id, 10_000);
      t.is(r.status, 'committed', JSON.stringify(r));
    }
    const send = async (tx: unknown) => {
      const r = await http<{ status: string; id: string }>(gw.httpUrl + '/api/tx?wait=commit', 'POST', tx);
      t.is(r.body.status, 'committed', JSON.stringify(r.body));
      return r.body.id;
    };
    const direct = await send(grid.tx(asad, { type: 'DirectPurchase', seller: zarak.email, meter: meters[asad.email], energyMWh: 317, amountMicroHec: 3_000_000, durationMs: 60_000 }, Date.now()));
    const stored = await send(grid.tx(asad, { type: 'StoragePurchase', meter: meters[asad.email], energyMWh: 333_333, maxPriceMicroHecPerKWh: 250_000 }, Date.now()));

    // Who bought what is private: the household's own credential or the operator's.
    const op = { authorization: `Bearer ${grid.operatorSecret}` };
    t.is((await http<{ code: string }>(gw.httpUrl + `/api/market/purchases?participant=${asad.email}`)).body.code, 'E_UNAUTHENTICATED');
    const asadToken = { authorization: `Helios ${httpToken(asad.key, grid.genesis.grid, gw.clock.now(), 60_000)}` };
    t.is((await http<{ code: string }>(gw.httpUrl + `/api/market/purchases?participant=${zarak.email}`, 'GET', undefined, asadToken)).status, 403, 'not another household\'s');
    t.is((await http<{ code: string }>(gw.httpUrl + '/api/market/purchases', 'GET', undefined, asadToken)).status, 403, 'not everyone\'s');
    const mine = (await http<Purchase[]>(gw.httpUrl + `/api/market/purchases?participant=${asad.email}`, 'GET', undefined, asadToken)).body;
    t.deepEqual(mine.map((p) => [p.id, p.kind]), [[stored, 'storage'], [direct, 'direct']], 'newest first');
    t.like(mine[0], { buyer: asad.email, meter: meters[asad.email], energyMWh: 333_333, amountMicroHec: paymentMicroHec(333_333, 250_000) });
    t.is(mine[0].seller, undefined);
    t.like(mine[1], { buyer: asad.email, seller: zarak.email, energyMWh: 317, amountMicroHec: 3_000_000, durationMs: 60_000 });
    t.true(mine[1].height < mine[0].height || mine[1].t <= mine[0].t);
    // What the storage purchase cost is what left Asad's balance.
    const a = (await http<{ balanceMicroHec: number }>(gw.httpUrl + `/api/participants/${asad.email}`, 'GET', undefined, op)).body;
    t.is(a.balanceMicroHec, 50_000_000 - 3_000_000 - mine[0].amountMicroHec);

    t.deepEqual((await http<Purchase[]>(gw.httpUrl + `/api/market/purchases?participant=${zarak.email}`, 'GET', undefined, op)).body.map((p) => p.id), [direct], 'the seller sees the direct purchase');
    t.deepEqual((await http<Purchase[]>(gw.httpUrl + `/api/market/purchases?participant=${bilal.email}`, 'GET', undefined, op)).body, [], 'nobody else\'s');
    t.is((await http<Purchase[]>(gw.httpUrl + '/api/market/purchases?limit=1', 'GET', undefined, op)).body.length, 1);
    t.is((await http<{ code: string }>(gw.httpUrl + '/api/market/purchases?limit=0', 'GET', undefined, op)).status, 400);

    const wallet = join(grid.dir, 'asad.key');
    writeKeystore(wallet, insecureKey(asad.key, 'asad'));
    const { stdout } = await run(process.execPath, [heliosBin, 'market', 'history', '--email', asad.email, '--wallet', wallet, '--gateway', gw.httpUrl]);
    t.regex(stdout, /asad@example.org has not taken part in any listing\./);
    t.regex(stdout, /storage +asad@example.org +storage +0.333333 kWh +0.083333 HEC/);
    t.regex(stdout, /direct +asad@example.org +zarak@example.org +0.000317 kWh +3 HEC/);
  } finally {
    await gw.stop();
  }
});
