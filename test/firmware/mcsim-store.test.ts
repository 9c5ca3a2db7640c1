/**
 * The Linux-host storage of the real firmware (firmware/platform/moddable/lin/store.ts)
 * on the real Moddable runtime: built with mcconfig, run in mcsim twice on one
 * directory, with the records damaged between the runs the way a cut would leave
 * them — a write killed before its rename (a stray `.new` file) and a record cut
 * short in place. Skipped where the SDK or xvfb-run is missing. The build is cached
 * in the temp directory, keyed by a hash of every file it is made from.
 */
import test from 'ava';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { xvfbServer } from '../../simulator/mcsim.ts';
import { exclusive } from '../helpers/exclusive.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const app = join(root, 'test/firmware/mcsim-store');
const MODDABLE = process.env.MODDABLE ?? join(root, '../shared/moddable');
const bin = join(MODDABLE, 'build/bin/lin/release');
const available = existsSync(join(bin, 'mcconfig')) && existsSync(join(bin, 'mcsim')) && existsSync('/usr/bin/xvfb-run');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

function buildHash(): string {
  const h = createHash('sha256');
  for (const f of [...files(app), ...files(join(root, 'firmware/core')), ...files(join(root, 'protocol')), join(root, 'firmware/platform/moddable/lin/store.ts')].sort()) {
    h.update(f).update(readFileSync(f));
  }
  return h.digest('hex').slice(0, 16);
}

/** End mcsim, the app this test started, so that xvfb-run cleans up its X server and exits; the whole group if it does not. */
function stopMcsim(child: ChildProcess): void {
  const xvfbRun = child.pid!;
  const kids = spawnSync('ps', ['-o', 'pid=,comm=', '--ppid', String(xvfbRun)], { encoding: 'utf8' }).stdout ?? '';
  for (const line of kids.split('\n')) {
    const [pid, comm] = line.trim().split(/\s+/);
    if (comm !== 'mcsim') continue;
    try {
      process.kill(Number(pid), 'SIGTERM');
    } catch {
      // already gone
    }
  }
  setTimeout(() => {
    // Only while xvfb-run itself is still running: once it has exited its group id can belong to
    // another process group (another test's mcsim), which this must never signal.
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-xvfbRun, 'SIGTERM'); // the group this test started, if anything of it is left
    } catch {
      // all gone
    }
  }, 3000).unref();
}

/** Run the app in mcsim until it prints STORE done (or an error); what it said, by name. */
function run(so: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn('xvfb-run', [...xvfbServer(), 'stdbuf', '-o0', join(bin, 'mcsim'), so], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let finished = false;
    const timer = setTimeout(() => {
      stopMcsim(child);
      reject(new Error(`mcsim printed no STORE done within 60 s:\n${out}`));
    }, 60_000);
    const exited = new Promise((r) => child.once('exit', r));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (finished || !/^STORE (done|error) .*\n/m.test(out)) return;
      finished = true;
      clearTimeout(timer);
      stopMcsim(child);
      const said: Record<string, unknown> = {};
      for (const m of out.matchAll(/^STORE (\S+) (.*)$/gm)) {
        try {
          said[m[1]] = JSON.parse(m[2]);
        } catch {
          said[m[1]] = m[2];
        }
      }
      void exited.then(() => resolve(said));
    });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  });
}

test('the Linux-host store keeps a file per record: a write killed before its rename and a record cut short leave the previous record, on the real Moddable runtime', async (t) => {
  if (!available) {
    // CI builds the firmware on every run (.ci/run sets MODDABLE): there a missing SDK is a failure, not a skip.
    if (process.env.CI === 'true') return t.fail(`no Moddable SDK at ${MODDABLE} (MODDABLE) or no xvfb-run: CI must build and run the firmware`);
    return t.pass(`skipped: no Moddable SDK at ${MODDABLE} or no xvfb-run`);
  }
  t.timeout(15 * 60_000);
  const cache = join(tmpdir(), `helios-mcsim-store-${buildHash()}`);
  const records = join(cache, 'records/');
  const so = join(cache, 'bin/lin/mc/debug/helios-store-check/mc.so');
  if (!existsSync(so)) {
    mkdirSync(cache, { recursive: true });
    const r = spawnSync(join(bin, 'mcconfig'), ['-d', '-m', '-p', 'lin', '-o', cache, join(app, 'manifest.json'), `storageDir=${records}`], {
      cwd: app, encoding: 'utf8', env: { ...process.env, MODDABLE, PATH: `${bin}:${join(root, 'node_modules/.bin')}:${process.env.PATH}` },
    });
    t.is(r.status, 0, `mcconfig failed:\n${r.stdout?.slice(-3000)}\n${r.stderr?.slice(-3000)}`);
  }
  rmSync(records, { recursive: true, force: true });
  const release = await exclusive('mcsim'); // one firmware meter in mcsim at a time (test/helpers/exclusive.ts)
  t.teardown(release);
  const first = await run(so);
  t.deepEqual(first.state, { payload: null, corrupt: [] });
  t.is(first.done, true, JSON.stringify(first));
  t.deepEqual(readdirSync(records).sort(), ['helios.b', 'helios.enrol', 'helios.key', 'helios.n', 'helios.state0', 'helios.state1'], 'a file per record, nothing left over');
  // The newest record (generation 2, [8, 8, 8]) is in state0. Damage it the way a cut would:
  // a write of generation 3 into state1 killed before its rename, and state0 cut short in place.
  writeFileSync(join(records, 'helios.state1.new'), Buffer.from([0x78, 0x48, 0, 0, 0]));
  truncateSync(join(records, 'helios.state0'), 6);
  const second = await run(so);
  t.deepEqual(second.state, { payload: [7, 7, 7], corrupt: ['state0'] }, 'the previous record, and the damaged slot named');
  t.deepEqual(second.key, [1, 2, 3, 4]);
  t.is(second.enrol, '{"body":"é€😀"}');
  t.is(second.n, -123456);
  t.is(second.b, true);
  t.is(second.gone, null);
  // The ESP32 limits hold on the Linux host too: refused. (Until issue 12's HeliosError fix is merged, XS
  // refuses `this.name = …` on a frozen Error.prototype, so the refusal is a TypeError, not E_STORAGE_LIMIT.)
  t.not(second.limit, 'accepted');
  t.log(`a 16-character key: ${String(second.limit)}`);
  t.is(second.done, true, JSON.stringify(second));
});
