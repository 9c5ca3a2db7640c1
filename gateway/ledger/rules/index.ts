/**
 * applyTx — the ledger's one state transition: (state, signed transaction, block
 * context) → events. Pure: it reads and writes only the state it is given, reads
 * time only from the context, and either applies the whole transaction or throws a
 * HeliosError having changed nothing. The signature is checked before this (by the
 * mempool or by verify, on worker threads); everything else is checked here.
 */
import { AUTHORITY_TX, fail, type SignedTx, type TxBody, type TxType } from '../../../protocol/index.ts';
import { Draft, type StateWriter } from '../state.ts';
import { keys } from '../entities.ts';
import { MAX_TX_FUTURE_MS, resolveSigner, type Rule, type TxContext, type TxEvent } from './context.ts';
import { enrollMeter, registerParticipant, revokeMeter } from './identity.ts';
import { mint, transfer } from './tokens.ts';
import { marketRules } from './market.ts';
import { setTariff } from './utility.ts';

const rules: Partial<Record<TxType, Rule<never>>> = {
  RegisterParticipant: registerParticipant,
  EnrollMeter: enrollMeter,
  RevokeMeter: revokeMeter,
  Transfer: transfer,
  Mint: mint,
  ...marketRules,
  SetTariff: setTariff,
};

/** Transaction types a participant may also have an authority place for them (standing orders). */
const AUTHORITY_ON_BEHALF = new Set<TxType>(['PVOffer', 'BuyOffer']);

export function applyTx(state: StateWriter, tx: SignedTx, ctx: TxContext): TxEvent[] {
  const body = tx.body as TxBody;
  if (body.grid !== ctx.genesis.grid) {
    fail('E_WRONG_GRID', `transaction is for grid "${body.grid}", this is "${ctx.genesis.grid}"`, 'body.grid');
  }
  if (body.t > ctx.blockTime + MAX_TX_FUTURE_MS) {
    fail('E_FUTURE_TX', `transaction time ${new Date(body.t).toISOString()} is more than 5 minutes ahead of the block (${new Date(ctx.blockTime).toISOString()}); check the signer's clock`, 'body.t');
  }
  const draft = new Draft(state);
  const signer = resolveSigner(draft, body.signer);
  const onBehalf = AUTHORITY_ON_BEHALF.has(body.type) && 'order' in body && body.order !== undefined;
  if (AUTHORITY_TX.has(body.type) && signer.kind !== 'authority') {
    fail('E_NOT_AUTHORITY', `${body.type} must be signed by an authority of this grid`, 'body.signer');
  }
  if (onBehalf && signer.kind !== 'authority') {
    fail('E_NOT_AUTHORITY', `${body.type} with a standing order is placed by an authority; sign it without "order" to place it yourself`, 'body.order');
  }
  const expected = signer.entry.nonce + 1;
  if (body.nonce !== expected) {
    fail('E_BAD_NONCE', `nonce ${body.nonce} is not the signer's next nonce; use ${expected}`, 'body.nonce');
  }
  const rule = rules[body.type] as Rule | undefined;
  if (!rule) fail('E_UNKNOWN_TYPE', `${body.type} is not supported by this ledger`, 'body.type');
  // Bump the nonce first so rules see the signer as it will be after this transaction.
  if (signer.kind === 'authority') draft.set(keys.authority(signer.keyId), { ...signer.entry, nonce: expected });
  else draft.set(keys.participant(signer.entry.email), { ...signer.entry, nonce: expected });
  const events = rule({ state: draft, body, tx, signer: resolveSigner(draft, body.signer), ctx });
  draft.mergeInto(state);
  return events;
}

export type { TxContext, TxEvent } from './context.ts';
