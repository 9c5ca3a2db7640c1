/**
 * Finding 6: every stored figure is bound to a signature. Property: edit any column
 * of any row of the ledger's tables (blocks, txs, state, readings, credits) — as the
 * sqlite3 shell lets whoever holds the file, rebuilding a table first where SQLite
 * itself refuses the edit (generated columns) — and `ledger verify` fails, naming
 * the edited row. Unsigned bookkeeping is left out on purpose and documented in
 * docs/security.md: readings.id (row order only), readings.received_at (when the
 * gateway heard it), and the operational tables (meter_status, hellos, reading_gaps,
 * login_counters), which no market, settlement or verify figure reads.
 */
import test from 'ava';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalize, signBody } from '../../protocol/index.ts';
import { ChainStore } from '../../gateway/ledger/chainStore.ts';
import { verifyChain } from '../../gateway/ledger/verify.ts';
import { openDb } from '../../gateway/store/db.ts';
import { buildChain, insertReadings } from '../helpers/chain.ts';
import { tempDir } from '../helpers/grid.ts';

const chain = buildChain({ blocks: 6, transfersPerBlock: 3, readingsPerBlock: 3 });
// Readings waiting for the next block, and two credit tokens the authority issued.
insertReadings(chain.db, chain.grid, chain.meter, 16, 3, chain.t);
const auth = chain.grid.authorities[0];
for (const [i, ref] of ['2026-03-21T13:00Z', 'direct-1'].entries()) {
  const body = { type: 'CreditToken', grid: chain.grid.genesis.grid, meter: chain.meter.keyId, energyMWh: 1000 + i, validFrom: chain.t, validUntil: chain.t + 3_600_000, nonce: `${i}`.repeat(32), issuer: auth.keyId, ref };
  chain.db.prepare(`INSERT INTO credits (nonce, token, issued_at) VALUES (?, ?, ?)`).run(body.nonce, canonicalize(signBody(body, auth.secretKey)), chain.t);
}
chain.close();

type Kind = 'int' | 'json' | 'hex' | 'text';
interface Col { table: string; column: string; kind: Kind; generated?: boolean; key: string }
const COLUMNS: Col[] = [
  ...(['height', 'slot', 't', 'tx_count', 'readings_count'] as const).map((c) => ({ table: 'blocks', column: c, kind: 'int' as Kind, key: 'height' })),
  { table: 'blocks', column: 'hash', kind: 'hex', key: 'height' },
  { table: 'blocks', column: 'header', kind: 'json', key: 'height' },
  { table: 'blocks', column: 'sig', kind: 'hex', key: 'height' },
  { table: 'blocks', column: 'author', kind: 'hex', key: 'height' },
  { table: 'txs', column: 'id', kind: 'hex', key: 'id' },
  { table: 'txs', column: 'height', kind: 'int', key: 'id' },
  { table: 'txs', column: 'idx', kind: 'int', key: 'id' },
  { table: 'txs', column: 'type', kind: 'text', key: 'id' },
  { table: 'txs', column: 'signer', kind: 'hex', key: 'id' },
  { table: 'txs', column: 'tx', kind: 'json', key: 'id' },
  { table: 'state', column: 'key', kind: 'text', key: 'key' },
  { table: 'state', column: 'value', kind: 'json', key: 'key' },
  { table: 'state', column: 'height', kind: 'int', key: 'key' },
  { table: 'readings', column: 'envelope', kind: 'json', key: 'id' },
  { table: 'readings', column: 'block_height', kind: 'int', key: 'id' },
  ...(['seq', 't', 'import_mwh', 'export_mwh', 'power_w', 'credit_mwh'] as const).map((c) => ({ table: 'readings', column: c, kind: 'int' as Kind, generated: true, key: 'id' })),
  { table: 'readings', column: 'meter', kind: 'hex', generated: true, key: 'id' },
  { table: 'readings', column: 'relay', kind: 'text', generated: true, key: 'id' },
  { table: 'credits', column: 'nonce', kind: 'hex', key: 'nonce' },
  { table: 'credits', column: 'token', kind: 'json', key: 'nonce' },
  ...(['energy_mwh', 'valid_from', 'valid_until'] as const).map((c) => ({ table: 'credits', column: c, kind: 'int' as Kind, generated: true, key: 'nonce' })),
  { table: 'credits', column: 'meter', kind: 'hex', generated: true, key: 'nonce' },
  { table: 'credits', column: 'ref', kind: 'text', generated: true, key: 'nonce' },
];

/** A different value of the same kind; `pick` chooses where and how. */
function edited(kind: Kind, v: unknown, pick: number): unknown {
  if (kind === 'int') return v === null ? 1 : (v as number) + [1, -1, 1_000_000, 7][pick % 4];
  const s = String(v);
  if (kind === 'text') return s === 'open' ? 'closed' : s === 'Transfer' ? 'Mint' : s + 'x';
  const digits = [...s.matchAll(kind === 'hex' ? /[0-9a-f]/g : /[0-9]/g)].map((m) => m.index);
  const at = digits[pick % digits.length];
  const c = s[at];
  const other = kind === 'hex' ? (c === 'a' ? 'b' : 'a') : String((Number(c) + 1 + (pick % 8)) % 10);
  return s.slice(0, at) + other + s.slice(at + 1);
}

