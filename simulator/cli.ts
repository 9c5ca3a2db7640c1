import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { checkScenario, generate, loadScenario, type GenerateOptions } from './scenario.ts';
import { simulate } from './run.ts';

export const help = `
helios simulate — a simulated neighbourhood against a real gateway

Each household has a wallet and a meter running the real firmware core (node
platform) over real MQTT; the simulator makes a grid, starts "helios gateway" on
an accelerated clock, registers the households and enrols their meters through
the operator's API, and lets them trade. At the end it checks the invariants
(tokens conserved, no negative balance, every reading stored, ledger verify) and
each fault's expected outcome, prints a summary and exits 1 if anything failed.

Usage: helios simulate [options]

  --scenario FILE     a scenario (JSON): households, profiles, faults (docs/simulator.md)
  --households N      households to generate (default 12); --meters N is the same
  --prosumers N       of which prosumers (default 5 of 12)
  --seed N            seed for the neighbourhood, weather and loads (default 1)
  --start ISO         simulated start (default: today 10:40 local time in Karachi)
  --duration MIN      simulated minutes to run (default 180; overrides a scenario's)
  --speed S           simulated seconds per real second (default 60; overrides a scenario's)
  --strategy S        standing (default) | fixed | forecast
  --clearing M        seed | pay-as-bid | pay-as-clear (default pay-as-clear)
  --grid MODE         on-grid (default: the utility supplies what the market does not) | islanded
  --batteries         give some prosumers a home battery
  --data DIR          keep the grid here (default: a temporary directory)
  --csv FILE          per-period results as CSV
  --quiet             no progress bar
`;

export async function run(argv: string[]): Promise<number> {
  let v;
  try {
    ({ values: v } = parseArgs({
      args: argv, strict: true, options: {
        scenario: { type: 'string' }, households: { type: 'string' }, meters: { type: 'string' }, prosumers: { type: 'string' },
        seed: { type: 'string' }, start: { type: 'string' }, duration: { type: 'string' }, speed: { type: 'string' },
        strategy: { type: 'string' }, clearing: { type: 'string' }, grid: { type: 'string' }, batteries: { type: 'boolean' }, data: { type: 'string' },
        csv: { type: 'string' }, quiet: { type: 'boolean' },
      },
    }));
  } catch (e) {
    process.stderr.write(`helios simulate: ${(e as Error).message}\n${help}`);
    return 2;
  }
  const num = (name: string, s: string | undefined) => {
    if (s === undefined) return undefined;
    const n = Number(s);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${s}`);
    return n;
  };
  const count = (name: string, s: string) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got ${s}`);
    return n;
  };
  try {
    const g: GenerateOptions = {
      households: num('households', v.households ?? v.meters),
      prosumers: v.prosumers !== undefined ? count('prosumers', v.prosumers) : undefined,
      seed: num('seed', v.seed),
      start: v.start,
      durationMinutes: num('duration', v.duration),
      speed: num('speed', v.speed),
      strategy: v.strategy as GenerateOptions['strategy'],
      clearing: v.clearing as GenerateOptions['clearing'],
      grid: v.grid as GenerateOptions['grid'],
      batteries: v.batteries,
    };
    if (g.strategy && !['standing', 'fixed', 'forecast'].includes(g.strategy)) throw new Error('--strategy must be standing, fixed or forecast');
    if (g.clearing && !['seed', 'pay-as-bid', 'pay-as-clear'].includes(g.clearing)) throw new Error('--clearing must be seed, pay-as-bid or pay-as-clear');
    if (g.grid && !['on-grid', 'islanded'].includes(g.grid)) throw new Error('--grid must be on-grid or islanded');
    const scenario = v.scenario ? loadScenario(v.scenario, g) : generate(g);
    // Flags given beside a scenario file win over its fields: a tester shortens or speeds up a saved scenario.
    if (v.scenario && g.durationMinutes !== undefined) scenario.durationMinutes = g.durationMinutes;
    if (v.scenario && g.speed !== undefined) scenario.speed = g.speed;
    checkScenario(scenario);
    process.stderr.write(`simulating ${scenario.households.length} households on ${cpus().length} cores: ${scenario.name}\n`);
    const r = await simulate({ scenario, dataDir: v.data, csv: v.csv, view: v.quiet ? 'none' : 'bar' });
    process.stdout.write(`\n${r.summary}\n\nChecks:\n${r.checks.map((c) => `  ${c.ok ? '✔' : '✘'} ${c.name} — ${c.detail}`).join('\n')}\n`);
    if (v.csv) process.stdout.write(`\nPer-period results: ${v.csv}\n`);
    process.stdout.write(r.ok ? '\nAll checks passed.\n' : '\nSOME CHECKS FAILED.\n');
    return r.ok ? 0 : 1;
  } catch (e) {
    process.stderr.write(`helios simulate: ${(e as Error).message}\n`);
    return 1;
  }
}
