/** Making signed transactions (wallets, the CLI, the gateway's own authority, tests). */
import { signBody, type KeyPair, type SignedTx, type TxBody } from '../../protocol/index.ts';
import { signBodyFast } from '../crypto/sign.ts';

type Fields<T> = T extends TxBody ? Omit<T, 'grid' | 'signer' | 'nonce' | 't'> : never;
export type TxFields = Fields<TxBody>;

export function signTx(fields: TxFields, key: Pick<KeyPair, 'keyId' | 'secretKey'> & { publicKey?: string }, meta: { grid: string; nonce: number; t: number }): SignedTx {
  const body = { ...fields, grid: meta.grid, signer: key.keyId, nonce: meta.nonce, t: meta.t } as TxBody;
  // With the public key at hand, sign on OpenSSL; otherwise the portable signer.
  return (key.publicKey ? signBodyFast(body, { publicKey: key.publicKey, secretKey: key.secretKey }) : signBody(body, key.secretKey)) as SignedTx;
}