/** Make a table's generated columns plain ones, keeping every value: what an attacker does before editing them. */
function plain(db: Database.Database, table: string): void {
  db.exec(`CREATE TABLE ${table}_plain AS SELECT * FROM ${table}; DROP TABLE ${table}; ALTER TABLE ${table}_plain RENAME TO ${table};`);
}

test('an untouched copy verifies', async (t) => {
  const r = await verifyChain(new ChainStore(openDb(join(chain.dir, 'ledger.sqlite'), { readonly: true })), chain.grid.genesis);
  t.true(r.ok, JSON.stringify(r.fault));
});

test('a generated figure cannot be edited in place: SQLite refuses', (t) => {
  const dir = tempDir('helios-fig-');
  cpSync(chain.dir, dir, { recursive: true });
  const db = new Database(join(dir, 'ledger.sqlite'));
  const refused = (sql: string) => {
    try {
      db.prepare(sql).run();
      return 'changed';
    } catch (e) {
      return String((e as { message?: string }).message);
    }
  };
  t.regex(refused(`UPDATE readings SET import_mwh = import_mwh + 1000000 WHERE seq = 2`), /cannot UPDATE generated column/);
  t.regex(refused(`UPDATE credits SET energy_mwh = 1`), /cannot UPDATE generated column/);
  db.close();
});

test('a transaction row added outside the chain makes verify fail and name it', async (t) => {
  for (const where of ['genesis', 'past the head'] as const) {
    const dir = tempDir('helios-fig-');
    cpSync(chain.dir, dir, { recursive: true });
    const db = new Database(join(dir, 'ledger.sqlite'));
    const top = (db.prepare(`SELECT max(height) AS h FROM blocks`).get() as { h: number }).h;
    const height = where === 'genesis' ? 0 : top + 1;
    const forged = 'f'.repeat(64);
    db.prepare(`INSERT INTO txs (id, height, idx, type, signer, tx) SELECT ?, ?, 0, type, signer, tx FROM txs ORDER BY rowid LIMIT 1`).run(forged, height);
    db.close();
    const r = await verifyChain(new ChainStore(openDb(join(dir, 'ledger.sqlite'), { readonly: true })), chain.grid.genesis);
    t.false(r.ok, where);
    t.is(r.fault?.code, 'E_BAD_TX_ROOT', where);
    t.regex(r.fault?.message ?? '', new RegExp(`txs row ffffffffffffffff… \\(\\w+\\) says block ${height} holds it, but the chain has blocks 1–${top}`), where);
  }
});

test('editing any column of any ledger row makes verify fail and name that row', async (t) => {
  // Each column in turn; fast-check picks the rows and the edits.
  for (const column of COLUMNS) await editProperty(column);
  t.pass();
});

async function editProperty(column: Col): Promise<void> {
  await fc.assert(fc.asyncProperty(fc.constant(column), fc.nat(), fc.nat(), async (col, rowPick, valuePick) => {
    const dir = tempDir('helios-fig-');
    cpSync(chain.dir, dir, { recursive: true });
    const db = new Database(join(dir, 'ledger.sqlite'));
    const rows = db.prepare(`SELECT rowid AS r, * FROM ${col.table} ORDER BY rowid`).all() as Array<Record<string, unknown>>;
    const row = rows[rowPick % rows.length];
    const before = row[col.column];
    const after = edited(col.kind, before, valuePick);
    if (col.generated) plain(db, col.table);
    try {
      db.prepare(`UPDATE ${col.table} SET ${col.column} = ? WHERE ${col.key} = ?`).run(after as string, row[col.key] as string);
    } catch (e) {
      // The database itself refused the edit: a unique or primary key collision, or an envelope whose
      // generated figures cannot be computed (malformed JSON, a figure missing).
      db.close();
      const why = String((e as { message?: string }).message);
      if (/UNIQUE|PRIMARY KEY|constraint|malformed JSON/i.test(why)) return true;
      throw new Error(`editing ${col.table}.${col.column} failed: ${why}`);
    }
    db.close();
    const r = await verifyChain(new ChainStore(openDb(join(dir, 'ledger.sqlite'), { readonly: true })), chain.grid.genesis);
    const where = `${col.table}.${col.column} of ${String(row[col.key]).slice(0, 20)}: ${String(before).slice(0, 30)} → ${String(after).slice(0, 30)}`;
    if (r.ok || !r.fault) throw new Error(`verify passed after editing ${where}`);
    const f = r.fault;
    const named = (() => {
      switch (col.table) {
        case 'blocks': return f.height === row.height || (col.column === 'height' && f.height === Math.min(row.height as number, after as number));
        // A transaction moved to a block that exists is blamed there if that block comes first; moved
        // outside the chain (to 0, past the head), the block it left is blamed.
        case 'txs': return f.height === Math.min(row.height as number, col.column === 'height' && (after as number) >= 1 ? (after as number) : Infinity);
        case 'state': return f.message.includes(String(row.key)) || f.message.includes(String(after));
        case 'credits': return f.message.includes(String(row.nonce)) || f.message.includes(String(after));
        case 'readings': {
          const h = row.block_height as number | null;
          if (col.column === 'block_height') return f.height === Math.min(h ?? Infinity, after as number);
          return h !== null ? f.height === h : f.message.includes(`readings row id ${row.id}`);
        }
      }
      return false;
    })();
    if (!named) throw new Error(`after editing ${where}, verify blamed height ${f.height}: ${f.code}: ${f.message}`);
    return true;
  }), { numRuns: 5 });
}
