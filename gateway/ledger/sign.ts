/** Making signed transactions (wallets, the CLI, the gateway's own authority, tests). */
import { signBody, type KeyPair, type SignedTx, type TxBody } from '../../protocol/index.ts';

type Fields<T> = T extends TxBody ? Omit<T, 'grid' | 'signer' | 'nonce' | 't'> : never;
export type TxFields = Fields<TxBody>;

export function signTx(fields: TxFields, key: Pick<KeyPair, 'keyId' | 'secretKey'>, meta: { grid: string; nonce: number; t: number }): SignedTx {
  const body = { ...fields, grid: meta.grid, signer: key.keyId, nonce: meta.nonce, t: meta.t } as TxBody;
  return signBody(body, key.secretKey) as SignedTx;
}
