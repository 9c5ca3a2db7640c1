/**
 * Power cuts on the real meter firmware: manifest.json built with mcconfig for the
 * Linux host, run in mcsim against a real `helios gateway` child process, and
 * killed with SIGKILL (`kill -9` of mcsim) at random moments — seeded: the seed is
 * printed, HELIOS_CUT_SEED=<n> replays the same moments — some while the gateway is
 * down, so that readings wait in the meter's outbox when the power goes.
 *
 * A killed process never tears a file the store renamed into place, so at chosen
 * cuts the test also damages the flash between runs as a cut mid-write on real
 * flash would: a state record cut short or gone, an outbox entry cut short or gone,
 * a stray `.new` file, the enrolment certificate cut short or gone. Last, both state
 * records are destroyed: the meter must say E_STATE_LOST and restore from the gateway.
 *
 * After all of them: the same meter id and key at every boot; every reading stored
 * at the gateway verifies with that key; import never lower across the stored
 * readings; no sequence number stood for two different readings (in anything the
 * flash held at a cut, or the gateway stored); every reading the flash held as made
 * and unacknowledged at a cut is stored exactly once; the meter ends enrolled and
 * running.
 *
 * Its own cached build (simulator/mcsim.ts), on a port from the end of mcsim.test.ts's
 * list so that the two files, run side by side, never want the same port. Without
 * MODDABLE it says so and skips; under CI=true that fails instead.
 */
import test from 'ava';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { verifyBody, type Signed } from '../../protocol/index.ts';
import { DOMAIN, decodeSlot, type ReadingRecord } from '../../firmware/core/index.ts';
import { findSdk, startMcsim, type Mcsim, type Sdk } from '../../simulator/mcsim.ts';
import { exclusive } from '../helpers/exclusive.ts';
import { gridWithFirmware } from '../helpers/firmwareGrid.ts';
import { until } from '../helpers/waiting.ts';
import { heliosBin, http, startChildGateway, type ChildGateway, type GridDir } from '../helpers/gateway.ts';
import { tempDir } from '../helpers/grid.ts';
import { LinFlash, durableReadings } from './helpers/lin-flash.ts';

const READING_PERIOD_MS = 1000;
/** 5 S0 pulses a second at 1000 pulses/kWh: the import register moves between any two readings. */
const SIM_POWER_W = 18_000;
/** The firmware's default outbox ring size (firmware/core/config.ts). */
const OUTBOX_MAX = 60;
/** The other end of mcsim.test.ts's list: that file takes the first free port, this one the last. */
const PORTS = [18839, 18838, 18837, 18836, 18835];

interface StoredReading { seq: number; t: number; importMWh: number; exportMWh: number; signed: Signed<{ meter: string; seq: number; t: number; importMWh: number; exportMWh: number }> }


/** A deterministic generator, so a failing run can be replayed with its seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * SIGKILL to mcsim itself (not xvfb-run, which then takes its X server down and exits); resolves once all of
 * it has exited. An mcsim that had ended before its cut (a crash, an exit, a signal) is a failure.
 */
async function powerCut(sim: Mcsim): Promise<void> {
  const group = sim.child.pid!;
  const ps = spawnSync('ps', ['-o', 'pid=,comm=', '-g', String(group)], { encoding: 'utf8' }).stdout ?? '';
  const mcsim = ps.split('\n').map((l) => l.trim().split(/\s+/)).find(([, comm]) => comm === 'mcsim');
  const gone = new Promise<void>((r) => (sim.child.exitCode !== null || sim.child.signalCode !== null ? r() : sim.child.once('exit', () => r())));
  if (!mcsim) {
    await Promise.race([gone, new Promise((r) => setTimeout(r, 2000))]);
    throw new Error(`mcsim was no longer running (xvfb-run exit ${sim.child.exitCode ?? sim.child.signalCode}) when the power was to be cut:\n${sim.output().slice(-2000)}`);
  }
  process.kill(Number(mcsim[0]), 'SIGKILL');
  const timer = setTimeout(() => {
    try {
      process.kill(-group, 'SIGKILL');
    } catch { /* gone */ }
  }, 5000);
  await gone;
  clearTimeout(timer);
}

