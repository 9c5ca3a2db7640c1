/**
 * The ledger's tables. A block, its transactions, the state entries it changed and
 * the readings it commits are written in ONE SQLite transaction: a crash at any
 * instant leaves the whole block or none of it.
 */
import { canonicalize, parseJson, type BlockHeader, type SignedTx } from '../../protocol/index.ts';
import type { DB } from '../store/db.ts';
import type { Block, PreparedTx, ReadingsCommitment } from './block.ts';
import { merkleRootHex } from '../crypto/hash.ts';
import type { BlockColumns, CreditColumns, ReadingColumns, TxColumns } from './rows.ts';

export interface StoredBlockRow {
  height: number;
  hash: string;
  header: string;
  sig: string;
}

export class ChainStore {
  readonly db: DB;
  private readonly q;

  constructor(db: DB) {
    this.db = db;
    this.q = {
      head: db.prepare(`SELECT height, hash, header, sig FROM blocks ORDER BY height DESC LIMIT 1`),
      block: db.prepare(`SELECT height, hash, header, sig FROM blocks WHERE height = ?`),
      blocksFrom: db.prepare(`SELECT height, hash, header, sig FROM blocks WHERE height >= ? ORDER BY height LIMIT ?`),
      txsOf: db.prepare(`SELECT tx FROM txs WHERE height = ? ORDER BY idx`),
      txRowsOf: db.prepare(`SELECT id, idx, type, signer, tx FROM txs WHERE height = ? ORDER BY idx`),
      blockColumns: db.prepare(`SELECT height, slot, t, author, tx_count, readings_count FROM blocks WHERE height = ?`),
      readingRowsOf: db.prepare(`SELECT id, meter, seq, t, import_mwh, export_mwh, power_w, relay, credit_mwh, envelope FROM readings WHERE block_height = ? ORDER BY id`),
      readingRowsUncommitted: db.prepare(`SELECT id, meter, seq, t, import_mwh, export_mwh, power_w, relay, credit_mwh, envelope, block_height FROM readings WHERE block_height IS NULL OR block_height > ? OR block_height < 1 ORDER BY id`),
      txRowsOutside: db.prepare(`SELECT id, height, type FROM txs WHERE height < 1 OR height > ? ORDER BY height, idx`),
      creditRows: db.prepare(`SELECT nonce, meter, energy_mwh, valid_from, valid_until, ref, token FROM credits ORDER BY issued_at, nonce`),
      txsRange: db.prepare(`SELECT height, tx FROM txs WHERE height BETWEEN ? AND ? ORDER BY height, idx`),
      tx: db.prepare(`SELECT height, idx, tx FROM txs WHERE id = ?`),
      purchases: db.prepare(`SELECT x.id, x.height, x.signer, x.tx, b.t FROM txs x JOIN blocks b ON b.height = x.height
        WHERE x.type IN ('DirectPurchase', 'StoragePurchase') ORDER BY x.height DESC, x.idx DESC`),
      insertBlock: db.prepare(`INSERT INTO blocks (height, hash, header, sig, slot, t, author, tx_count, readings_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      insertTx: db.prepare(`INSERT INTO txs (id, height, idx, type, signer, tx) VALUES (?, ?, ?, ?, ?, ?)`),
      upsertState: db.prepare(`INSERT INTO state (key, value, height) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, height = excluded.height`),
      deleteState: db.prepare(`DELETE FROM state WHERE key = ?`),
      allState: db.prepare(`SELECT key, value, height FROM state`),
      pendingReadings: db.prepare(`SELECT id, envelope FROM readings WHERE block_height IS NULL ORDER BY id LIMIT ?`),
      commitReadings: db.prepare(`UPDATE readings SET block_height = ? WHERE block_height IS NULL AND id <= ?`),
      readingsOf: db.prepare(`SELECT envelope FROM readings WHERE block_height = ? ORDER BY id`),
      readingsCountOf: db.prepare(`SELECT block_height AS h, count(*) AS n FROM readings WHERE block_height BETWEEN ? AND ? GROUP BY block_height`),
      mempoolInsert: db.prepare(`INSERT OR IGNORE INTO mempool (id, tx) VALUES (?, ?)`),
      mempoolDelete: db.prepare(`DELETE FROM mempool WHERE id = ?`),
      mempoolAll: db.prepare(`SELECT id, tx FROM mempool ORDER BY seq`),
      meta: db.prepare(`SELECT value FROM meta WHERE key = ?`),
      setMeta: db.prepare(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`),
      txCount: db.prepare(`SELECT count(*) AS n FROM txs`),
      maxHeight: db.prepare(`SELECT max(height) AS h, count(*) AS n FROM blocks`),
    };
  }

