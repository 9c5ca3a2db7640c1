/**
 * The gateway's SQLite file: WAL (readers never block the writer), synchronous=FULL
 * (a committed block survives a power cut, not only a crash), and a versioned schema
 * migrated forward on open. The block producer is the only writer of this file.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type DB = Database.Database;

interface Migration {
  version: number;
  why: string;
  up: string;
}

/** Append-only: never edit a released migration, add the next one. */
export const migrations: Migration[] = [
  {
    version: 1,
    why: 'ledger: blocks, transactions, state entries; readings committed through block roots',
    up: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE blocks (
        height INTEGER PRIMARY KEY,
        hash TEXT NOT NULL UNIQUE,
        header TEXT NOT NULL,
        sig TEXT NOT NULL,
        slot INTEGER NOT NULL,
        t INTEGER NOT NULL,
        author TEXT NOT NULL,
        tx_count INTEGER NOT NULL,
        readings_count INTEGER NOT NULL
      );
      CREATE TABLE txs (
        id TEXT PRIMARY KEY,
        height INTEGER NOT NULL,
        idx INTEGER NOT NULL,
        type TEXT NOT NULL,
        signer TEXT NOT NULL,
        tx TEXT NOT NULL,
        UNIQUE (height, idx)
      );
      CREATE INDEX txs_signer ON txs (signer, height);
      CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL, height INTEGER NOT NULL);
      CREATE TABLE readings (
        id INTEGER PRIMARY KEY,
        meter TEXT NOT NULL,
        seq INTEGER NOT NULL,
        t INTEGER NOT NULL,
        import_mwh INTEGER NOT NULL,
        export_mwh INTEGER NOT NULL,
        power_w INTEGER NOT NULL,
        relay TEXT NOT NULL,
        credit_mwh INTEGER NOT NULL,
        envelope TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        block_height INTEGER,
        UNIQUE (meter, seq)
      );
      CREATE INDEX readings_block ON readings (block_height);
      CREATE INDEX readings_meter_t ON readings (meter, t);
    `,
  },
  {
    version: 2,
    why: 'metering: login counters, reading gaps, meter availability, issued credit tokens, meters waiting for enrolment',
    up: `
      CREATE TABLE login_counters (id TEXT PRIMARY KEY, ctr INTEGER NOT NULL);
      CREATE TABLE reading_gaps (meter TEXT NOT NULL, after_seq INTEGER NOT NULL, next_seq INTEGER NOT NULL, detected_at INTEGER NOT NULL);
      CREATE INDEX reading_gaps_meter ON reading_gaps (meter);
      CREATE TABLE meter_status (
        meter TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        relay TEXT,
        fw TEXT,
        clock TEXT,
        last_seen INTEGER NOT NULL,
        since INTEGER NOT NULL
      );
      CREATE TABLE credits (
        nonce TEXT PRIMARY KEY,
        meter TEXT NOT NULL,
        energy_mwh INTEGER NOT NULL,
        valid_from INTEGER NOT NULL,
        valid_until INTEGER NOT NULL,
        ref TEXT,
        token TEXT NOT NULL,
        issued_at INTEGER NOT NULL
      );
      CREATE INDEX credits_meter ON credits (meter, valid_until);
      CREATE TABLE hellos (meter TEXT PRIMARY KEY, public_key TEXT NOT NULL, fw TEXT NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL);
    `,
  },
  {
    version: 3,
    why: 'every reading and credit figure is derived by SQLite from the signed envelope it came in (generated columns), so no figure can be edited apart from its signature (issue 13, finding 6)',
    up: `
      CREATE TABLE readings_v3 (
        id INTEGER PRIMARY KEY,
        envelope TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        block_height INTEGER,
        meter TEXT NOT NULL GENERATED ALWAYS AS (json_extract(envelope, '$.body.meter')) STORED,
        seq INTEGER NOT NULL GENERATED ALWAYS AS (json_extract(envelope, '$.body.seq')) STORED,
        t INTEGER NOT NULL GENERATED ALWAYS AS (json_extract(envelope, '$.body.t')) STORED,
        import_mwh INTEGER NOT NULL GENERATED ALWAYS AS (json_extract(envelope, '$.body.importMWh')) STORED,
        export_mwh INTEGER NOT NULL GENERATED ALWAYS AS (json_extract(envelope, '$.body.exportMWh')) STORED,
        power_w INTEGER NOT NULL GENERATED ALWAYS AS (json_extract(envelope, '$.body.powerW')) STORED,
        relay TEXT NOT NULL GENERATED ALWAYS AS (json_extract(envelope, '$.body.relay')) STORED,
        credit_mwh INTEGER NOT NULL GENERATED ALWAYS AS (json_extract(envelope, '$.body.creditMWh')) STORED,
        UNIQUE (meter, seq)
      );
      INSERT INTO readings_v3 (id, envelope, received_at, block_height) SELECT id, envelope, received_at, block_height FROM readings ORDER BY id;
      DROP TABLE readings;
      ALTER TABLE readings_v3 RENAME TO readings;
      CREATE INDEX readings_block ON readings (block_height);
      CREATE INDEX readings_meter_t ON readings (meter, t);
      CREATE TABLE credits_v3 (
        nonce TEXT PRIMARY KEY,
        token TEXT NOT NULL,
        issued_at INTEGER NOT NULL,
        meter TEXT NOT NULL GENERATED ALWAYS AS (json_extract(token, '$.body.meter')) STORED,
        energy_mwh INTEGER NOT NULL GENERATED ALWAYS AS (json_extract(token, '$.body.energyMWh')) STORED,
        valid_from INTEGER NOT NULL GENERATED ALWAYS AS (json_extract(token, '$.body.validFrom')) STORED,
        valid_until INTEGER NOT NULL GENERATED ALWAYS AS (json_extract(token, '$.body.validUntil')) STORED,
        ref TEXT GENERATED ALWAYS AS (json_extract(token, '$.body.ref')) STORED
      );
      INSERT INTO credits_v3 (nonce, token, issued_at) SELECT nonce, token, issued_at FROM credits;
      DROP TABLE credits;
      ALTER TABLE credits_v3 RENAME TO credits;
      CREATE INDEX credits_meter ON credits (meter, valid_until);
    `,
  },
  {
    version: 4,
    why: 'a durable mempool: a transaction answered 202 is in SQLite before the answer, and is replayed at start (issue 13, finding 8)',
    up: `
      CREATE TABLE mempool (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, tx TEXT NOT NULL);
    `,
  },
  {
    version: 5,
    why: 'a meter that lost its state record is restored from its own last login token and reading (docs/protocol.md §4, "Restore"), and its Status fault is shown (issue 17)',
    up: `
      ALTER TABLE login_counters ADD COLUMN token TEXT;
      ALTER TABLE meter_status ADD COLUMN fault TEXT;
    `,
  },
];

export function openDb(file: string, opts: { readonly?: boolean } = {}): DB {
  if (!opts.readonly) mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  db.pragma('busy_timeout = 5000');
  if (!opts.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db);
  }
  return db;
}

export function schemaVersion(db: DB): number {
  const has = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'`).get();
  if (!has) return 0;
  const row = db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).get() as { value: string } | undefined;
  return row ? Number(row.value) : 0;
}

function migrate(db: DB): void {
  const current = schemaVersion(db);
  const latest = migrations[migrations.length - 1].version;
  if (current > latest) {
    throw new Error(`this database has schema version ${current}, newer than this Helios (${latest}); upgrade Helios`);
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.up);
      db.prepare(`INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`).run(String(m.version));
    })();
  }
}
