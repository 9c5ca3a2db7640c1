/**
 * Transactions waiting for a block. Admission runs every check a block would —
 * signature, nonce, balance, permission, size — against the committed state plus
 * everything already pending, so a client learns at once whether its transaction
 * can go in, and a refused one changes nothing.
 */
import { fail, fromBase64url, isHeliosError, type Genesis } from '../../protocol/index.ts';
import { verifyP256 } from '../../shared/p256-node.js';
import type { PreparedTx, Rejection } from './block.ts';
import { publicKeyOf } from './keys.ts';
import { applyTx } from './rules/index.ts';
import { Draft, type State } from './state.ts';

export interface MempoolOptions {
  maxPending: number;
}

export class Mempool {
  private pending: PreparedTx[] = [];
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

  /** Refusals that need no signature check: duplicates, a full pool, an unknown signer. Returns the signer's public key. */
  precheck(p: PreparedTx, isCommitted: (id: string) => boolean): string {
    if (this.ids.has(p.id) || isCommitted(p.id)) fail('E_DUPLICATE_TX', `transaction ${p.id} was already submitted`);
    if (this.pending.length >= this.opts.maxPending) fail('E_MEMPOOL_FULL', `${this.pending.length} transactions are waiting for a block; try again in a few seconds`);
    const key = publicKeyOf(this.draft, p.tx.body.signer);
    if (key === undefined) fail('E_UNKNOWN_SIGNER', `key ${p.tx.body.signer} belongs to no authority or registered participant; register the household first`, 'body.signer');
    return key;
  }

  /**
   * Admit a prepared transaction whose signature was checked (`signatureOk`), or
   * throw a HeliosError. `height` and `now` stand in for the block it will go into.
   */
  admit(p: PreparedTx, signatureOk: boolean, height: number, now: number, isCommitted: (id: string) => boolean): string {
    this.precheck(p, isCommitted);
    if (!signatureOk) {
      fail('E_BAD_SIGNATURE', `signature does not verify with the key of ${p.tx.body.signer}; the transaction was altered or signed with another key`, 'sig');
    }
    applyTx(this.draft, p.tx, { genesis: this.genesis, height, blockTime: now, txId: p.id, seq: height * 100_000 + this.pending.length });
    this.pending.push(p);
    this.ids.add(p.id);
    return p.id;
  }

  /** Checks a signature here, on this thread (for the few transactions the gateway signs itself). */
  static verifyHere(p: PreparedTx, key: string): boolean {
    let sig: Uint8Array;
    try {
      sig = fromBase64url(p.tx.sig);
    } catch {
      return false;
    }
    return verifyP256(key, Buffer.from(p.bodyText), sig);
  }

  /** Oldest first, at most `max`. */
  take(max: number): PreparedTx[] {
    return this.pending.slice(0, max);
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
