/**
 * End to end against a real `helios gateway` (in-process: Aedes broker, readings
 * pipeline, ledger in a SQLite file): a meter running the firmware core on the node
 * platform boots, says Hello, is enrolled by the installer's command path, publishes
 * signed readings that are stored and acknowledged, receives an authority-signed
 * credit token — its relay closes — and the simulated household's import uses the
 * credit up, so the relay opens again. Gateway and meter share one accelerated
 * clock (×60: a simulated minute per real second).
 */
import test from 'ava';
import { scaledClock, systemClock } from '../../../../protocol/index.ts';
import { createNodeMeter } from '../../../../firmware/platform/node/index.ts';
import { Gateway } from '../../../../gateway/gateway.ts';
import { silentLogger } from '../../../../gateway/log.ts';
import { http, newGridDir } from '../../../helpers/gateway.ts';

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a node-platform meter is enrolled, its readings are stored and acknowledged, and credit drives its relay', async (t) => {
  const clock = scaledClock(systemClock(), 60);
  const grid = newGridDir({ blockPeriodMs: 5_000 });
  const gw = await Gateway.start({ dataDir: grid.dir, clock, httpPort: 0, mqttPort: 0, mqttTlsPort: null, mqttWsPort: null, log: silentLogger });
  // The paper's household: a load of 19 W while supplied.
  const node = createNodeMeter({ grid: grid.genesis.grid, brokerUrl: gw.mqttUrl!, clock, power: 19, powerStepMs: 1000, config: { readingPeriodMs: 60_000 } });
  try {
    node.start();
    const id = node.meter.meterId;

    // 1. Unknown to the grid, the meter says Hello; the installer sees it waiting.
    await until('the meter in the pending list', async () => {
      const r = await http<Array<{ meter: string; publicKey: string }>>(gw.httpUrl + '/api/meters/pending');
      return r.body.some((h) => h.meter === id && h.publicKey === node.meter.publicKey);
    });
    t.false(node.meter.enrolled);
    t.is(node.relay.closed, false, 'power-on state from config: open');

    // 2. Enrolled (what `helios meter enroll` submits).
    const r = await http<{ status: string }>(gw.httpUrl + '/api/authority/tx?wait=commit', 'POST', {
      type: 'EnrollMeter', meter: id, publicKey: node.meter.publicKey, participant: grid.households[1].email,
      installer: 'Ines Installer', location: 'Asad, kitchen', pulsesPerKWh: 1000, relay: true,
    }, { authorization: `Bearer ${grid.operatorSecret}` });
    t.is(r.body.status, 'committed');
    await until('the meter to learn it is enrolled', () => node.meter.enrolled);

    // 3. Signed readings every (simulated) minute, stored, acknowledged, outbox drained.
    await until('three readings stored and acknowledged', () => gw.metering.readingCount(id) >= 3 && node.meter.snapshot().outbox.length === 0);
    const stored = gw.metering.readings(id, 0, Number.MAX_SAFE_INTEGER);
    t.deepEqual(stored.map((x) => x.seq), stored.map((_, i) => i + 1), 'consecutive sequence numbers, none missing');
    t.is(stored[0].relay, 'open');

    // 4. The gateway issues credit: one unit of the paper, 317 mWh, valid for ten minutes.
    const now = clock.now();
    gw.service.issueCredit({ meter: id, energyMWh: 317, validFrom: now, validUntil: now + 600_000, ref: 'e2e-credit' });
    await until('the relay to close on valid credit', () => node.relay.closed === true);
    const closedAt = node.relay.history.find((h) => h.closed)!.t;

    // 5. The household draws 19 W: 317 mWh last one simulated minute; then the relay opens by itself.
    await until('the credit to run out and the relay to open', () => node.relay.closed === false, 30_000);
    const openedAt = node.relay.history[node.relay.history.length - 1].t;
    const minutes = (openedAt - closedAt) / 60_000;
    t.true(minutes > 0.9 && minutes < 1.3, `relay closed for ${minutes.toFixed(2)} simulated minutes`);
    t.is(node.meter.snapshot().creditMWh, 0);

    // 6. The readings told the gateway about the credit while it lasted, and the import it paid for.
    await until('a reading after the relay opened', () => (gw.metering.lastReading(id)?.t ?? 0) > openedAt);
    const all = gw.metering.readings(id, 0, Number.MAX_SAFE_INTEGER);
    t.true(all.some((x) => x.relay === 'closed' && x.creditMWh > 0), 'a reading showed the relay closed with credit held');
    const last = all[all.length - 1];
    t.is(last.relay, 'open');
    t.true(last.importMWh >= 317 && last.importMWh <= 340, `metered import ${last.importMWh} mWh ≈ the 317 mWh credited`);
    const api = await http<{ credits: Array<{ energyMWh: number; ref: string }> }>(gw.httpUrl + `/api/meters/${id}`, 'GET', undefined, { authorization: `Bearer ${grid.operatorSecret}` });
    t.deepEqual(api.body.credits.map((c) => [c.energyMWh, c.ref]), [[317, 'e2e-credit']]);
  } finally {
    node.stop();
    await gw.stop();
  }
});
