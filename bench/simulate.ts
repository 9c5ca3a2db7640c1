/**
 * bench/simulate — 1,000 and 10,000 simulated meters (the real firmware core, one
 * process, real MQTT) against a real gateway: readings/s the gateway stored while
 * they ran (and in the second half of the run, once every meter is connected), the
 * CPU and memory of the simulator and of the gateway, beside OpenSSL's P-256 verify
 * rate on all cores measured in the same run (the gateway's ceiling).
 *
 *   npm run bench -- simulate [--meters 1000,10000] [--minutes 20] [--speed 10]
 */
import { cpus } from 'node:os';
import { generate } from '../simulator/scenario.ts';
import { simulate } from '../simulator/run.ts';
import { benchArgs } from './lib/args.ts';
import { fmt, opensslP256, table } from './lib/reference.ts';

const o = benchArgs('simulate', 'A whole simulated neighbourhood on the real gateway: readings per second offered and stored.', {
  meters: { type: 'string', default: '1000,10000', help: 'neighbourhood sizes, comma-separated' },
  minutes: { type: 'string', default: '20', help: 'simulated minutes' },
  speed: { type: 'string', default: '10', help: 'clock speed-up' },
});
const sizes = o.meters!.split(',').map(Number);
const speed = Number(o.speed);
const minutes = Number(o.minutes);
console.log(`bench/simulate — meters read every simulated minute, ×${speed} (${fmt(speed / 60, 2)} readings/s per meter), ${minutes} simulated minutes, ${cpus().length} cores\n`);
const ossl = opensslP256(3, cpus().length);
const rows: Array<Array<string | number>> = [];
for (const n of sizes) {
  process.stderr.write(`${n} meters…\n`);
  // Islanded, as the figures in docs/performance.md were measured: on-grid every meter also gets an allowance
  // token each period (10,000 signatures an hour at 10,000 meters), not yet measured here.
  const scenario = generate({ households: n, prosumers: Math.round((n * 5) / 12), speed, durationMinutes: minutes, seed: 3, grid: 'islanded' });
  const r = await simulate({ scenario, view: 'none', print: () => undefined });
  const rate = r.stats.run.readings / r.stats.run.seconds;
  const offered = (n * speed) / 60;
  const run = r.stats.run;
  rows.push([
    fmt(n), fmt(run.setupSeconds, 0) + ' s', fmt(run.seconds, 0) + ' s', fmt(offered), `${fmt(rate)} (${fmt(run.secondHalfReadingsPerSec)})`, fmt(run.secondHalfReadingsPerSec / ossl.verifyPerSec, 3),
    `${fmt(run.cpuSeconds / run.seconds, 2)} cores`, `${fmt(run.peakRssMiB)} MiB`,
    `${fmt(run.gatewayCpuSeconds / run.seconds, 2)} cores`, `${fmt(run.gatewayPeakRssMiB)} MiB (heap ${fmt(run.gatewayPeakHeapMiB)})`,
    r.ok ? 'all pass' : r.checks.filter((c) => !c.ok).map((c) => c.name).join('; '),
  ]);
}
console.log(table(['meters', 'setup', 'run', 'readings/s offered', 'readings/s stored: run (second half)', 'second half vs OpenSSL verify (all cores)', 'simulator CPU', 'simulator peak RSS', 'gateway CPU', 'gateway peak RSS (JS heap used)', 'checks'], rows));
console.log(`\nOpenSSL P-256 verify on ${ossl.processes} cores: ${fmt(ossl.verifyPerSec)}/s`);