  getMeta(key: string): string | undefined {
    return (this.q.meta.get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.q.setMeta.run(key, value);
  }

  headRow(): StoredBlockRow | undefined {
    return this.q.head.get() as StoredBlockRow | undefined;
  }

  blockRow(height: number): StoredBlockRow | undefined {
    return this.q.block.get(height) as StoredBlockRow | undefined;
  }

  blockRows(fromHeight: number, limit: number): StoredBlockRow[] {
    return this.q.blocksFrom.all(fromHeight, limit) as StoredBlockRow[];
  }

  txsOf(height: number): string[] {
    return (this.q.txsOf.all(height) as Array<{ tx: string }>).map((r) => r.tx);
  }

  /** Stored transaction rows of a block: the indexed columns and the canonical text. */
  txRowsOf(height: number): Array<TxColumns & { tx: string }> {
    return this.q.txRowsOf.all(height) as Array<TxColumns & { tx: string }>;
  }

  /** A block row's indexed copies of its header fields (checked against the header by verify). */
  blockColumns(height: number): BlockColumns | undefined {
    return this.q.blockColumns.get(height) as BlockColumns | undefined;
  }

  /** Every column of the readings a block commits, in commitment order. */
  readingRowsOf(height: number): ReadingColumns[] {
    return this.q.readingRowsOf.all(height) as ReadingColumns[];
  }

  /** Readings in no block of the chain (waiting for the next block, or pointing past the head). */
  readingRowsOutside(top: number): Array<ReadingColumns & { block_height: number | null }> {
    return this.q.readingRowsUncommitted.all(top) as Array<ReadingColumns & { block_height: number | null }>;
  }

  /** Transaction rows that claim a block the chain does not have (none, unless the file was edited). */
  txRowsOutside(top: number): Array<{ id: string; height: number; type: string }> {
    return this.q.txRowsOutside.all(top) as Array<{ id: string; height: number; type: string }>;
  }

  creditRows(): CreditColumns[] {
    return this.q.creditRows.all() as CreditColumns[];
  }

  txsBetween(from: number, to: number): Array<{ height: number; tx: string }> {
    return this.q.txsRange.all(from, to) as Array<{ height: number; tx: string }>;
  }

  txById(id: string): { height: number; idx: number; tx: string } | undefined {
    return this.q.tx.get(id) as { height: number; idx: number; tx: string } | undefined;
  }

  /**
   * Committed DirectPurchase and StoragePurchase transactions, newest first, as far as
   * `keep` accepts them (it returns false to stop). They leave no state entry of their
   * own, so a household's purchases are read from the chain.
   */
  eachPurchase(visit: (row: { id: string; height: number; signer: string; tx: string; t: number }) => boolean): void {
    for (const row of this.q.purchases.iterate() as IterableIterator<{ id: string; height: number; signer: string; tx: string; t: number }>) {
      if (!visit(row)) break;
    }
  }

  /** Load a stored block, parsing its header and transactions (strictly: an edited row fails here or at verification). */
  loadBlock(height: number): Block | undefined {
    const row = this.blockRow(height);
    if (!row) return undefined;
    return {
      header: parseJson(row.header) as unknown as BlockHeader,
      sig: row.sig,
      hash: row.hash,
      txs: this.txsOf(height).map((t) => parseJson(t) as unknown as SignedTx),
    };
  }

  /** The readings not yet in a block, oldest first, with their commitment. */
  pendingReadings(limit: number): { lastId: number; commitment: ReadingsCommitment } {
    const rows = this.q.pendingReadings.all(limit) as Array<{ id: number; envelope: string }>;
    return {
      lastId: rows.length ? rows[rows.length - 1].id : 0,
      commitment: { root: merkleRootHex(rows.map((r) => r.envelope)), count: rows.length },
    };
  }

  readingsOf(height: number): ReadingsCommitment {
    const rows = this.q.readingsOf.all(height) as Array<{ envelope: string }>;
    return { root: merkleRootHex(rows.map((r) => r.envelope)), count: rows.length };
  }

  readingEnvelopesOf(height: number): string[] {
    return (this.q.readingsOf.all(height) as Array<{ envelope: string }>).map((r) => r.envelope);
  }

  allState(): Array<{ key: string; value: string; height: number }> {
    return this.q.allState.all() as Array<{ key: string; value: string; height: number }>;
  }

  stats(): { height: number; blocks: number; txs: number } {
    const b = this.q.maxHeight.get() as { h: number | null; n: number };
    return { height: b.h ?? 0, blocks: b.n, txs: (this.q.txCount.get() as { n: number }).n };
  }

  /**
   * Append a block atomically: header, transactions, changed state entries and the
   * readings it commits (those still uncommitted with id ≤ readingsUpTo).
   */
  appendBlock(block: Block, txs: PreparedTx[], changes: ReadonlyMap<string, object | undefined>, readingsUpTo: number): void {
    const h = block.header;
    this.db.transaction(() => {
      this.q.insertBlock.run(h.height, block.hash, canonicalize(h), block.sig, h.slot, h.t, h.author, h.txCount, h.readingsCount);
      txs.forEach((p, i) => this.q.insertTx.run(p.id, h.height, i, p.tx.body.type, p.tx.body.signer, p.text));
      for (const [k, v] of changes) {
        if (v === undefined) this.q.deleteState.run(k);
        else this.q.upsertState.run(k, canonicalize(v), h.height);
      }
      if (h.readingsCount > 0) {
        const n = this.q.commitReadings.run(h.height, readingsUpTo).changes;
        if (n !== h.readingsCount) throw new Error(`block ${h.height} commits ${h.readingsCount} readings but ${n} were pending`);
      }
      // Committed transactions leave the durable mempool with the block that holds them.
      for (const p of txs) this.q.mempoolDelete.run(p.id);
    })();
  }

  /** Make admitted transactions durable (one SQLite transaction, before their 202 is sent). */
  savePending(txs: PreparedTx[]): void {
    if (!txs.length) return;
    this.db.transaction(() => {
      for (const p of txs) this.q.mempoolInsert.run(p.id, p.text);
    })();
  }

  /** Forget pending transactions that a block included or that were refused. */
  dropPending(ids: Iterable<string>): void {
    this.db.transaction(() => {
      for (const id of ids) this.q.mempoolDelete.run(id);
    })();
  }

  /** Pending transactions as admitted, oldest first (replayed into the mempool at start). */
  pendingTxs(): Array<{ id: string; tx: string }> {
    return this.q.mempoolAll.all() as Array<{ id: string; tx: string }>;
  }

  /** Write the genesis state (height 0) into an empty database. */
  writeGenesis(genesisHash: string, grid: string, entries: Iterable<[string, object]>): void {
    this.db.transaction(() => {
      this.setMeta('genesis_hash', genesisHash);
      this.setMeta('grid', grid);
      for (const [k, v] of entries) this.q.upsertState.run(k, canonicalize(v), 0);
    })();
  }
}
