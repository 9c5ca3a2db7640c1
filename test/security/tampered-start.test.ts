/**
 * Findings 6 and 7 with real clients: a meter sends signed readings over MQTT to a
 * real `helios gateway`, the readings are committed and settled into blocks, the
 * gateway stops; then an attacker edits the SQLite file with the sqlite3 shell.
 * Every edit the issue reported (a reading's energy, a transaction's body, a deleted
 * or swapped block, a balance) makes `helios ledger verify` name the row and makes
 * `helios gateway` refuse to start with a clear message and a non-zero exit. A busy
 * port is a non-zero exit too, and no worker thread keeps a failed process alive.
 */
import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { http, heliosBin, newGridDir, startChildGateway } from '../helpers/gateway.ts';
import { tempDir } from '../helpers/grid.ts';
import { MqttMeter } from '../helpers/mqttMeter.ts';
import { sqlite } from '../helpers/tools.ts';

const run = promisify(execFile);
const grid = newGridDir({ blockPeriodMs: 100 });
const meter = new MqttMeter(grid.genesis.grid, 4242);

/** A grid with a meter's readings and some transfers committed, the gateway stopped. */
const ready = (async () => {
  const gw = await startChildGateway(grid.dir, ['--mqtt-port', '0', '--mqtt-tls-port', 'off', '--mqtt-ws-port', 'off']);
  try {
    const enrol = await http(gw.url + '/api/authority/tx?wait=commit', 'POST', {
      type: 'EnrollMeter', meter: meter.id, publicKey: meter.key.publicKey, participant: grid.households[0].email, installer: 'Ines', location: 'roof', pulsesPerKWh: 1000, relay: false,
    }, { authorization: `Bearer ${grid.operatorSecret}` });
    if (enrol.status !== 200) throw new Error(JSON.stringify(enrol));
    const info = JSON.parse(readFileSync(join(grid.dir, 'run', 'gateway.json'), 'utf8')) as { mqtt: string };
    await meter.connect(info.mqtt);
    for (let i = 0; i < 20; i++) await meter.publishReading();
    await meter.waitFor(() => meter.lastAck() === 20, 'all 20 readings acknowledged');
    await meter.close();
    for (let i = 0; i < 4; i++) {
      const r = await http(gw.url + '/api/tx?wait=commit', 'POST', grid.tx(grid.households[1], { type: 'Transfer', to: grid.households[0].email, amountMicroHec: 1000 + i }));
      if (r.status !== 200) throw new Error(JSON.stringify(r));
    }
    // Let a block commit the last readings.
    const start = Date.now();
    while (Date.now() - start < 10_000) {
      const n = await sqlite(join(grid.dir, 'ledger.sqlite'), 'SELECT count(*) FROM readings WHERE block_height IS NULL');
      if (n.trim() === '0') break;
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await gw.kill();
  }
})();

/** A copy of the grid, edited with the sqlite3 shell. */
async function tampered(sql: string): Promise<string> {
  await ready;
  const dir = tempDir('helios-tamper-');
  cpSync(grid.dir, dir, { recursive: true });
  await sqlite(join(dir, 'ledger.sqlite'), sql);
  return dir;
}

async function cli(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [heliosBin, ...args], { timeout: 60_000 });
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string; killed?: boolean };
    return { code: err.killed ? -1 : err.code, out: err.stdout + err.stderr };
  }
}

/** `helios gateway` on a data directory: resolves with its exit code and output (killed after 30 s if it keeps running). */
function gatewayExit(dir: string, extra: string[] = []): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [heliosBin, 'gateway', '--data', dir, '--http-port', '0', '--mqtt-port', '0', '--mqtt-tls-port', 'off', '--mqtt-ws-port', 'off', '--log-level', 'warn', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

test.serial('the untouched grid verifies and the gateway starts on it', async (t) => {
  await ready;
  const v = await cli(['ledger', 'verify', '--data', grid.dir]);
  t.is(v.code, 0, v.out);
  t.regex(v.out, /20 readings/);
});

test('finding 6: the sqlite3 shell cannot edit a reading\'s energy; a rebuilt table is caught by verify and refused by the gateway', async (t) => {
  await ready;
  const dir = tempDir('helios-tamper-');
  cpSync(grid.dir, dir, { recursive: true });
  const db = join(dir, 'ledger.sqlite');
  const refused = await sqlite(db, 'UPDATE readings SET import_mwh = import_mwh + 1000000 WHERE seq = 10').then(() => 'changed', (e: Error) => e.message);
  t.regex(refused, /cannot UPDATE generated column/);
  // The attacker rebuilds the table with plain columns, then edits the copy.
  await sqlite(db, 'CREATE TABLE r2 AS SELECT * FROM readings; DROP TABLE readings; ALTER TABLE r2 RENAME TO readings; UPDATE readings SET import_mwh = import_mwh + 1000000 WHERE seq = 10;');
  const v = await cli(['ledger', 'verify', '--data', dir]);
  t.is(v.code, 1, v.out);
  t.regex(v.out, new RegExp(`E_ROW_MISMATCH: block \\d+: readings row id \\d+ \\(meter ${meter.id}, seq 10\\): column import_mwh is \\d+ but the meter signed 1000`));
  const g = await gatewayExit(dir);
  t.is(g.code, 1, g.out);
  t.regex(g.out, /E_TAMPERED: the ledger in .* fails verification at height \d+: E_ROW_MISMATCH/);
});

const edits: Array<[string, string, RegExp]> = [
  ['an edited transaction body', `UPDATE txs SET tx = replace(tx, '"amountMicroHec":1002', '"amountMicroHec":9002') WHERE type = 'Transfer'`, /E_BAD_TX_ROOT/],
  ['a deleted middle block', `DELETE FROM blocks WHERE height = (SELECT max(height) / 2 FROM blocks)`, /E_MISSING_BLOCK/],
  ['two swapped blocks', `UPDATE blocks SET height = -1 WHERE height = 2; UPDATE blocks SET height = 2 WHERE height = 3; UPDATE blocks SET height = 3 WHERE height = -1`, /E_(BAD_PARENT|BAD_BLOCK_HASH|BAD_HEIGHT|BAD_SLOT|ROW_MISMATCH)|fails verification/],
  ['an edited balance', `UPDATE state SET value = replace(value, '"balanceMicroHec":', '"balanceMicroHec":9') WHERE key = 'participant/${'zarak@example.org'}'`, /E_STATE_MISMATCH/],
  ['an edited reading envelope', `UPDATE readings SET envelope = replace(envelope, '"importMWh":500', '"importMWh":900') WHERE seq = 5`, /E_BAD_READINGS_ROOT/],
];

for (const [what, sql, code] of edits) {
  test(`finding 7: the gateway refuses to start on ${what}, with a clear message and exit code 1`, async (t) => {
    const dir = await tampered(sql);
    const g = await gatewayExit(dir);
    t.is(g.code, 1, g.out);
    t.regex(g.out, code);
    t.regex(g.out, /helios: .*(restore the data directory from a backup|database was altered)/);
  });
}

test('finding 7: a busy port is a non-zero exit, not a half-started gateway', async (t) => {
  await ready;
  const dir = tempDir('helios-busy-');
  cpSync(grid.dir, dir, { recursive: true });
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  try {
    const g = await gatewayExit(dir, ['--http-port', String(port)]);
    t.is(g.code, 1, g.out);
    t.regex(g.out, /EADDRINUSE/);
  } finally {
    server.close();
  }
});
