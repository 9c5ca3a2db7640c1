/**
 * Transactions waiting for a block. Admission runs every check a block would —
 * signature, nonce, balance, permission, size — against the committed state plus
 * everything already pending, so a client learns at once whether its transaction
 * can go in, and a refused one changes nothing.
 */
import { canonicalize, fail, fromBase64url, isHeliosError, utf8Encode, type Genesis, type SignedTx } from '../../protocol/index.ts';
import { verifyP256 } from '../crypto/p256-node.js';
import { txId, type Rejection } from './block.ts';
import { publicKeyOf } from './keys.ts';
import { applyTx } from './rules/index.ts';
import { Draft, type State } from './state.ts';

export interface MempoolOptions {
  maxPending: number;
}

export class Mempool {
  private pending: Array<{ id: string; tx: SignedTx }> = [];
  private readonly ids = new Set<string>();
  private draft: Draft;
  private readonly genesis: Genesis;
  private readonly opts: MempoolOptions;

  constructor(genesis: Genesis, committed: State, opts: Partial<MempoolOptions> = {}) {
    this.genesis = genesis;
    this.opts = { maxPending: opts.maxPending ?? 50_000 };
    this.draft = new Draft(committed);
  }

  get size(): number {
    return this.pending.length;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** The state including pending transactions (for "next nonce" and balance answers). */
  get view(): Draft {
    return this.draft;
  }

  /**
   * Admit a transaction (already schema-validated) or throw a HeliosError.
   * `height` and `now` stand in for the block it will go into.
   */
  admit(tx: SignedTx, height: number, now: number, isCommitted: (id: string) => boolean): string {
    const id = txId(tx);
    if (this.ids.has(id) || isCommitted(id)) fail('E_DUPLICATE_TX', `transaction ${id} was already submitted`);
    if (this.pending.length >= this.opts.maxPending) fail('E_MEMPOOL_FULL', `${this.pending.length} transactions are waiting for a block; try again in a few seconds`);
    const key = publicKeyOf(this.draft, tx.body.signer);
    if (key === undefined) fail('E_UNKNOWN_SIGNER', `key ${tx.body.signer} belongs to no authority or registered participant; register the household first`, 'body.signer');
    let sig: Uint8Array;
    try {
      sig = fromBase64url(tx.sig);
    } catch {
      sig = new Uint8Array(0);
    }
    if (!verifyP256(key, utf8Encode(canonicalize(tx.body)), sig)) {
      fail('E_BAD_SIGNATURE', `signature does not verify with the key of ${tx.body.signer}; the transaction was altered or signed with another key`, 'sig');
    }
    applyTx(this.draft, tx, { genesis: this.genesis, height, blockTime: now, txId: id, seq: height * 100_000 + this.pending.length });
    this.pending.push({ id, tx });
    this.ids.add(id);
    return id;
  }

  /** Oldest first, at most `max`. */
  take(max: number): SignedTx[] {
    return this.pending.slice(0, max).map((p) => p.tx);
  }

  /**
   * After a block: drop what it included (and what it rejected), and re-check the
   * rest against the new state. Returns the ones that no longer apply.
   */
  rebase(committed: State, includedOrRejected: Set<string>, height: number, now: number): Rejection[] {
    const keep = this.pending.filter((p) => !includedOrRejected.has(p.id));
    for (const id of includedOrRejected) this.ids.delete(id);
    this.draft = new Draft(committed);
    this.pending = [];
    const dropped: Rejection[] = [];
    for (const p of keep) {
      try {
        applyTx(this.draft, p.tx, { genesis: this.genesis, height, blockTime: now, txId: p.id, seq: height * 100_000 + this.pending.length });
        this.pending.push(p);
      } catch (e) {
        if (!isHeliosError(e)) throw e;
        this.ids.delete(p.id);
        dropped.push({ id: p.id, code: e.code, message: e.message });
      }
    }
    return dropped;
  }
}
