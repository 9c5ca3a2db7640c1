/**
 * The gateway's own authority: it signs the transactions only an authority may
 * (registrations, enrolments, mints, market broadcasts, settlement). All of them go
 * through here so the authority's nonces are handed out in one place.
 */
import type { KeyPair, SignedTx } from '../protocol/index.ts';
import type { Clock } from '../protocol/index.ts';
import type { Ledger } from './ledger/ledger.ts';
import { signTx, type TxFields } from './ledger/sign.ts';

export class AuthoritySigner {
  readonly key: KeyPair;
  private readonly ledger: Ledger;
  private readonly clock: Clock;

  constructor(key: KeyPair, ledger: Ledger, clock: Clock) {
    this.key = key;
    this.ledger = ledger;
    this.clock = clock;
  }

  /** Sign with the next nonce and admit to the mempool; throws a HeliosError when the ledger refuses it. */
  submit(fields: TxFields): { id: string; tx: SignedTx } {
    const now = this.clock.now();
    const tx = signTx(fields, this.key, { grid: this.ledger.genesis.grid, nonce: this.ledger.nextNonce(this.key.keyId), t: now });
    return { id: this.ledger.submit(tx, now), tx };
  }
}
