/** HEC: transfers between households and an authority's top-up (Mint). */
import { fail, STORAGE_ACCOUNT, type TxOf } from '../../../protocol/index.ts';
import { keys, type SupplyEntry } from '../entities.ts';
import { credit, debit, participant, requireParticipantSigner, type Rule } from './context.ts';
import { putStorage, storageOf } from './marketState.ts';

export const transfer: Rule<TxOf<'Transfer'>> = ({ state, body, signer }) => {
  const from = requireParticipantSigner(signer, 'Transfer');
  if (body.to === from.email) fail('E_SELF_TRANSFER', `a transfer to yourself (${from.email}) does nothing; check the recipient`, 'body.to');
  participant(state, body.to, 'body.to');
  debit(state, from.email, body.amountMicroHec, 'body.amountMicroHec', 'this transfer');
  credit(state, body.to, body.amountMicroHec, 'body.to');
  return [{ kind: 'transfer', from: from.email, to: body.to, amountMicroHec: body.amountMicroHec }];
};

export const mint: Rule<TxOf<'Mint'>> = ({ state, body, ctx }) => {
  const max = ctx.genesis.maxMintMicroHec;
  if (max !== undefined && body.amountMicroHec > max) {
    fail('E_MINT_LIMIT', `Mint of ${body.amountMicroHec} µHEC is above this grid's limit of ${max} µHEC per transaction`, 'body.amountMicroHec');
  }
  const toStorage = body.to === STORAGE_ACCOUNT;
  if (!toStorage) participant(state, body.to, 'body.to');
  const supply = state.get<SupplyEntry>(keys.supply) ?? { mintedMicroHec: 0 };
  const minted = supply.mintedMicroHec + body.amountMicroHec;
  if (!Number.isSafeInteger(minted)) fail('E_OUT_OF_RANGE', 'total supply would exceed 2^53−1 µHEC', 'body.amountMicroHec');
  state.set(keys.supply, { mintedMicroHec: minted });
  if (toStorage) {
    // Funds the community storage's purchases of surplus export (docs/market.md §5).
    const s = storageOf(state, ctx.genesis);
    putStorage(state, { ...s, fundMicroHec: s.fundMicroHec + body.amountMicroHec });
    return [{ kind: 'mint', to: body.to, amountMicroHec: body.amountMicroHec }, { kind: 'storageChanged' }];
  }
  credit(state, body.to, body.amountMicroHec, 'body.to');
  return [{ kind: 'mint', to: body.to, amountMicroHec: body.amountMicroHec }];
};