/** What a cut does to the flash besides stopping the meter (a write torn on real flash). */
type Damage = 'none' | 'cut newer state' | 'remove a state slot' | 'cut an outbox entry' | 'remove an outbox entry' | 'stray .new' | 'cut enrolment' | 'remove enrolment';

interface Plan { damage: Damage; gatewayDown: boolean }

const found = findSdk();
const missing = 'missing' in found ? found.missing : undefined;
const TITLE = 'the real firmware in mcsim survives kill -9 at random moments and torn records: same key, no seq reused, registers never lower, every durable reading stored once, restored after losing both state records';

if (missing && process.env.CI === 'true') {
  test(TITLE, (t) => {
    t.fail(`CI=true but the Moddable SDK is missing, so the firmware was not built: ${missing}`);
  });
} else if (missing) {
  console.log(`test/firmware/mcsim-powercut.test.ts skipped: ${missing}`);
  test.skip(`${TITLE} (no Moddable SDK: set MODDABLE)`, () => {});
} else {
  const sdk = found as Sdk;
  const ctx = { gatewayLogs: [] as string[] } as { gatewayLogs: string[]; grid: GridDir; port: number; gw?: ChildGateway; sim?: Mcsim; mcso: string; meterDir: string; auth: Record<string, string> };
  const startGateway = async () => {
    ctx.gw = await startChildGateway(ctx.grid.dir, ['--mqtt-port', String(ctx.port)]);
  };
  const stopGateway = async () => {
    ctx.gatewayLogs.push(ctx.gw?.output() ?? '');
    await ctx.gw?.kill();
    ctx.gw = undefined;
  };

  test.before(async (t) => {
    t.timeout(10 * 60_000, 'a cold mcconfig build takes ~2 min on two cores');
    const fw = await gridWithFirmware(sdk, PORTS, { readingPeriodMs: READING_PERIOD_MS, simPowerW: SIM_POWER_W, persistEveryWh: 2 });
    ctx.grid = fw.grid;
    ctx.auth = fw.auth;
    ctx.port = fw.port;
    t.log(`firmware ${fw.cached ? 'from the cache' : 'built'}: ${fw.mcso}`);
    ctx.mcso = fw.mcso;
    ctx.meterDir = tempDir('helios-mcsim-cut-');
  });

  let releaseMcsim: (() => void) | undefined;
  test.after.always(async () => {
    if (ctx.sim) await powerCut(ctx.sim).catch(() => ctx.sim?.stop());
    await stopGateway();
    releaseMcsim?.();
  });

  test(TITLE, async (t) => {
    t.timeout(15 * 60_000);
    releaseMcsim = await exclusive('mcsim'); // one firmware meter in mcsim at a time (test/helpers/exclusive.ts)
    const seed = Number(process.env.HELIOS_CUT_SEED ?? Date.now() % 1_000_000);
    t.log(`seed ${seed} (replay: HELIOS_CUT_SEED=${seed})`);
    console.log(`test/firmware/mcsim-powercut.test.ts: seed ${seed} (replay with HELIOS_CUT_SEED=${seed})`);
    const random = rng(seed);
    const flash = new LinFlash(ctx.meterDir);
    const readings = async (meter: string): Promise<StoredReading[]> => {
      if (!ctx.gw) return [];
      const r = await http<StoredReading[]>(`${ctx.gw.url}/api/meters/${meter}/readings?signed=true&limit=10000`, 'GET', undefined, ctx.auth);
      return r.status === 200 ? r.body : [];
    };
    const boot = async (): Promise<{ meter: string; publicKey: string; newKey: boolean; from: number }> => {
      ctx.sim = startMcsim(sdk, ctx.mcso, ctx.meterDir);
      const m = await ctx.sim.waitFor(/meter ([0-9a-f]{32}) public key (\S+?)( \(new key made on this device\))?\n/, 30_000);
      return { meter: m[1], publicKey: m[2], newKey: !!m[3], from: ctx.sim.output().length };
    };

    // Commissioning: a new meter, enrolled without a relay (the supply is not switched, so the import register counts).
    await startGateway();
    const first = await boot();
    t.true(first.newKey);
    const { meter, publicKey } = first;
    await until('the meter\'s Hello', async () => (await http<Array<{ meter: string }>>(`${ctx.gw!.url}/api/meters/pending`)).body.some((p) => p.meter === meter), 30_000);
    const asad = ctx.grid.households.find((h) => h.email === 'asad@example.org')!;
    await promisify(execFile)(process.execPath, [heliosBin, 'meter', 'enroll', '--data', ctx.grid.dir, '--meter', meter, '--public-key', publicKey,
      '--participant', asad.email, '--installer', 'R. Khan', '--location', 'mcsim', '--pulses-per-kwh', '1000', '--relay', 'no']);
    await ctx.sim!.waitFor(/enrolled for asad@example\.org/, 30_000);
    await until('two stored readings', async () => (await readings(meter)).length >= 2, 30_000);

    const damages: Damage[] = ['cut newer state', 'remove a state slot', 'cut an outbox entry', 'remove an outbox entry', 'stray .new', 'cut enrolment', 'remove enrolment'];
    const plans = ([
      { damage: 'none', gatewayDown: false },
      { damage: 'none', gatewayDown: true },
      ...damages.map((damage): Plan => ({ damage, gatewayDown: damage.includes('outbox') || random() < 0.3 })),
      { damage: 'none', gatewayDown: random() < 0.5 },
    ] as Plan[]).slice(0, Number(process.env.HELIOS_CUTS ?? Infinity)); // HELIOS_CUTS=n: only the first n (to chase a failure)
    const ids = [meter];
    const keys = [publicKey];
    const newKeys: number[] = [];
    /** Per cut: what was done, and the readings the flash held as made and unacknowledged once it was done. */
    const cuts: Array<{ what: string; pending: number[] }> = [];
    /** Readings durable at one cut whose copy a later damage destroyed before they were delivered. */
    const destroyed = new Map<number, string>();
    /** The meter's console, a string per run. */
    const consoles: string[] = [];
    /** Every reading record seen in the flash at a cut, by seq (to find a seq that stood for two readings). */
    const held = new Map<number, Set<string>>();
    const fingerprint = (r: { t: number; importMWh: number; exportMWh: number }) => `${r.t}/${r.importMWh}/${r.exportMWh}`;

    for (const [i, plan] of plans.entries()) {
      if (plan.gatewayDown) {
        await stopGateway();
        await sleep(1500 + random() * 3000); // readings go into the outbox
      } else {
        await sleep(200 + random() * 4000); // anywhere in the meter's life, the first moments after boot included
      }
      consoles.push(ctx.sim!.output());
      await powerCut(ctx.sim!);
      ctx.sim = undefined;
      const pre = durableReadings(flash, OUTBOX_MAX).pending.map((r) => r.seq);
      const what = applyDamage(flash, plan.damage, random);
      const d = durableReadings(flash, OUTBOX_MAX);
      // A reading whose only copy the damage destroyed is durable no more (its energy rides in the registers).
      for (const seq of pre) if (!d.pending.some((r) => r.seq === seq)) destroyed.set(seq, `cut ${i + 1}: ${what}`);
      for (const r of d.all) (held.get(r.seq) ?? held.set(r.seq, new Set()).get(r.seq)!).add(fingerprint(r));
      cuts.push({ what: `cut ${i + 1}${plan.gatewayDown ? ' (gateway down)' : ''}: ${what}`, pending: d.pending.map((r) => r.seq) });
      if (!ctx.gw) await startGateway();
      const b = await boot();
      ids.push(b.meter);
      keys.push(b.publicKey);
      if (b.newKey) newKeys.push(i + 1);
    }
    t.log(cuts.map((c) => `${c.what}; durable unacknowledged: ${c.pending.length ? c.pending.join(' ') : 'none'}`).join('\n'));
    if (destroyed.size) t.log(`readings whose only copy was damaged: ${[...destroyed].map(([seq, how]) => `${seq} (${how})`).join(', ')}`);

    // Last: both state records destroyed during an outage, readings waiting in the outbox ring — the meter
    // says so, restores from the gateway's copy and the ring, and runs on.
    await stopGateway();
    await sleep(2500 + random() * 2000);
    await powerCut(ctx.sim!);
    ctx.sim = undefined;
    const beforeLoss = durableReadings(flash, OUTBOX_MAX);
    for (const r of beforeLoss.all) (held.get(r.seq) ?? held.set(r.seq, new Set()).get(r.seq)!).add(fingerprint(r));
    flash.remove('state0');
    flash.cut('state1', 0);
    // What survived: the ring's readings (and the gateway's copy); the newest reading went with the state records.
    const heldImport = Math.max(0, ...durableReadings(flash, OUTBOX_MAX).all.map((r) => r.importMWh));
    // The newest reading lived only in the state records; the ring's entries are still durable.
    cuts.push({ what: 'both state records destroyed (gateway down)', pending: beforeLoss.pending.slice(0, -1).map((r) => r.seq) });
    await startGateway();
    const lost = await boot();
    ids.push(lost.meter);
    keys.push(lost.publicKey);
    const stateLost = await ctx.sim!.waitFor(/E_STATE_LOST [^\n]*/, 30_000);
    const restored = await ctx.sim!.waitFor(/restored from the gateway's copy: seq (\d+), import (\d+) mWh[^\n]*/, 60_000, lost.from);
    t.log(`${stateLost[0]}\n${restored[0]}`);
    t.true(Number(restored[1]) >= beforeLoss.ackSeq, `restored at seq ${restored[1]}, at or above the last acknowledged ${beforeLoss.ackSeq}`);
    t.true(Number(restored[2]) >= heldImport, `restored import ${restored[2]} mWh, not below the ${heldImport} mWh the outbox ring still held`);

    // The end: enrolled, running, its readings stored again and its outbox drained.
    const lastDurable = Math.max(...cuts.flatMap((c) => c.pending), beforeLoss.ackSeq);
    const all = await until('readings after the restore stored', async () => {
      const rs = await readings(meter);
      return rs.some((r) => r.seq > Number(restored[1]) + 1) ? rs : undefined;
    }, 60_000);
    const status = await http<{ status: { state: string; fault: string | null } }>(`${ctx.gw!.url}/api/meters/${meter}`, 'GET', undefined, ctx.auth);
    t.is(status.body.status.state, 'online', JSON.stringify(status.body.status));
    t.falsy(status.body.status.fault, 'no fault left once restored');
    // A boot after the certificate was lost (and before the gateway sent it again) says "not enrolled"; the certificate must follow.
    const out = ctx.sim!.output();
    const notEnrolled = out.lastIndexOf('not enrolled: helios meter enroll');
    t.true(notEnrolled < 0 || out.indexOf('enrolled for asad@example.org', notEnrolled) > 0, 'enrolled at the end');

    // The same meter at every boot.
    t.deepEqual([...new Set(ids)], [meter], 'the same meter id at every boot');
    t.deepEqual([...new Set(keys)], [publicKey], 'the same key at every boot');
    t.deepEqual(newKeys, [], 'no boot made a new key');

    // Every stored reading verifies; registers never lower; one seq, one reading.
    const stored = [...all].sort((a, b) => a.seq - b.seq);
    t.deepEqual(stored.filter((r) => !verifyBody(r.signed, publicKey) || r.signed.body.meter !== meter).map((r) => r.seq), [], 'stored readings that do not verify with the meter\'s key');
    t.deepEqual(stored.filter((r, i) => i > 0 && (r.importMWh < stored[i - 1].importMWh || r.exportMWh < stored[i - 1].exportMWh)).map((r) => r.seq), [], 'stored readings with registers below an earlier one\'s');
    t.true(stored[stored.length - 1].importMWh > stored[0].importMWh, 'energy was counted across the cuts');
    t.is(new Set(stored.map((r) => r.seq)).size, stored.length, 'each seq stored once');
    for (const r of stored) (held.get(r.seq) ?? held.set(r.seq, new Set()).get(r.seq)!).add(fingerprint(r.signed.body));
    t.deepEqual([...held].filter(([, v]) => v.size > 1).map(([seq, v]) => `${seq}: ${[...v].join(' vs ')}`), [], 'sequence numbers that stood for two different readings');
    const metrics = await (await fetch(`${ctx.gw!.url}/metrics`, { headers: ctx.auth })).text();
    t.notRegex(metrics, /helios_readings_rejected_total\{[^}]*E_REGISTER_DECREASED[^}]*\} [1-9]/, 'the gateway refused no reading for decreasing registers');
    // Each gateway run counts afresh: its log says every refusal (once a minute per meter and code).
    t.deepEqual([...ctx.gatewayLogs, ctx.gw!.output()].flatMap((l) => l.split('\n')).filter((l) => l.includes('E_REGISTER_DECREASED')), [], 'no gateway run refused a reading for decreasing registers');

    // Every reading the flash held as made and unacknowledged at a cut was stored (exactly once: seq is unique above).
    const storedSeqs = new Set(stored.map((r) => r.seq));
    t.log(`stored: ${stored.map((r) => r.seq).join(' ')}\n${metrics.split('\n').filter((l) => l.startsWith('helios_readings_rejected_total')).join('\n')}`);
    if (process.env.HELIOS_CUT_CONSOLE) t.log(consoles.map((c, i) => `── run ${i + 1}\n${c.split('\n').filter((l) => !l.startsWith('instruments') && !l.endsWith('throw!')).join('\n')}`).join('\n'));
    t.deepEqual(cuts.flatMap((c) => c.pending.filter((s) => !storedSeqs.has(s) && !destroyed.has(s)).map((s) => `${s} (${c.what})`)), [], 'durable readings the gateway never stored');
    t.true(storedSeqs.has(lastDurable) || lastDurable === 0);
    t.true(cuts.some((c) => c.pending.length >= 2), `an outage left several readings durable in the outbox: ${JSON.stringify(cuts.map((c) => c.pending.length))}`);
  });
}

