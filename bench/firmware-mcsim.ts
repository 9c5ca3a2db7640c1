/**
 * bench/firmware-mcsim — the memory the real firmware needs on XS, as mcsim's
 * instrumentation reports it, for the meter the manifest's "creation" sizes are
 * set from: enrolled, holding several credit tokens, and with a full outbox (the
 * gateway down for longer than outboxMax readings, then back, so the whole outbox
 * is resent). XS collects garbage only when its heaps are full, so what it "uses"
 * between collections says little; what it has to *grow to* does. So the firmware is
 * built here with the manifest's creation sizes replaced by small ones that may grow
 * (a manifest that includes manifest.json), and the sizes XS grew to under this load
 * are the meter's need. Prints them with what the manifest reserves.
 *
 *   MODDABLE=… npm run bench -- firmware-mcsim      (~2 min, plus a build if not cached)
 *
 * mcsim runs 64-bit: a slot is 32 bytes there, 16 on the ESP32; slot and stack
 * counts are the same on both, chunk bytes are smaller on the ESP32 (pointers in
 * chunks are half the size), so the host's chunk figure is an upper bound.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { buildLinFirmware, findSdk, firmwareApp, repoRoot, startMcsim, type LinApp } from '../simulator/mcsim.ts';
import { http, newGridDir, startChildGateway } from '../test/helpers/gateway.ts';
import { tempDir } from '../test/helpers/grid.ts';

const HOST_SLOT_BYTES = 32;
const OUTBOX_MAX = 60;
const TOKENS = 4;

const sdk = findSdk();
if ('missing' in sdk) {
  console.log(`bench/firmware-mcsim skipped: ${sdk.missing}`);
  process.exit(0);
}

const free = (): Promise<number> => new Promise((resolve) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => resolve(p));
  });
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Where the heaps start: small, so that what they grow to is what the meter needs (± one increment). */
const START = { chunk: { initial: 16_384, incremental: 4_096 }, heap: { initial: 1_024, incremental: 128 } };
const sizingDir = join(tmpdir(), 'helios-bench-sizing');
mkdirSync(sizingDir, { recursive: true });
const manifest = JSON.parse(readFileSync(`${repoRoot}/manifest.json`, 'utf8')) as { creation: { chunk: { initial: number }; heap: { initial: number }; stack: number } };
writeFileSync(join(sizingDir, 'manifest.json'), JSON.stringify({
  include: [join(repoRoot, 'manifest.json')],
  creation: { ...START, stack: manifest.creation.stack },
}, null, '\t'));
const sizing: LinApp = { manifest: join(sizingDir, 'manifest.json'), name: 'helios-meter', id: 'helios-meter-sizing', inputs: [...firmwareApp.inputs, join(sizingDir, 'manifest.json')] };

const grid = newGridDir({ blockPeriodMs: 200 });
const auth = { authorization: `Bearer ${grid.operatorSecret}` };
const port = await free();
const build = buildLinFirmware(sdk, {
  grid: grid.genesis.grid, brokerHost: '127.0.0.1', brokerPort: port, authorityKey: grid.authority.publicKey,
  readingPeriodMs: 1000, simPowerW: 500, persistEveryWh: 1,
}, { log: (l) => console.log(l), app: sizing });
let gw = await startChildGateway(grid.dir, ['--mqtt-port', String(port)]);
const sim = startMcsim(sdk, build.mcso, tempDir('helios-bench-mcsim-'));
try {
  const m = await sim.waitFor(/meter ([0-9a-f]{32}) public key (\S+)/, 30_000);
  const [meter, publicKey] = [m[1], m[2]];
  for (;;) {
    const pending = await http<Array<{ meter: string }>>(`${gw.url}/api/meters/pending`);
    if (pending.body.some((p) => p.meter === meter)) break;
    await sleep(200);
  }
  const [zarak, asad] = grid.households;
  const enrol = await http<{ status?: string }>(`${gw.url}/api/authority/tx?wait=commit`, 'POST', {
    type: 'EnrollMeter', meter, publicKey, participant: asad.email, installer: 'bench', location: 'mcsim', pulsesPerKWh: 1000, relay: true,
  }, auth);
  if (enrol.status >= 300) throw new Error(`enrolment refused: ${JSON.stringify(enrol.body)}`);
  await sim.waitFor(/enrolled for/, 30_000);
  for (let i = 0; i < TOKENS; i++) {
    const tx = grid.tx(asad, { type: 'DirectPurchase', seller: zarak.email, meter, energyMWh: 1_000_000 + i, amountMicroHec: 1_000_000, durationMs: 30 * 60_000 });
    await http(`${gw.url}/api/tx?wait=commit`, 'POST', tx);
  }
  await sim.waitFor(new RegExp(`(credit token \\S+: \\d+ mWh valid[^]*){${TOKENS}}`), 30_000);
  // The gateway away for longer than the outbox holds: it fills (and drops its oldest).
  await gw.kill();
  await sleep((OUTBOX_MAX + 8) * 1000);
  gw = await startChildGateway(grid.dir, ['--mqtt-port', String(port)]);
  // The meter's backoff has grown meanwhile (up to a minute): wait for the whole outbox to arrive.
  let stored = { body: [] as unknown[] };
  for (let end = Date.now() + 150_000; Date.now() < end && stored.body.length < OUTBOX_MAX; await sleep(1000)) {
    stored = await http<unknown[]>(`${gw.url}/api/meters/${meter}/readings?limit=10000`, 'GET', undefined, auth);
  }
  await sleep(5000);

  const samples = sim.output().split('\n').filter((l) => l.startsWith('instruments: ')).map((l) => l.slice(13).split(',').map(Number));
  // instruments key (mcsim): … 9 Chunk used, 10 Chunk available, 11 Slot used, 12 Slot available, 13 Stack used, 14 Stack available
  const max = (i: number) => Math.max(...samples.map((s) => s[i]));
  writeFileSync(join(tmpdir(), 'helios-bench-mcsim.log'), sim.output());
  const errors = sim.output().match(/XS abort[^\n]*|stack overflow[^\n]*|memory full[^\n]*/g) ?? [];
  const fmt = (n: number) => Math.round(n).toLocaleString('en');
  console.log(`bench/firmware-mcsim — the lin firmware in mcsim, ${TOKENS} credit tokens held, outbox full (${OUTBOX_MAX}) and resent; ${samples.length} samples, ${stored.body.length} readings stored`);
  console.log(`heaps started at ${fmt(START.chunk.initial)} chunk bytes and ${fmt(START.heap.initial)} slots, growing by ${fmt(START.chunk.incremental)} and ${fmt(START.heap.incremental)}\n`);
  console.log('| measure | grown to (the need) | most in use between collections | manifest reserves |');
  console.log('|---|---|---|---|');
  console.log(`| chunk, bytes (64-bit host) | ${fmt(max(10))} | ${fmt(max(9))} | ${fmt(manifest.creation.chunk.initial)} |`);
  console.log(`| slots | ${fmt(max(12) / HOST_SLOT_BYTES)} | ${fmt(max(11) / HOST_SLOT_BYTES)} | ${fmt(manifest.creation.heap.initial)} |`);
  console.log(`| stack, slots (fixed) | — | ${fmt(max(13) / HOST_SLOT_BYTES)} | ${manifest.creation.stack} |`);
  console.log(`\nerrors: ${errors.length ? errors.join('; ') : 'none'}`);
} finally {
  await sim.stop();
  await gw.kill();
}
