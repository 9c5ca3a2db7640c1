/**
 * The ledger as the gateway runs it: committed state in memory and in SQLite, a
 * mempool, and block production in this authority's Aura slots. All writes to the
 * chain happen inside produce(), which is synchronous — JavaScript's single thread
 * is the one lock around chain writes — and append a whole block in one SQLite
 * transaction.
 */
import { EventEmitter } from 'node:events';
import { fail, parseJson, type Genesis, type SignedTx } from '../../protocol/index.ts';
import { prepareTx, produceBlock, tipOf, type Block, type PreparedTx, type Rejection } from './block.ts';
import type { BatchVerifier } from '../crypto/batchVerifier.ts';
import { ChainStore } from './chainStore.ts';
import { genesisHash, genesisState } from './genesis.ts';
import { Mempool } from './mempool.ts';
import { State } from './state.ts';
import type { ChainTip } from './aura.ts';
import { authorOf, slotOf } from './aura.ts';
import type { TxEvent } from './rules/index.ts';

export interface AuthorityKey {
  keyId: string;
  secretKey: Uint8Array;
  publicKey?: string;
}

export interface LedgerOptions {
  maxTxsPerBlock?: number;
  maxReadingsPerBlock?: number;
  maxPending?: number;
  /** Remembered rejections for GET /api/tx/:id. */
  maxRejections?: number;
  /** Checks admission signatures off the main thread; without it they are checked inline. */
  verifier?: BatchVerifier;
}

export interface CommittedBlock {
  block: Block;
  events: Array<{ txId: string; events: TxEvent[] }>;
  rejected: Rejection[];
}

export type TxStatus =
  | { status: 'pending' }
  | { status: 'committed'; height: number; block: string; index: number }
  | { status: 'rejected'; code: string; message: string }
  | { status: 'unknown' };

export class Ledger extends EventEmitter<{ block: [CommittedBlock]; rejected: [Rejection] }> {
  readonly genesis: Genesis;
  readonly genesisHash: string;
  readonly store: ChainStore;
  readonly state: State;
  private tipValue: ChainTip;
  readonly mempool: Mempool;
  private readonly rejections = new Map<string, Rejection>();
  /** Ids of recently committed transactions, for E_DUPLICATE_TX without a database lookup (older ones fail on their nonce). */
  private readonly recent = new Set<string>();
  private readonly opts: Required<Omit<LedgerOptions, 'verifier'>>;
  private readonly verifier: BatchVerifier | undefined;
  /** Admissions waiting for their signature check, in arrival order. */
  /** Transactions admitted by submit() in this turn, not yet in the mempool table. */
  private unsaved: PreparedTx[] = [];
  private readonly admissions: Array<{ p: PreparedTx; ok?: boolean; resolve(id: string): void; reject(e: unknown): void }> = [];

  constructor(store: ChainStore, genesis: Genesis, opts: LedgerOptions = {}) {
    super();
    this.opts = {
      maxTxsPerBlock: opts.maxTxsPerBlock ?? 10_000,
      maxReadingsPerBlock: opts.maxReadingsPerBlock ?? 200_000,
      maxPending: opts.maxPending ?? 50_000,
      maxRejections: opts.maxRejections ?? 100_000,
    };
    this.verifier = opts.verifier;
    this.store = store;
    this.genesis = genesis;
    this.genesisHash = genesisHash(genesis);
    const stored = store.getMeta('genesis_hash');
    if (stored === undefined) {
      const g = genesisState(genesis);
      store.writeGenesis(this.genesisHash, genesis.grid, g.entries<object>());
    } else if (stored !== this.genesisHash) {
      fail('E_WRONG_GRID', `the database in this data directory belongs to another genesis (${stored.slice(0, 16)}…, not ${this.genesisHash.slice(0, 16)}…)`);
    }
    this.state = new State();
    const changes = new Map<string, object>();
    for (const row of store.allState()) changes.set(row.key, parseJson(row.value) as object);
    this.state.apply(changes);
    const head = store.headRow();
    if (head) {
      const header = parseJson(head.header) as { stateRoot: string; height: number; slot: number; t: number };
      this.tipValue = { height: header.height, hash: head.hash, slot: header.slot, t: header.t };
      if (this.state.root() !== header.stateRoot) {
        fail('E_STATE_MISMATCH', `the state tables do not match the state root of block ${header.height}; the database was altered — run "helios ledger verify" to find where`);
      }
    } else {
      this.tipValue = { height: 0, hash: this.genesisHash, slot: -1, t: genesis.t };
      if (this.state.root() !== genesisState(genesis).root()) {
        fail('E_STATE_MISMATCH', 'the state tables do not match the genesis state; the database was altered — run "helios ledger verify"');
      }
    }
    this.mempool = new Mempool(genesis, this.state, { maxPending: this.opts.maxPending });
    this.replayPending();
  }

