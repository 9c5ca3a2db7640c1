/**
 * The real meter firmware without an ESP32: manifest.json built for the Moddable
 * Linux host (`mcconfig -d -m -t build -p lin`) with a grid's settings, and the built
 * `mc.so` run in the SDK's simulator `mcsim` under a virtual X server (xvfb-run).
 * Used by `helios meter sim` and by test/firmware/mcsim.test.ts.
 *
 * A first build takes ~1.5 min on two cores, so builds are cached by a hash of
 * everything that goes into one (manifest, firmware, protocol, the settings, the SDK
 * and compiler versions) in the system's temporary directory. The settings are
 * compiled into the firmware (mc/config), as on a device; a build with other settings
 * of the same sources takes seconds (buildLinFirmware).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tryLock } from '../shared/dirLock.ts';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** Debian packages a lin build and an mcsim run need (docs/installing-a-meter.md). */
export const DEBIAN_PACKAGES = ['gcc', 'make', 'pkg-config', 'libglib2.0-dev', 'libgtk-3-0', 'xvfb', 'xauth'];

export interface Sdk {
  /** $MODDABLE */
  root: string;
  /** build/bin/lin/release: mcconfig, mcsim, xsc, xsl. */
  bin: string;
}

/** The Moddable SDK named by $MODDABLE, or why there is none usable, in words an installer can act on. */
export function findSdk(env: NodeJS.ProcessEnv = process.env): Sdk | { missing: string } {
  const how = 'Install the Moddable SDK 8.2 with its Linux host tools (its "Getting Started" for Linux) and set MODDABLE to it; ' +
    `in this project's CI checkout: export MODDABLE=$PWD/../shared/moddable. The build and mcsim also need the Debian packages ${DEBIAN_PACKAGES.join(' ')}.`;
  if (!env.MODDABLE) return { missing: `MODDABLE is not set. ${how}` };
  const root = resolve(env.MODDABLE);
  const bin = join(root, 'build/bin/lin/release');
  for (const tool of ['mcconfig', 'mcsim']) {
    if (!existsSync(join(bin, tool))) return { missing: `MODDABLE=${root} has no ${join('build/bin/lin/release', tool)}. ${how}` };
  }
  const xvfb = spawnSync('sh', ['-c', 'command -v xvfb-run && command -v make && command -v gcc'], { encoding: 'utf8' });
  if (xvfb.status !== 0) return { missing: `xvfb-run, make or gcc is not installed. ${how}` };
  return { root, bin };
}

/** Settings compiled into the firmware (manifest.json "config"; values as on the mcconfig command line). */
export type FirmwareSettings = Record<string, string | number | boolean>;

function filesUnder(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) filesUnder(p, out);
    else out.push(p);
  }
  return out;
}

/** A Moddable app built for lin: its manifest, the NAME it builds under, and every file and folder it is made from. */
export interface LinApp {
  manifest: string;
  name: string;
  inputs: string[];
  /** What its work directory and lock are called, when two apps build under one NAME (default: name). */
  id?: string;
}

/** The meter firmware: manifest.json at the root. */
export const firmwareApp: LinApp = {
  manifest: join(repoRoot, 'manifest.json'),
  name: 'helios-meter',
  inputs: ['manifest.json', 'firmware/core', 'firmware/platform/moddable', 'protocol'].map((p) => join(repoRoot, p)),
};

/** A hash of an app's sources (its inputs, the packages tsc reads, the SDK), without the settings. */
function sourceHash(sdk: Sdk, app: LinApp): string {
  const h = createHash('sha256');
  const files = app.inputs.flatMap((p) => (statSync(p).isDirectory() ? filesUnder(p) : [p]));
  for (const f of files) h.update(relative(repoRoot, f)).update('\0').update(readFileSync(f)).update('\0');
  // protocol/primitives.ts (noble) is type-checked by mcconfig's tsc even where the build swaps it out.
  for (const pkg of ['@noble/curves', '@noble/hashes', 'typescript']) h.update(readFileSync(join(repoRoot, 'node_modules', pkg, 'package.json')));
  h.update(sdk.root).update(String(statSync(join(sdk.bin, 'mcconfig')).mtimeMs));
  return h.digest('hex').slice(0, 24);
}

