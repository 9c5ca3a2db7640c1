import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { generate } from './scenario.ts';
import { simulate } from './run.ts';
import { createServer } from 'node:net';

export const help = `
helios demo — a gateway and a simulated neighbourhood, live in the terminal

Makes a fresh grid in ./data/demo-<time>, starts "helios gateway" on a clock sixty
times faster than real time (one market hour per real minute) and twelve
simulated households (five with rooftop solar) trading through standing orders,
on an on-grid microgrid: the utility covers what the market does not, from each
household's balance. The terminal shows the market, the last clearing price, the
utility's figures, unmet load, balances and relays;
the gateway's HTTP API and MQTT broker are open on localhost to look around.
Ctrl-C stops everything cleanly; the grid stays in its directory for
"helios ledger verify --data <dir>".

Node-RED runs beside them: its flows send the market's broadcasts, and its
dashboards (address printed) show the market, the operator's view, and a
household's own view once you make a wallet key in the browser.

Usage: helios demo [--households N] [--speed S] [--seed N] [--data DIR] [--duration MIN] [--flows-port N]

  --duration MIN   stop by itself after MIN simulated minutes (a bounded run, e.g. in CI)
  --flows-port N   the dashboards' port (default 1880, or a free one if it is taken)
`;

export async function run(argv: string[]): Promise<number> {
  let v;
  try {
    ({ values: v } = parseArgs({ args: argv, strict: true, options: { households: { type: 'string' }, speed: { type: 'string' }, seed: { type: 'string' }, data: { type: 'string' }, duration: { type: 'string' }, 'flows-port': { type: 'string' } } }));
  } catch (e) {
    process.stderr.write(`helios demo: ${(e as Error).message}\n${help}`);
    return 2;
  }
  const duration = v.duration === undefined ? undefined : Number(v.duration);
  if (duration !== undefined && !(duration > 0)) {
    process.stderr.write(`helios demo: --duration must be a positive number of simulated minutes, got ${v.duration}\n`);
    return 2;
  }
  const dir = resolve(v.data ?? join('data', `demo-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`));
  mkdirSync(dir, { recursive: true });
  const scenario = generate({ households: v.households ? Number(v.households) : 12, speed: v.speed ? Number(v.speed) : 60, seed: v.seed ? Number(v.seed) : 1, ...(duration !== undefined ? { durationMinutes: duration } : {}) });
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const tty = Boolean(process.stdout.isTTY);
  let last = 0;
  process.stdout.write(`Starting the Helios demo in ${dir} …\n`);
  const flowsPort = v['flows-port'] !== undefined ? Number(v['flows-port']) : (await portFree(1880)) ? 1880 : 0;
  const r = await simulate({
    scenario, dataDir: dir, view: 'live', forever: duration === undefined, signal: stop.signal, gatewayLogLevel: 'error', flowsPort,
    // On a terminal the view is redrawn every second; in a log, every ten seconds without the screen codes.
    print: (s) => {
      if (tty) return process.stdout.write(s + '\n');
      if (Date.now() - last < 10_000) return;
      last = Date.now();
      process.stdout.write(s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '') + '\n\n');
    },
  });
  process.stdout.write(`\n${r.summary}\n\nChecks:\n${r.checks.map((c) => `  ${c.ok ? '✔' : '✘'} ${c.name} — ${c.detail}`).join('\n')}\n`);
  process.stdout.write(`\nThe demo's grid is in ${dir}: helios ledger verify --data ${dir}\n`);
  return r.ok ? 0 : 1;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
