/** Types of the browser wallet (wallet.js), for the tests that run it on Node's WebCrypto. */
import type { Signed } from '../../protocol/index.ts';

export interface KeyPairHandle {
  privateKey: { extractable: boolean };
  publicKey: string;
  keyId: string;
}
export interface WalletView {
  publicKey: string;
  keyId: string;
  email: string;
}
export function b64url(bytes: Uint8Array): string;
export function canonicalize(v: unknown): string;
export function lowS(sig: Uint8Array): Uint8Array;
export function compress(raw: Uint8Array): Uint8Array;
export function keyIdOf(compressed: Uint8Array): Promise<string>;
export function newKeyPair(): Promise<KeyPairHandle>;
export function loadWallet(): Promise<WalletView | null>;
export function setEmail(email: string): Promise<WalletView>;
export function forgetWallet(): Promise<void>;
export function extractable(): boolean | undefined;
export function signBody<T>(wallet: KeyPairHandle | null, body: T): Promise<Signed<T>>;
export function loginToken(wallet: KeyPairHandle | null, grid: string, now: number, ttlMs?: number): Promise<string>;
export function signTx<T extends Record<string, unknown>>(wallet: KeyPairHandle | null, fields: T, meta: { grid: string; nonce: number; t: number }): Promise<Signed<T & { grid: string; signer: string; nonce: number; t: number }>>;
/** The key file the browser reads and writes: the CLI's own format (gateway/keystore.ts), one format for both. */
import type { KeystoreFile } from '../../gateway/keystore.ts';
export type { KeystoreFile };
export class WalletError extends Error {
  code: string;
  constructor(code: string, message: string);
}
export function newBackedUpKey(passphrase: string, label?: string): Promise<{ handle: KeyPairHandle; file: KeystoreFile }>;
export function makeKey(passphrase: string): Promise<{ wallet: WalletView; backup: string }>;
export function openKeyFile(file: KeystoreFile | string, passphrase?: string): Promise<KeyPairHandle>;
export function restoreKey(file: KeystoreFile | string, passphrase?: string): Promise<WalletView>;
export function keystoreText(file: KeystoreFile): string;