  /**
   * Transactions answered 202 before a stop or a crash are in the mempool table:
   * admit them again, in their order, against the committed state (their nonces
   * follow each other as before). One that a block already holds, or that no longer
   * applies, leaves the table; a refusal is remembered for GET /api/tx/:id.
   */
  private replayPending(): void {
    const gone: string[] = [];
    for (const row of this.store.pendingTxs()) {
      if (this.store.txById(row.id)) {
        gone.push(row.id);
        continue;
      }
      let p: PreparedTx;
      try {
        p = prepareTx(parseJson(row.tx) as unknown as SignedTx);
        if (p.id !== row.id) fail('E_BAD_TX_ROOT', `the stored pending transaction ${row.id} no longer hashes to its id; it was edited`);
        const key = this.mempool.precheck(p, this.isCommitted);
        this.mempool.admit(p, Mempool.verifyHere(p, key), this.tipValue.height + 1, this.tipValue.t, this.isCommitted);
      } catch (e) {
        gone.push(row.id);
        const code = (e as { code?: string }).code;
        if (code && code !== 'E_DUPLICATE_TX') this.remember({ id: row.id, code, message: (e as Error).message });
      }
    }
    if (gone.length) this.store.dropPending(gone);
  }

  get tip(): ChainTip {
    return this.tipValue;
  }

  private isCommitted = (id: string) => this.recent.has(id);

  /**
   * Admit a signed transaction (schema already checked), checking its signature on
   * this thread. Returns its id; throws a HeliosError.
   */
  submit(tx: SignedTx, now: number): string {
    const p = prepareTx(tx);
    const id = this.guarded(p, () => {
      const key = this.mempool.precheck(p, this.isCommitted);
      return this.mempool.admit(p, Mempool.verifyHere(p, key), this.tipValue.height + 1, now, this.isCommitted);
    });
    // Durable before any answer: written at the end of this turn, in one SQLite transaction with every
    // other transaction submitted in it (a scheduler submitting a thousand standing orders pays one fsync).
    this.unsaved.push(p);
    if (this.unsaved.length === 1) queueMicrotask(() => this.saveUnsaved());
    return id;
  }

