/**
 * `helios meter run` and `helios meter wait`: one virtual meter for one household,
 * running the real firmware core (firmware/core on firmware/platform/node) against
 * a running gateway — the single-meter path of the README's market walkthrough and
 * of docs/installing-a-meter.md where no ESP32 is at hand.
 *
 * The meter keeps its key and registers in its own directory (preferences/, a file per record,
 * the ESP32's flash), prints what an installer or a household watches — its
 * console, then a line per reading: registers, power, relay, credit — and keeps
 * DIR/status.json up to date so `helios meter wait` (or a script) can follow it.
 * It talks to the gateway over MQTT like a device; enrolment (--enroll) goes through
 * the operator's HTTP API, exactly as `helios meter enroll`.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { anchoredClock, systemClock, type Clock } from '../protocol/index.ts';
import { createNodeMeter, ProfileEnergySource } from '../firmware/platform/node/index.ts';
import { dataPaths, readRunInfo } from '../gateway/config.ts';

export const help = `
helios meter run — one virtual meter for one household, with the real firmware core

Usage: helios meter run --dir DIR [--data GRID] [--power W | --export W] [--enroll EMAIL]
                        [--location TEXT] [--minutes N]

  --dir DIR        the meter's own directory: its key and registers (preferences/,
                   as on the ESP32's flash) and status.json. A new directory makes a new meter.
  --data GRID      the grid's data directory, whose running gateway the meter connects
                   to over MQTT, on the gateway's clock (default ./data)
  --power W        the household's load while its relay is closed, drawn from the grid
                   (import), in watts (default 0)
  --export W       a PV surplus fed into the grid instead (export), in watts
  --enroll EMAIL   enrol the meter for that household as soon as it has said Hello
                   (the installer's "helios meter enroll", with the operator secret of GRID);
                   without it the meter waits for an installer, as a new device does
  --location TEXT  where it is, for the enrolment (default "virtual meter")
  --minutes N      stop after N minutes on the gateway's clock (default: until Ctrl-C)

It prints the meter's console (its id and public key first), then a line per
reading: import and export registers, power, relay, credit. Relay switches and
credit tokens show as they happen.

helios meter wait — wait until a meter run in DIR gets somewhere

Usage: helios meter wait --dir DIR --for hello|enrolled|credit-used [--data GRID] [--timeout S]

  hello        connected and said Hello (the gateway of GRID lists it in "helios meter pending")
  enrolled     enrolled and online: its readings count
  credit-used  credit came, the relay closed, and it is open again (credit used or expired);
               the registers shown are from a reading after that

Prints the meter's state when it is there; exits 1 after --timeout seconds (default 60).

helios meter id --dir DIR [--public-key]
  The id (or the public key) of the meter run in DIR: what a device prints on its
  console and the installer writes on its label, for "helios meter enroll".
`;

export interface MeterStatus {
  meter: string;
  publicKey: string;
  grid: string;
  enrolled: boolean;
  session: string;
  /** The gateway's clock, ms. */
  t: number;
  relay: 'open' | 'closed';
  importMWh: number;
  exportMWh: number;
  powerW: number;
  creditMWh: number;
  seq: number;
  /** When the meter took its latest reading (the gateway's clock, ms); 0 before the first. */
  readingAt: number;
  /** Relay switches since this run started, oldest first (closed = supplied). */
  relayHistory: Array<{ t: number; closed: boolean }>;
  stopped?: boolean;
}

const kwh = (mWh: number) => `${(mWh / 1_000_000).toFixed(6).replace(/\.?0+$/, '')} kWh`;
const hms = (t: number) => new Date(t).toISOString().slice(11, 19);
/** The core logs energy in mWh; the household reads kWh, as the CLI takes it. */
const inKWh = (s: string) => s.replace(/\b(\d+) mWh\b/g, (_, n: string) => kwh(Number(n)));

function statusLine(s: MeterStatus): string {
  return `import ${kwh(s.importMWh)}  export ${kwh(s.exportMWh)}  ${s.powerW} W  relay ${s.relay}  credit ${kwh(s.creditMWh)}`;
}

function writeStatus(dir: string, s: MeterStatus): void {
  const file = join(dir, 'status.json');
  writeFileSync(file + '.tmp', JSON.stringify(s, null, 2) + '\n');
  renameSync(file + '.tmp', file);
}

class Usage extends Error {}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    if (sub === 'run') return await runMeter(rest);
    if (sub === 'wait') return await waitFor(rest);
    if (sub === 'id') return meterId(rest);
    throw new Usage(`unknown command "${sub}"`);
  } catch (e) {
    if (e instanceof Usage) {
      process.stderr.write(`helios: ${e.message}\n\n${help.trimEnd()}\n`);
      return 2;
    }
    process.stderr.write(`helios: ${(e as Error).message}\n`);
    return 1;
  }
}

