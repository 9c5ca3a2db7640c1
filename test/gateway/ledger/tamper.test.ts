/**
 * An auditor's check: every kind of edit to the SQLite file makes
 * `helios ledger verify` fail at the right height, and an untouched chain verifies.
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildChain } from '../../helpers/chain.ts';
import { tempDir } from '../../helpers/grid.ts';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../../bin/helios.js', import.meta.url));

const chain = buildChain({ blocks: 8, transfersPerBlock: 3, readingsPerBlock: 3 });
chain.close();

/** A copy of the chain with `edit` applied to its SQLite file. */
function tampered(edit: (db: Database.Database) => void): string {
  const dir = tempDir('helios-tamper-');
  cpSync(chain.dir, dir, { recursive: true });
  const db = new Database(join(dir, 'ledger.sqlite'));
  edit(db);
  db.close();
  return dir;
}

async function verify(dir: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run(process.execPath, [bin, 'ledger', 'verify', '--data', dir]);
    return { code: 0, out: stdout };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout + err.stderr };
  }
}

test('an untouched chain verifies', async (t) => {
  const r = await verify(chain.dir);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /^OK: 8 blocks, 23 transactions, 21 readings/m);
});

test('editing a balance row fails at the block that last wrote it', async (t) => {
  const dir = tampered((db) => {
    const row = db.prepare(`SELECT value, height FROM state WHERE key = 'participant/zarak@example.org'`).get() as { value: string; height: number };
    const edited = row.value.replace(/"balanceMicroHec":\d+/, '"balanceMicroHec":999999999999');
    db.prepare(`UPDATE state SET value = ? WHERE key = 'participant/zarak@example.org'`).run(edited);
    t.context = row.height;
  });
  const r = await verify(dir);
  t.is(r.code, 1);
  t.regex(r.out, new RegExp(`FAULT at height ${t.context}: E_STATE_MISMATCH: state row "participant/zarak@example.org"`));
});

test("editing a transaction's amount fails at its block", async (t) => {
  const dir = tampered((db) => {
    const row = db.prepare(`SELECT id, tx FROM txs WHERE height = 3 AND type = 'Transfer' LIMIT 1`).get() as { id: string; tx: string };
    db.prepare(`UPDATE txs SET tx = ? WHERE id = ?`).run(row.tx.replace(/"amountMicroHec":\d+/, '"amountMicroHec":1'), row.id);
  });
  const r = await verify(dir);
  t.is(r.code, 1);
  t.regex(r.out, /FAULT at height 3: E_BAD_TX_ROOT/);
});

test("editing a block's signature fails at that block", async (t) => {
  const dir = tampered((db) => {
    const other = (db.prepare(`SELECT sig FROM blocks WHERE height = 2`).get() as { sig: string }).sig;
    db.prepare(`UPDATE blocks SET sig = ? WHERE height = 4`).run(other);
  });
  const r = await verify(dir);
  t.is(r.code, 1);
  t.regex(r.out, /FAULT at height 4: E_BAD_BLOCK_SIGNATURE/);
});

test("editing a block's readings root fails at that block", async (t) => {
  const dir = tampered((db) => {
    const row = db.prepare(`SELECT header FROM blocks WHERE height = 5`).get() as { header: string };
    db.prepare(`UPDATE blocks SET header = ? WHERE height = 5`).run(row.header.replace(/"readingsRoot":"[0-9a-f]{64}"/, `"readingsRoot":"${'0'.repeat(64)}"`));
  });
  const r = await verify(dir);
  t.is(r.code, 1);
  t.regex(r.out, /FAULT at height 5: E_BAD_BLOCK_HASH/);
});

test('editing a stored reading fails at the block that committed it', async (t) => {
  const dir = tampered((db) => {
    const row = db.prepare(`SELECT id, envelope, block_height FROM readings WHERE block_height = 6 LIMIT 1`).get() as { id: number; envelope: string };
    db.prepare(`UPDATE readings SET envelope = ? WHERE id = ?`).run(row.envelope.replace(/"importMWh":\d+/, '"importMWh":1'), row.id);
  });
  const r = await verify(dir);
  t.is(r.code, 1);
  t.regex(r.out, /FAULT at height 6: E_BAD_READINGS_ROOT/);
});

test('deleting a block fails at the missing height', async (t) => {
  const dir = tampered((db) => db.prepare(`DELETE FROM blocks WHERE height = 3`).run());
  const r = await verify(dir);
  t.is(r.code, 1);
  t.regex(r.out, /FAULT at height 3: E_MISSING_BLOCK/);
});

test('deleting a transaction fails at its block', async (t) => {
  const dir = tampered((db) => db.prepare(`DELETE FROM txs WHERE height = 7 AND idx = 1`).run());
  const r = await verify(dir);
  t.is(r.code, 1);
  t.regex(r.out, /FAULT at height 7: E_BAD_TX_ROOT/);
});