  /**
   * As submit, with the signature checked on the worker pool. Transactions are
   * admitted in the order they arrived, whatever order their checks finish in.
   */
  submitAsync(tx: SignedTx, now: () => number): Promise<string> {
    if (!this.verifier) return Promise.resolve().then(() => this.submit(tx, now()));
    const p = prepareTx(tx);
    let key: string;
    try {
      key = this.guarded(p, () => this.mempool.precheck(p, this.isCommitted));
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise((resolve, reject) => {
      const entry: (typeof this.admissions)[number] = { p, resolve, reject };
      this.admissions.push(entry);
      this.verifier!.verify({ publicKey: key, message: Buffer.from(p.bodyText), sig: tx.sig }).then(
        (ok) => { entry.ok = ok; this.drainAdmissions(now()); },
        (e) => { entry.ok = false; entry.reject(e); this.drainAdmissions(now()); },
      );
    });
  }

  /** Write what submit() admitted in this turn now (the HTTP layer calls it before any answer leaves). */
  saveUnsaved(): void {
    if (!this.unsaved.length) return;
    const list = this.unsaved;
    this.unsaved = [];
    this.store.savePending(list);
  }

  private drainAdmissions(now: number): void {
    const admitted: Array<(typeof this.admissions)[number]> = [];
    while (this.admissions.length && this.admissions[0].ok !== undefined) {
      const e = this.admissions.shift()!;
      try {
        this.guarded(e.p, () => this.mempool.admit(e.p, e.ok!, this.tipValue.height + 1, now, this.isCommitted));
        admitted.push(e);
      } catch (err) {
        e.reject(err);
      }
    }
    if (!admitted.length) return;
    // 202 promises durability: the admitted are written in one SQLite transaction before any is answered.
    this.store.savePending(admitted.map((e) => e.p));
    for (const e of admitted) e.resolve(e.p.id);
  }

  private guarded<T>(p: PreparedTx, f: () => T): T {
    try {
      return f();
    } catch (e) {
      const code = (e as { code?: string }).code;
      // A refused transaction is remembered (except duplicates, which would overwrite the original's status).
      if (code && code !== 'E_DUPLICATE_TX') this.remember({ id: p.id, code, message: (e as Error).message });
      throw e;
    }
  }

  status(id: string): TxStatus {
    if (this.mempool.has(id)) return { status: 'pending' };
    const row = this.store.txById(id);
    if (row) return { status: 'committed', height: row.height, block: this.store.blockRow(row.height)!.hash, index: row.idx };
    const r = this.rejections.get(id);
    if (r) return { status: 'rejected', code: r.code, message: r.message };
    return { status: 'unknown' };
  }

  /** Whether `author` may make a block at time `t` (its Aura slot, after the tip's). */
  canProduce(authorKeyId: string, t: number): boolean {
    const slot = slotOf(t, this.genesis);
    return slot > this.tipValue.slot && authorOf(slot, this.genesis).keyId === authorKeyId && t >= this.tipValue.t;
  }

  /** Something to commit: pending transactions or uncommitted readings. */
  hasWork(): boolean {
    return this.mempool.size > 0 || this.store.pendingReadings(1).commitment.count > 0;
  }

  /** Make, store and announce the next block at time t. */
  produce(author: AuthorityKey, t: number): CommittedBlock {
    this.saveUnsaved();
    const candidates = this.mempool.take(this.opts.maxTxsPerBlock);
    const { lastId, commitment } = this.store.pendingReadings(this.opts.maxReadingsPerBlock);
    const p = produceBlock({ genesis: this.genesis, parent: this.tipValue, state: this.state, candidates, readings: commitment, t, author });
    const ids = p.included.map((x) => x.id);
    this.store.appendBlock(p.block, p.included, p.changes, lastId);
    for (const id of ids) this.recent.add(id);
    while (this.recent.size > 500_000) this.recent.delete(this.recent.values().next().value!);
    // Only after the block is durable does memory move on.
    this.state.apply(p.changes);
    this.tipValue = tipOf(p.block);
    const done = new Set<string>([...ids, ...p.rejected.map((r) => r.id)]);
    const dropped = this.mempool.rebase(this.state, done, this.tipValue.height + 1, t);
    const rejected = [...p.rejected, ...dropped];
    if (rejected.length) this.store.dropPending(rejected.map((r) => r.id));
    for (const r of rejected) this.remember(r);
    const committed: CommittedBlock = { block: p.block, events: p.events, rejected };
    this.emit('block', committed);
    return committed;
  }

  private remember(r: Rejection): void {
    this.rejections.delete(r.id);
    this.rejections.set(r.id, r);
    if (this.rejections.size > this.opts.maxRejections) this.rejections.delete(this.rejections.keys().next().value!);
    this.emit('rejected', r);
  }

  /** The next nonce for a signer, counting pending transactions. */
  nextNonce(signerKeyId: string): number {
    const v = this.mempool.view;
    const k = v.get<{ participant?: string; authority?: true }>(`key/${signerKeyId}`);
    if (!k) return 1;
    if (k.authority) return (v.get<{ nonce: number }>(`authority/${signerKeyId}`)?.nonce ?? 0) + 1;
    if (k.participant) return (v.get<{ nonce: number }>(`participant/${k.participant}`)?.nonce ?? 0) + 1;
    return 1;
  }
}

export type { SignedTx };
