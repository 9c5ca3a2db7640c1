/**
 * `npm run demo` as a newcomer meets it: `helios demo` starts a gateway and a
 * simulated neighbourhood and Node-RED; within two minutes the ledger has trades,
 * and the flows (not the gateway's fallback) have opened and closed listings; the
 * dashboard's address is printed and answers; Ctrl-C stops it all cleanly and the
 * chain it leaves verifies.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { heliosBin } from '../helpers/gateway.ts';
import { tempDir } from '../helpers/grid.ts';

test('the demo shows trades within two minutes, stops on Ctrl-C and leaves a chain that verifies', async (t) => {
  const dir = join(tempDir('helios-demo-'), 'demo');
  const started = Date.now();
  let dashboard = '';
  const child = spawn(process.execPath, [heliosBin, 'demo', '--data', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    let traded = 0;
    let listing = '';
    while (Date.now() - started < 120_000 && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 2000));
      const run = join(dir, 'run', 'gateway.json');
      if (!existsSync(run)) continue;
      const { http } = JSON.parse(readFileSync(run, 'utf8')) as { http: string };
      const hist = await fetch(`${http}/api/market/history?limit=10`).then((r) => r.json() as Promise<Array<{ id: string; trades?: number }>>, () => []);
      const withTrades = hist.find((l) => (l.trades ?? 0) > 0);
      if (withTrades) {
        traded = withTrades.trades!;
        listing = withTrades.id;
        break;
      }
    }
    t.true(traded > 0, `no trade on the ledger within two minutes:\n${out.slice(-3000)}`);
    t.log(`first trades (${traded}) on listing ${listing} after ${((Date.now() - started) / 1000).toFixed(0)} s`);
    t.regex(out, /Helios demo/, 'the live view is shown');
    t.regex(out, /HTTP API http:\/\/127\.0\.0\.1:\d+/, 'where to watch it is printed');
    // Node-RED runs beside it: its address is printed, the dashboard answers, and its flows send the broadcasts.
    const dash = /Dashboards (http:\/\/127\.0\.0\.1:\d+)\/dashboard\/market/.exec(out);
    t.truthy(dash, 'the dashboard\'s address is printed');
    t.is((await fetch(`${dash![1]}/dashboard/market`)).status, 200);
    const { http } = JSON.parse(readFileSync(join(dir, 'run', 'gateway.json'), 'utf8')) as { http: string };
    // The first listing is due before Node-RED is up (the gateway's fallback opens it); the flows close it,
    // and open the next when its period begins (06:00 on the demo's clock, about 20 s in).
    let opened: Array<{ id: string; openedBy?: string; closedBy?: string }> = [];
    const until = Date.now() + 90_000;
    while (Date.now() < until) {
      opened = await fetch(`${http}/api/market/history?limit=24`).then((r) => r.json() as Promise<typeof opened>);
      if (opened.some((l) => l.openedBy === 'flows') && opened.some((l) => l.closedBy === 'flows')) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    t.true(opened.some((l) => l.openedBy === 'flows'), `no listing opened by the flows: ${JSON.stringify(opened)}`);
    t.true(opened.some((l) => l.closedBy === 'flows'), `no listing closed by the flows: ${JSON.stringify(opened)}`);
    dashboard = dash![1];
  } finally {
    child.kill('SIGINT');
  }
  const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 60_000))]);
  t.is(code, 0, `the demo stops cleanly on Ctrl-C:\n${out.slice(-3000)}`);
  if (dashboard) await t.throwsAsync(fetch(`${dashboard}/dashboard/market`), undefined, 'Node-RED stopped with it');
  t.false(existsSync(join(dir, 'run', 'gateway.json')), 'its gateway stopped too');
  const v = spawnSync(process.execPath, [heliosBin, 'ledger', 'verify', '--data', dir], { encoding: 'utf8' });
  t.is(v.status, 0, v.stdout + v.stderr);
  t.regex(v.stdout, /^OK: /m);
});
