/**
 * `helios market` against a real gateway: households sign with their wallet key
 * files, as with `helios wallet send`. Offer, bid, status, cancel, history, and the
 * paper's direct purchase; and a refusal that tells the household what is wrong.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateKeyPair, scaledClock, systemClock } from '../../../protocol/index.ts';
import { waitForTx } from '../../../gateway/api/routes/ledger.ts';
import { Gateway } from '../../../gateway/gateway.ts';
import { insecureKey, writeKeystore } from '../../../gateway/keystore.ts';
import { silentLogger } from '../../../gateway/log.ts';
import { heliosBin, http, newGridDir } from '../../helpers/gateway.ts';
import { testEntropy } from '../../helpers/grid.ts';

const run = promisify(execFile);
const HOUR = 3_600_000;

test('helios market: offer, bid, status, cancel, history and a direct purchase, signed with wallet files', async (t) => {
  // Real speed, from ten past a coming hour: the CLI signs with the wall clock, which is then never ahead of the gateway's.
  const start = Math.ceil(Date.now() / HOUR) * HOUR + HOUR + 10 * 60_000;
  const clock = scaledClock(systemClock(), 1, start);
  const grid = newGridDir({ blockPeriodMs: 100, t: start - 60_000 });
  const [zarak, asad] = grid.households;
  const gw = await Gateway.start({ dataDir: grid.dir, clock, httpPort: 0, mqttPort: null, mqttTlsPort: null, mqttWsPort: null, log: silentLogger });
  const helios = (...args: string[]) => run(process.execPath, [heliosBin, 'market', ...args, '--gateway', gw.httpUrl]);
  try {
    const wallets: Record<string, string> = {};
    const meters: Record<string, string> = {};
    for (const [i, h] of [zarak, asad].entries()) {
      wallets[h.name] = join(grid.dir, `${h.name}.key`);
      writeKeystore(wallets[h.name], insecureKey(h.key, h.name));
      const m = generateKeyPair(testEntropy(6100 + i));
      meters[h.name] = m.keyId;
      const { id } = gw.authority.submit({ type: 'EnrollMeter', meter: m.keyId, publicKey: m.publicKey, participant: h.email, installer: 'Ines', location: 'x', pulsesPerKWh: 1000, relay: true });
      await waitForTx(gw.ledger, gw.clock, id, 10_000);
    }
    const listing = new Date(start - 10 * 60_000 + HOUR).toISOString().slice(0, 16) + 'Z';

    const offer = await helios('offer', '--meter', meters.Zarak, '--kwh', '0.000466', '--reserve', '9463.722398', '--wallet', wallets.Zarak);
    t.regex(offer.stdout, new RegExp(`Offered 0.000466 kWh on ${listing} at no less than 9463.722398 HEC/kWh: transaction [0-9a-f]{64} is in block \\d+`));
    const bid = await helios('bid', '--meter', meters.Asad, '--kwh', '0.000317', '--price', '9463.722398', '--wallet', wallets.Asad);
    const bidId = /transaction ([0-9a-f]{64})/.exec(bid.stdout)![1];
    t.is((await http<{ escrowMicroHec: number }>(gw.httpUrl + `/api/participants/${asad.email}`, 'GET', undefined, { authorization: `Bearer ${grid.operatorSecret}` })).body.escrowMicroHec, 3_000_001, 'ceil(317 mWh × price) in escrow');

    const status = await helios('status');
    t.regex(status.stdout, new RegExp(`Listing ${listing}  ACCEPT_OFFERS`));
    t.regex(status.stdout, /1 offers \(0.000466 kWh\), 1 bids \(0.000317 kWh\)/);
    t.regex(status.stdout, /zarak@example.org .*0.000466 kWh .*9463.722398 HEC\/kWh .*open/);

    const cancel = await helios('cancel', '--offer', bidId, '--wallet', wallets.Asad);
    t.regex(cancel.stdout, /Withdrew/);
    t.is((await http<{ escrowMicroHec: number; balanceMicroHec: number }>(gw.httpUrl + `/api/participants/${asad.email}`, 'GET', undefined, { authorization: `Bearer ${grid.operatorSecret}` })).body.escrowMicroHec, 0);

    const history = await helios('history', '--email', asad.email, '--wallet', wallets.Asad);
    t.regex(history.stdout, new RegExp(`${listing}\\s+ACCEPT_OFFERS`));

    // A consumer cannot offer energy: the refusal says so, with its code, and the exit status is 1.
    const err = await t.throwsAsync(helios('offer', '--meter', meters.Asad, '--kwh', '1', '--wallet', wallets.Asad)) as Error & { code: number; stderr: string };
    t.is(err.code, 1);
    t.regex(err.stderr, /E_WRONG_ROLE: asad@example.org is registered as a consumer/);

    // The paper's demo from the command line: 3 HEC for one unit, both balances move by exactly 3 HEC.
    const direct = await helios('direct', '--seller', zarak.email, '--meter', meters.Asad, '--kwh', '0.000317', '--amount', '3', '--wallet', wallets.Asad);
    t.regex(direct.stdout, /Paid zarak@example.org 3 HEC for 0.000317 kWh over 60 s/);
    t.is((await http<{ balanceMicroHec: number }>(gw.httpUrl + `/api/participants/${asad.email}`, 'GET', undefined, { authorization: `Bearer ${grid.operatorSecret}` })).body.balanceMicroHec, 47_000_000);
    t.is((await http<{ balanceMicroHec: number }>(gw.httpUrl + `/api/participants/${zarak.email}`, 'GET', undefined, { authorization: `Bearer ${grid.operatorSecret}` })).body.balanceMicroHec, 103_000_000);
    t.true(gw.metering.creditsOf(meters.Asad).some((c) => c.energyMWh === 317 && c.validUntil - c.validFrom === 60_000), 'a credit token for the minute');

    // Asad's history lists the purchase beside his listings (he bid on one, then cancelled).
    const after = await helios('history', '--email', asad.email, '--wallet', wallets.Asad);
    t.regex(after.stdout, /Direct and storage purchases of asad@example.org, newest first:/);
    t.regex(after.stdout, /direct +asad@example.org +zarak@example.org +0.000317 kWh +3 HEC/);
    t.regex((await helios('history', '--email', zarak.email, '--wallet', wallets.Zarak)).stdout, /direct +asad@example.org +zarak@example.org +0.000317 kWh +3 HEC/, 'and the seller\'s');

    // No --meter: the household's only meter. No --reserve: the storage's buy price, not 0.
    const plain = await helios('offer', '--kwh', '0.001', '--wallet', wallets.Zarak);
    t.regex(plain.stdout, /Offered 0.001 kWh on .* at no less than 0.08 HEC\/kWh: transaction/);
  } finally {
    await gw.stop();
  }
});

test('helios market refusals speak HEC and kWh and name the flag to change; nothing changes', async (t) => {
  const start = Math.ceil(Date.now() / HOUR) * HOUR + HOUR + 10 * 60_000;
  const clock = scaledClock(systemClock(), 1, start);
  // A grid made with the default cap, 1 HEC/kWh.
  const grid = newGridDir({ blockPeriodMs: 100, t: start - 60_000, priceCapMicroHecPerKWh: 1_000_000 });
  const [zarak, asad] = grid.households;
  const gw = await Gateway.start({ dataDir: grid.dir, clock, httpPort: 0, mqttPort: null, mqttTlsPort: null, mqttWsPort: null, log: silentLogger });
  const helios = (...args: string[]) => run(process.execPath, [heliosBin, 'market', ...args, '--gateway', gw.httpUrl]);
  /** Exit 1 for a refusal by the gateway, 2 for a mistyped command. */
  const refused = async (...args: string[]) => {
    const e = await t.throwsAsync(helios(...args)) as Error & { code: number; stderr: string };
    t.is(e.code, /^helios: E_/.test(e.stderr) ? 1 : 2, e.stderr);
    return e.stderr;
  };
  try {
    const wallet = join(grid.dir, 'asad.key');
    writeKeystore(wallet, insecureKey(asad.key, 'asad'));
    const m = generateKeyPair(testEntropy(6200));
    const { id } = gw.authority.submit({ type: 'EnrollMeter', meter: m.keyId, publicKey: m.publicKey, participant: asad.email, installer: 'Ines', location: 'x', pulsesPerKWh: 1000, relay: true });
    await waitForTx(gw.ledger, gw.clock, id, 10_000);
    const balance = async () => (await http<{ balanceMicroHec: number; escrowMicroHec: number }>(gw.httpUrl + `/api/participants/${asad.email}`, 'GET', undefined, { authorization: `Bearer ${grid.operatorSecret}` })).body;
    const before = await balance();

    // The paper's price on a default grid: the cap in HEC/kWh, the price asked, and what to change.
    t.regex(await refused('direct', '--seller', zarak.email, '--kwh', '0.000317', '--amount', '3', '--wallet', wallet),
      /^helios: E_PRICE_CAP: 3 HEC for 0.000317 kWh is above this grid's cap of 1 HEC\/kWh\. 3 HEC for 0.000317 kWh is 9463.722398 HEC\/kWh: pay less \(--amount\) .*more energy \(--kwh\).*helios init --price-cap/);
    t.regex(await refused('bid', '--kwh', '1', '--price', '2.5', '--wallet', wallet), /E_PRICE_CAP: price 2.5 HEC\/kWh is above this grid's cap of 1 HEC\/kWh\. Name a lower --price/);
    // More than the balance: the figures in HEC, and the flags that make the bid smaller.
    const rich = (before.balanceMicroHec / 1_000_000) + 1;
    t.regex(await refused('bid', '--kwh', String(rich), '--price', '1', '--wallet', wallet),
      new RegExp(`E_INSUFFICIENT_BALANCE: .* needs ${rich} HEC in escrow but asad@example.org has ${before.balanceMicroHec / 1_000_000} HEC available.*--kwh.*--price`));
    // A mistyped number never reaches the gateway, and says which flag.
    t.regex(await refused('bid', '--kwh', '1,5', '--price', '0.3', '--wallet', wallet), /--kwh: "1,5" is not an energy in kWh/);
    // The same for helios wallet: the figures in HEC, and the flag.
    const send = await t.throwsAsync(run(process.execPath, [heliosBin, 'wallet', 'send', '--to', zarak.email, '--amount', '1000', '--wallet', wallet, '--gateway', gw.httpUrl])) as Error & { stderr: string };
    t.regex(send.stderr, new RegExp(`E_INSUFFICIENT_BALANCE: .*needs 1000 HEC but asad@example.org has ${before.balanceMicroHec / 1_000_000} HEC available\\. Send less \\(--amount\\)`));
    t.deepEqual(await balance(), before, 'nothing moved');
    t.deepEqual((await http<unknown[]>(gw.httpUrl + '/api/market/purchases', 'GET', undefined, { authorization: `Bearer ${grid.operatorSecret}` })).body, [], 'no purchase on the chain');
    t.is((await http<{ bids: number }>(gw.httpUrl + '/api/market/listings/current')).body.bids, 0, 'no bid on the listing');
  } finally {
    await gw.stop();
  }
});
