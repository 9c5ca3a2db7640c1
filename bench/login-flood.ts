/**
 * bench/login-flood — the gateway's health latency while attackers guess the
 * operator secret over MQTT, beside the same latency with no attack measured in the
 * same run. Two attacks: one source guessing as fast as it can (it is locked out),
 * and guesses spread over many source addresses (127.x.y.z), each within its own
 * allowance, so only the one-at-a-time hashing queue limits them.
 *
 *   npm run bench -- login-flood [--seconds N] [--in-flight N]
 */
import { cpus } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { newGridDir, startChildGateway } from '../test/helpers/gateway.ts';
import { rawLogin } from '../test/helpers/attacker.ts';
import { benchArgs } from './lib/args.ts';
import { fmt, table } from './lib/reference.ts';

const o = benchArgs('login-flood', 'Health latency under a flood of wrong operator secrets, beside no flood.', {
  seconds: { type: 'string', default: '5', help: 'length of each phase' },
  'in-flight': { type: 'string', default: '32', help: 'wrong logins in flight at once' },
});
const SECONDS = Number(o.seconds);
const IN_FLIGHT = Number(o['in-flight']);

console.log(`bench/login-flood — GET /api/health while wrong operator secrets arrive over MQTT, ${IN_FLIGHT} in flight, ${SECONDS} s per phase, ${cpus().length} cores\n`);
const grid = newGridDir({ blockPeriodMs: 1000 });
const gw = await startChildGateway(grid.dir, ['--mqtt-port', '0', '--mqtt-tls-port', 'off', '--mqtt-ws-port', 'off', '--log-level', 'error']);
const port = Number(new URL((JSON.parse(readFileSync(join(grid.dir, 'run', 'gateway.json'), 'utf8')) as { mqtt: string }).mqtt).port);

async function healthLatency(untilMs: number): Promise<number[]> {
  const out: number[] = [];
  while (Date.now() < untilMs) {
    const t0 = performance.now();
    await (await fetch(gw.url + '/api/health')).arrayBuffer();
    out.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 20));
  }
  return out;
}

/** Keep IN_FLIGHT wrong logins going until `untilMs`; `source(i)` picks each one's address. */
async function flood(untilMs: number, source: (i: number) => string): Promise<{ answered: number; codes: Map<string, number> }> {
  let n = 0;
  let answered = 0;
  const codes = new Map<string, number>();
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (Date.now() < untilMs) {
      const i = n++;
      const r = await rawLogin(port, { clientId: `guess-${i}`, username: 'operator', password: `wrong-${i}`, localAddress: source(i) });
      r.socket.destroy();
      answered++;
      codes.set(String(r.code), (codes.get(String(r.code)) ?? 0) + 1);
    }
  }));
  return { answered, codes };
}

const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const rows: Array<Array<string | number>> = [];
let base = 0;
for (const phase of ['no attack', 'one source', 'many sources'] as const) {
  const end = Date.now() + SECONDS * 1000;
  const [lat, f] = await Promise.all([
    healthLatency(end),
    phase === 'no attack' ? Promise.resolve(undefined) : flood(end, phase === 'one source' ? () => '127.0.0.1' : (i) => `127.${1 + ((i >> 16) & 0xff)}.${(i >> 8) & 0xff}.${1 + (i & 0xfe)}`),
  ]);
  const med = q(lat, 0.5);
  if (phase === 'no attack') base = med;
  rows.push([phase, fmt(med, 1), fmt(q(lat, 0.95), 1), fmt(q(lat, 0.99), 1), fmt(med / base, 1) + '×', f ? fmt(f.answered / SECONDS, 0) : '—', f ? [...f.codes].map(([c, k]) => `${c}:${k}`).join(' ') : '—']);
}
await gw.kill();
console.log(table(['phase', 'health median ms', 'p95 ms', 'p99 ms', 'median vs no attack', 'wrong logins answered/s', 'CONNACK codes (count)'], rows));
