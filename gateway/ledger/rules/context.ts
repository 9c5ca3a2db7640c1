/** What every transaction rule gets, and the small helpers they share. */
import { fail, type Genesis, type SignedTx, type TxBody } from '../../../protocol/index.ts';
import type { StateWriter } from '../state.ts';
import { keys, type AuthorityEntry, type KeyEntry, type MeterEntry, type ParticipantEntry } from '../entities.ts';

export interface TxContext {
  genesis: Genesis;
  /** Height of the block the transaction is in (the next block, while in the mempool). */
  height: number;
  /** The block's time, ms: every time-dependent rule reads this, never a clock. */
  blockTime: number;
  txId: string;
  /** Submission order across the chain: height × 100 000 + index in block. */
  seq: number;
}

export interface TxEvent {
  kind: string;
  [field: string]: unknown;
}

/** Who signed: resolved from the signer's key id. */
export type Signer =
  | { kind: 'authority'; keyId: string; entry: AuthorityEntry }
  | { kind: 'participant'; keyId: string; entry: ParticipantEntry };

export interface RuleInput<T extends TxBody = TxBody> {
  state: StateWriter;
  body: T;
  tx: SignedTx;
  signer: Signer;
  ctx: TxContext;
}

export type Rule<T extends TxBody = TxBody> = (input: RuleInput<T>) => TxEvent[];

/** A transaction may claim to have been signed at most this far ahead of its block. */
export const MAX_TX_FUTURE_MS = 5 * 60_000;

export function resolveSigner(state: StateWriter, keyId: string): Signer {
  const k = state.get<KeyEntry>(keys.key(keyId));
  if (k && 'authority' in k) {
    const entry = state.get<AuthorityEntry>(keys.authority(keyId));
    if (entry) return { kind: 'authority', keyId, entry };
  }
  if (k && 'participant' in k) {
    const entry = state.get<ParticipantEntry>(keys.participant(k.participant));
    if (entry) return { kind: 'participant', keyId, entry };
  }
  return fail('E_UNKNOWN_SIGNER', `key ${keyId} belongs to no authority or registered participant; register the household first`, 'body.signer');
}

export function participant(state: StateWriter, email: string, path: string): ParticipantEntry {
  const p = state.get<ParticipantEntry>(keys.participant(email));
  if (!p) fail('E_UNKNOWN_PARTICIPANT', `no participant is registered as ${email}`, path);
  return p;
}

export function meter(state: StateWriter, id: string, path: string): MeterEntry {
  const m = state.get<MeterEntry>(keys.meter(id));
  if (!m) fail('E_UNKNOWN_METER', `meter ${id} is not enrolled`, path);
  return m;
}

/** A meter the signer owns and that is not revoked. */
export function ownMeter(state: StateWriter, id: string, owner: string, path: string): MeterEntry {
  const m = meter(state, id, path);
  if (m.revoked) fail('E_METER_REVOKED', `meter ${id} was revoked at height ${m.revoked.height} (${m.revoked.reason})`, path);
  if (m.participant !== owner) fail('E_NOT_OWNER', `meter ${id} belongs to ${m.participant}, not ${owner}`, path);
  return m;
}

export function requireParticipantSigner(signer: Signer, type: string): ParticipantEntry {
  if (signer.kind !== 'participant') fail('E_WRONG_ROLE', `${type} is signed by a household's own key, not an authority's`, 'body.signer');
  return signer.entry;
}

export function putParticipant(state: StateWriter, p: ParticipantEntry): void {
  state.set(keys.participant(p.email), p);
}

/** Move µHEC between participants' balances; throws before changing anything. */
export function debit(state: StateWriter, email: string, amount: number, path: string, what: string): ParticipantEntry {
  const p = participant(state, email, path);
  if (p.balanceMicroHec < amount) {
    fail('E_INSUFFICIENT_BALANCE', `${what} needs ${amount} µHEC but ${email} has ${p.balanceMicroHec} µHEC available`, path);
  }
  const next = { ...p, balanceMicroHec: p.balanceMicroHec - amount };
  putParticipant(state, next);
  return next;
}

export function credit(state: StateWriter, email: string, amount: number, path: string): ParticipantEntry {
  const p = participant(state, email, path);
  const balance = p.balanceMicroHec + amount;
  if (!Number.isSafeInteger(balance)) fail('E_OUT_OF_RANGE', `balance of ${email} would exceed 2^53−1 µHEC`, path);
  const next = { ...p, balanceMicroHec: balance };
  putParticipant(state, next);
  return next;
}