function options(argv: string[]) {
  const neg = argv.findIndex((a, i) => argv[i - 1] === '--power' && /^-\d/.test(a));
  if (neg > 0) throw new Usage(`--power is the household's load, drawn from the grid; for a PV surplus fed into it say --export ${argv[neg].slice(1)}`);
  try {
    return parseArgs({
      args: argv, strict: true, options: {
        dir: { type: 'string' }, data: { type: 'string', default: 'data' }, power: { type: 'string' }, export: { type: 'string' }, enroll: { type: 'string' },
        location: { type: 'string', default: 'virtual meter' }, 'public-key': { type: 'boolean', default: false }, minutes: { type: 'string' }, for: { type: 'string' }, timeout: { type: 'string', default: '60' },
      },
    }).values;
  } catch (e) {
    throw new Usage((e as Error).message);
  }
}

async function runMeter(argv: string[]): Promise<number> {
  const v = options(argv);
  if (!v.dir) throw new Usage('--dir DIR is required: the meter\'s own directory (its key and registers live there)');
  if (v.power !== undefined && v.export !== undefined) throw new Usage('give --power (a load, imported) or --export (a PV surplus), not both');
  const watts = (name: string, s: string | undefined) => {
    const w = Number(s ?? '0');
    if (!Number.isFinite(w) || w < 0 || w > 1_000_000) throw new Usage(`--${name} must be watts, 0…1000000 (e.g. 19), got ${s}`);
    return w;
  };
  // The core's sign convention: + imports, − exports.
  const power = v.export !== undefined ? -watts('export', v.export) : watts('power', v.power);
  const minutes = v.minutes === undefined ? undefined : Number(v.minutes);
  if (minutes !== undefined && !(minutes > 0)) throw new Usage(`--minutes must be a positive number, got ${v.minutes}`);
  const paths = dataPaths(v.data);
  const info = readRunInfo(paths);
  if (!info) throw new Usage(`no running gateway found for ${paths.dir} (no run/gateway.json). Start one with "helios gateway --data ${paths.dir}", or pass --data GRID`);
  if (!info.mqtt) throw new Usage(`the gateway for ${paths.dir} has no plain MQTT listener (--mqtt-port off); a virtual meter connects over mqtt://`);
  let operator: string | undefined;
  if (v.enroll) {
    operator = process.env.HELIOS_OPERATOR_SECRET || (existsSync(paths.operatorSecret) ? readFileSync(paths.operatorSecret, 'utf8').trim() : undefined);
    if (!operator) throw new Usage(`--enroll needs the operator secret: set HELIOS_OPERATOR_SECRET or keep it in ${paths.operatorSecret}`);
  }
  // The gateway's clock: an accelerated demo grid runs its meters on the same one.
  const clock: Clock = info.clock ? anchoredClock(systemClock(), info.clock.speed, info.clock.start, info.clock.anchor) : systemClock();
  const dir = resolve(v.dir);
  mkdirSync(dir, { recursive: true });
  const out = (line: string) => process.stdout.write(`${hms(clock.now())}  ${line}\n`);
  const node = createNodeMeter({
    grid: info.grid, brokerUrl: info.mqtt, dataDir: dir, clock,
    // A load is cut off with the relay; PV export is not (the relay sits on the supply side, not the inverter's).
    ...(power < 0 ? { energy: new ProfileEnergySource({ power, startMs: clock.now() }) } : { power }),
    log: { log: (_level, message) => out(inKWh(message)) },
  });
  const m = node.meter;
  let readingAt = 0;
  let lastSeq = m.snapshot().seq;
  const status = (): MeterStatus => {
    const s = m.snapshot();
    return {
      meter: m.meterId, publicKey: m.publicKey, grid: info.grid, enrolled: s.enrolled, session: s.session, t: clock.now(), relay: s.relay,
      importMWh: s.importMWh, exportMWh: s.exportMWh, powerW: s.powerW, creditMWh: s.creditMWh, seq: s.seq, readingAt, relayHistory: [...node.relay.history],
    };
  };
  let last = status();
  writeStatus(dir, last);
  node.start();

  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const until = minutes !== undefined ? clock.now() + minutes * 60_000 : Infinity;

  let enrolling = false;
  const enroll = async () => {
    enrolling = true;
    try {
      for (;;) {
        if (stop.signal.aborted) return;
        const pending = await (await fetch(info.http + '/api/meters/pending')).json() as Array<{ meter: string }>;
        if (pending.some((p) => p.meter === m.meterId)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const res = await fetch(info.http + '/api/authority/tx?wait=commit', {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${operator}` },
        body: JSON.stringify({ type: 'EnrollMeter', meter: m.meterId, publicKey: m.publicKey, participant: v.enroll!.toLowerCase(), installer: 'helios meter run', location: v.location, pulsesPerKWh: 1000, relay: true }),
      });
      const body = await res.json() as { code?: string; message?: string; height?: number };
      if (!res.ok) {
        out(`enrolment refused: ${body.code}: ${body.message}`);
        stop.abort();
        process.exitCode = 1;
      } else out(`enrolment for ${v.enroll} is in block ${body.height}`);
    } catch (e) {
      out(`enrolment failed: ${(e as Error).message}`);
    }
  };

  while (!stop.signal.aborted && clock.now() < until) {
    const seq = m.snapshot().seq;
    if (seq !== lastSeq) [lastSeq, readingAt] = [seq, clock.now()];
    const s = status();
    if (operator && !enrolling && !s.enrolled) void enroll();
    // A line per reading, and whenever the relay switches.
    if (s.seq !== last.seq || s.relay !== last.relay) out(statusLine(s));
    if (JSON.stringify({ ...s, t: 0 }) !== JSON.stringify({ ...last, t: 0 })) writeStatus(dir, s);
    last = s;
    await new Promise((r) => setTimeout(r, 50));
  }
  node.stop();
  writeStatus(dir, { ...status(), stopped: true });
  out(`stopped: ${statusLine(status())}`);
  return process.exitCode === 1 ? 1 : 0;
}

function readStatus(dir: string): MeterStatus | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8')) as MeterStatus;
  } catch {
    return undefined;
  }
}

/** The last time the relay closed and then opened again, if it has. */
function lastCycle(s: MeterStatus): { closed: number; opened: number } | undefined {
  const h = s.relayHistory;
  for (let i = h.length - 1; i > 0; i--) {
    if (!h[i].closed && h[i - 1].closed) return { closed: h[i - 1].t, opened: h[i].t };
  }
  return undefined;
}

/** Whether the gateway for the grid in `data` lists the meter as waiting for enrolment (true when no gateway can be asked). */
async function pendingAt(data: string, meter: string): Promise<boolean> {
  const info = readRunInfo(dataPaths(data));
  if (!info) return true;
  try {
    const pending = await (await fetch(info.http + '/api/meters/pending')).json() as Array<{ meter: string }>;
    return pending.some((p) => p.meter === meter);
  } catch {
    return false;
  }
}

function meterId(argv: string[]): number {
  const v = options(argv);
  if (!v.dir) throw new Usage('--dir DIR is required: the directory of a "helios meter run"');
  const s = readStatus(resolve(v.dir));
  if (!s) throw new Error(`no meter in ${resolve(v.dir)} (no status.json): start it with "helios meter run --dir ${v.dir}"`);
  process.stdout.write((v['public-key'] ? s.publicKey : s.meter) + '\n');
  return 0;
}

async function waitFor(argv: string[]): Promise<number> {
  const v = options(argv);
  if (!v.dir) throw new Usage('--dir DIR is required: the directory of a "helios meter run"');
  const what = v.for;
  if (what !== 'hello' && what !== 'enrolled' && what !== 'credit-used') throw new Usage(`--for must be hello, enrolled or credit-used, got ${what ?? 'nothing'}`);
  const timeout = Number(v.timeout);
  if (!(timeout > 0)) throw new Usage(`--timeout must be a positive number of seconds, got ${v.timeout}`);
  const dir = resolve(v.dir);
  const end = Date.now() + timeout * 1000;
  for (;;) {
    const s = readStatus(dir);
    const online = s?.session === 'online';
    const cycle = s && lastCycle(s);
    // Said Hello: the gateway lists it as pending (or it is enrolled already).
    const heard = what !== 'hello' || !s || s.enrolled || await pendingAt(v.data!, s.meter);
    // credit-used: the registers shown are a reading's taken after the relay opened again.
    const there = s && heard && (what === 'hello' ? online : what === 'enrolled' ? online && s.enrolled : cycle !== undefined && s.relay === 'open' && s.readingAt > cycle.opened);
    if (s && there) {
      const lines = [`meter ${s.meter}: ${s.enrolled ? 'enrolled' : 'waiting for enrolment'}, ${s.session}`];
      if (what === 'hello') lines.push(`public key ${s.publicKey}`);
      if (cycle) lines.push(`relay closed at ${hms(cycle.closed)}, open again at ${hms(cycle.opened)} (${Math.round((cycle.opened - cycle.closed) / 1000)} s)`);
      lines.push(statusLine(s));
      process.stdout.write(lines.join('\n') + '\n');
      return 0;
    }
    if (s?.stopped) {
      process.stderr.write(`helios: the meter in ${dir} has stopped before it was ${what}\n`);
      return 1;
    }
    if (Date.now() > end) {
      process.stderr.write(`helios: E_TIMEOUT: the meter in ${dir} is not ${what} after ${timeout} s${s ? ` (${s.enrolled ? 'enrolled' : 'not enrolled'}, ${s.session}, relay ${s.relay})` : ' (no status.json: is "helios meter run --dir ' + v.dir + '" running?)'}; raise --timeout or look at its console\n`);
      return 1;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