/** Damage the flash as a cut mid-write would; says what it did. */
function applyDamage(flash: LinFlash, damage: Damage, random: () => number): string {
  const keys = flash.keys();
  const pick = <T>(xs: T[]): T | undefined => (xs.length ? xs[Math.floor(random() * xs.length)] : undefined);
  const newerState = (): string | undefined => {
    const d = ['state0', 'state1'].filter((k) => keys.includes(k));
    if (d.length < 2) return d[0];
    const gen = (k: string) => decodeSlot(flash.get(DOMAIN, k))?.generation ?? -1;
    return gen('state0') > gen('state1') ? 'state0' : 'state1';
  };
  // Outbox entries holding unacknowledged readings first: those are the ones whose loss would matter.
  const outboxEntry = (): string | undefined => {
    const d = durableReadings(flash, OUTBOX_MAX);
    const pendingKeys = d.pending.map((r: ReadingRecord) => `ob${r.seq % OUTBOX_MAX}`).filter((k) => keys.includes(k));
    return pick(pendingKeys) ?? pick(keys.filter((k) => /^ob\d+$/.test(k)));
  };
  const size = (k: string) => {
    const v = flash.get(DOMAIN, k);
    return typeof v === 'string' ? v.length + 1 : v instanceof ArrayBuffer ? v.byteLength + 1 : 5;
  };
  switch (damage) {
    case 'none':
      return 'kill -9 only';
    case 'cut newer state': {
      const k = newerState();
      if (!k) return 'no state record to cut';
      const keep = Math.floor(random() * size(k));
      flash.cut(k, keep);
      return `${k} cut to ${keep} bytes`;
    }
    case 'remove a state slot': {
      const k = pick(['state0', 'state1'].filter((x) => keys.includes(x)));
      if (!k) return 'no state record to remove';
      flash.remove(k);
      return `${k} removed`;
    }
    case 'cut an outbox entry': {
      const k = outboxEntry();
      if (!k) return 'no outbox entry to cut';
      const keep = Math.floor(random() * size(k));
      flash.cut(k, keep);
      return `${k} cut to ${keep} bytes`;
    }
    case 'remove an outbox entry': {
      const k = outboxEntry();
      if (!k) return 'no outbox entry to remove';
      flash.remove(k);
      return `${k} removed`;
    }
    case 'stray .new': {
      const k = pick(['state0', 'state1', 'enrol', ...keys.filter((x) => /^ob\d+$/.test(x))].filter((x) => keys.includes(x)))!;
      flash.strayNew(k, new Uint8Array([0x78, 0x48, 0x4c, 0x53]));
      return `${k}.new left half-written`;
    }
    case 'cut enrolment': {
      const keep = Math.floor(random() * size('enrol'));
      flash.cut('enrol', keep);
      return `enrol cut to ${keep} bytes`;
    }
    case 'remove enrolment':
      flash.remove('enrol');
      return 'enrol removed';
  }
}