/** A hash of every input of a lin build of the firmware (or `app`) with these settings. */
export function firmwareHash(sdk: Sdk, settings: FirmwareSettings, app: LinApp = firmwareApp): string {
  return createHash('sha256').update(sourceHash(sdk, app))
    .update(JSON.stringify(Object.entries(settings).sort(([a], [b]) => a.localeCompare(b)))).digest('hex').slice(0, 24);
}

export interface BuildResult {
  /** The built firmware for mcsim. */
  mcso: string;
  /** Whether it came from the cache. */
  cached: boolean;
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Hold the lock `dir` while `fn` runs: builds of one app share a work directory, and
 * processes (test files run side by side, `helios meter sim`) take turns in it.
 */
function locked<T>(dir: string, fn: () => T): T {
  const end = Date.now() + 20 * 60_000;
  let lock = tryLock(dir);
  while (!('release' in lock)) {
    if (Date.now() > end) throw new Error(`waited 20 min for the build lock ${dir} (held by pid ${lock.heldBy})`);
    sleep(250);
    lock = tryLock(dir);
  }
  try {
    return fn();
  } finally {
    lock.release();
  }
}

/**
 * Build an app (the firmware by default) for lin with these settings, or take it from the
 * cache. The SDK is used read-only: mcconfig writes only under the cache directory (-o).
 *
 * The settings are compiled into the app (mc/config), so each set of settings is its own
 * build; but builds of the same sources share one work directory, where make rebuilds only
 * what the settings change (~2 s, against ~100 s for the SDK's C and the TypeScript).
 */
export function buildLinFirmware(sdk: Sdk, settings: FirmwareSettings, opts: { cacheDir?: string; log?: (line: string) => void; app?: LinApp } = {}): BuildResult {
  const app = opts.app ?? firmwareApp;
  const cache = opts.cacheDir ?? join(tmpdir(), 'helios-firmware');
  const mcso = join(cache, firmwareHash(sdk, settings, app), 'mc.so');
  if (existsSync(mcso)) return { mcso, cached: true };
  mkdirSync(cache, { recursive: true });
  const id = app.id ?? app.name;
  return locked(join(cache, `${id}.lock`), () => {
    if (existsSync(mcso)) return { mcso, cached: true }; // built while this waited
    const work = join(cache, `work-${id}-${sourceHash(sdk, app)}`);
    // Work directories of older sources go (one app's is ~26 MB).
    for (const old of readdirSync(cache)) if (/^work-(.+)-[0-9a-f]{24}$/.exec(old)?.[1] === id && join(cache, old) !== work) rmSync(join(cache, old), { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    // `-t build`: the SDK's debug makefile for lin (tools/mcconfig/make.lin.mk) otherwise ends every build
    // with `pkill mcsim` and starts the new app in one: it would end every other meter running in mcsim on
    // this machine (another test's, an installer's `helios meter sim`) with a SIGTERM.
    const args = ['-d', '-m', '-t', 'build', '-p', 'lin', '-o', work, app.manifest, ...Object.entries(settings).map(([k, v]) => `${k}=${v}`)];
    opts.log?.(`mcconfig ${args.join(' ')}`);
    const r = spawnSync(join(sdk.bin, 'mcconfig'), args, {
      cwd: dirname(app.manifest),
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      // mcconfig compiles the .ts modules with the tsc on PATH (TypeScript >= 6: this project's).
      env: { ...process.env, MODDABLE: sdk.root, PATH: `${sdk.bin}:${join(repoRoot, 'node_modules/.bin')}:${process.env.PATH}` },
    });
    const built = join(work, 'bin/lin/mc/debug', app.name, 'mc.so');
    if (r.status !== 0 || !existsSync(built)) {
      const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').slice(-40).join('\n');
      throw new Error(`mcconfig failed (exit ${r.status}${r.error ? `, ${r.error.message}` : ''}):\n${out}`);
    }
    mkdirSync(dirname(mcso), { recursive: true });
    copyFileSync(built, `${mcso}.new`);
    renameSync(`${mcso}.new`, mcso);
    return { mcso, cached: false };
  });
}

export interface Mcsim {
  child: ChildProcess;
  /** Everything the firmware printed so far (trace), with mcsim's own lines. */
  output(): string;
  /** Wait until the output after `from` (a length of output()) matches; returns the match. */
  waitFor(re: RegExp, timeoutMs: number, from?: number): Promise<RegExpMatchArray>;
  /** Stop it (SIGTERM to the process group xvfb-run leads) and wait for it to exit. */
  stop(): Promise<void>;
}

/**
 * xvfb-run's arguments for an X server of its own. `xvfb-run -a` takes the first display
 * without a lock file, so two mcsims started at once (the test suite runs files side by
 * side) can pick the same one; the first to stop then takes the other's X server down.
 * A random display number among those without a lock avoids that.
 */
export function xvfbServer(): string[] {
  for (;;) {
    const n = 200 + Math.floor(Math.random() * 30_000);
    if (!existsSync(`/tmp/.X${n}-lock`) && !existsSync(`/tmp/.X11-unix/X${n}`)) return [`--server-num=${n}`];
  }
}

/**
 * Run a built mc.so in mcsim under xvfb-run, in `cwd`: the Linux build keeps its
 * records (the meter's key, enrolment, state, outbox, credit) in `cwd`/helios/,
 * one file per record, as an ESP32 keeps them in NVS entries (lin/store.ts).
 */
export function startMcsim(sdk: Sdk, mcso: string, cwd: string, onLine?: (line: string) => void): Mcsim {
  mkdirSync(cwd, { recursive: true });
  // HELIOS_MCSIM_GDB=1 runs mcsim under gdb, which prints a backtrace if it crashes (SIGPIPE is mcsim's own business).
  const mcsim = process.env.HELIOS_MCSIM_GDB === '1'
    ? ['gdb', '-batch', '-ex', 'handle SIGPIPE nostop noprint pass', '-ex', 'run', '-ex', 'bt', '--args', join(sdk.bin, 'mcsim'), mcso]
    : [join(sdk.bin, 'mcsim'), mcso];
  const child = spawn('xvfb-run', [...xvfbServer(), 'stdbuf', '-o0', ...mcsim], { cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  let partial = '';
  const waiters = new Set<() => void>();
  const take = (d: Buffer) => {
    out += d.toString();
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop()!;
    if (onLine) for (const l of lines) onLine(l);
    for (const w of waiters) w();
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  const exited = new Promise<void>((r) => child.once('exit', () => {
    for (const w of waiters) w();
    r();
  }));
  return {
    child,
    output: () => out,
    waitFor(re, timeoutMs, from = 0) {
      return new Promise((resolveMatch, reject) => {
        const check = () => {
          const m = out.slice(from).match(re);
          if (m) {
            done();
            resolveMatch(m);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`mcsim exited (${child.exitCode ?? child.signalCode}) before printing ${re}:\n${out.slice(-3000)}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`mcsim did not print ${re} within ${timeoutMs} ms:\n${out.slice(-3000)}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid!, 'SIGTERM');
        } catch { /* gone already */ }
        const t = setTimeout(() => {
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch { /* gone */ }
        }, 5000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

export const simHelp = `
helios meter sim — the real meter firmware (manifest.json) in the Moddable simulator

Usage: helios meter sim [--data GRID] [--meter-dir DIR] [--power W] [--reading-period S]
                        [--broker-host H] [--broker-port P]

  --data GRID          the grid's data directory: its grid id and authority key
                       (genesis.json) and its running gateway's MQTT port (default ./data)
  --meter-dir DIR      where the meter keeps its preferences — its key, registers and
                       credit (DIR/helios/, a file per record: its flash); default ./mcsim-meter
  --power W            the simulated household's load while the relay is closed (default 500)
  --reading-period S   a signed reading every S seconds (default 60)
  --broker-host H      the broker the firmware connects to (default 127.0.0.1)
  --broker-port P      its port (default: the running gateway's MQTT port)

Builds the firmware for the Linux host with mcconfig and these settings (~2 min the
first time; cached by its inputs), then runs it in mcsim under xvfb-run and prints
its console. Enrol it with the "helios meter enroll" line it prints. Needs the
Moddable SDK (MODDABLE) and the Debian packages ${DEBIAN_PACKAGES.join(' ')}.
Stops on Ctrl-C; run it again with the same --meter-dir and the meter comes back
with its key, registers and credit.
`;

/** `helios meter sim`. */
export async function runSimCommand(argv: string[]): Promise<number> {
  const { parseArgs } = await import('node:util');
  const { dataPaths, readRunInfo } = await import('../gateway/config.ts');
  let v;
  try {
    v = parseArgs({
      args: argv, strict: true, options: {
        data: { type: 'string', default: 'data' }, 'meter-dir': { type: 'string', default: 'mcsim-meter' }, power: { type: 'string', default: '500' },
        'reading-period': { type: 'string', default: '60' }, 'broker-host': { type: 'string', default: '127.0.0.1' }, 'broker-port': { type: 'string' },
      },
    }).values;
  } catch (e) {
    process.stderr.write(`helios: ${(e as Error).message}\n${simHelp}`);
    return 2;
  }
  const usage = (m: string) => {
    process.stderr.write(`helios: ${m}\n`);
    return 2;
  };
  const power = Number(v.power);
  if (!Number.isInteger(power) || power < 0 || power > 100_000) return usage(`--power must be whole watts, 0…100000, got ${v.power}`);
  const period = Number(v['reading-period']);
  if (!Number.isInteger(period) || period < 1 || period > 86_400) return usage(`--reading-period must be whole seconds, 1…86400, got ${v['reading-period']}`);
  const paths = dataPaths(v.data);
  if (!existsSync(paths.genesis)) return usage(`no grid in ${paths.dir} (no genesis.json): make one with "helios init", or pass --data GRID`);
  const genesis = JSON.parse(readFileSync(paths.genesis, 'utf8')) as { grid: string; authorities: Array<{ publicKey: string }> };
  let port = v['broker-port'] === undefined ? undefined : Number(v['broker-port']);
  if (port === undefined) {
    const mqtt = readRunInfo(paths)?.mqtt;
    if (!mqtt) return usage(`no running gateway with a plain MQTT listener for ${paths.dir}: start one ("helios gateway --data ${paths.dir}") or give --broker-port`);
    port = Number(new URL(mqtt).port);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65_535) return usage(`--broker-port must be a TCP port, got ${v['broker-port']}`);
  const sdk = findSdk();
  if ('missing' in sdk) {
    process.stderr.write(`helios: the firmware simulator needs the Moddable SDK. ${sdk.missing}\n`);
    return 1;
  }
  const settings: FirmwareSettings = {
    grid: genesis.grid, brokerHost: v['broker-host']!, brokerPort: port, authorityKey: genesis.authorities[0].publicKey,
    readingPeriodMs: period * 1000, simPowerW: power,
  };
  process.stdout.write(`building the firmware for grid ${genesis.grid}, broker ${settings.brokerHost}:${port} (mcconfig; ~2 min unless cached)\n`);
  let build: BuildResult;
  try {
    build = buildLinFirmware(sdk, settings, { log: (l) => process.stdout.write(`${l}\n`) });
  } catch (e) {
    process.stderr.write(`helios: ${(e as Error).message}\n`);
    return 1;
  }
  const dir = resolve(v['meter-dir']!);
  process.stdout.write(`${build.cached ? 'firmware from the cache' : 'built'}: ${build.mcso}\nrunning it in mcsim; the meter's flash is ${join(dir, 'helios')}/\n`);
  // The console as the firmware prints it; mcsim's instrumentation samples and the debugger's "throw!" notes are left out.
  const sim = startMcsim(sdk, build.mcso, dir, (line) => {
    if (!line.startsWith('instruments') && !line.endsWith('exception: throw!')) process.stdout.write(`${line}\n`);
  });
  const stop = () => void sim.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await new Promise<void>((r) => sim.child.once('exit', () => r()));
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  return 0;
}
