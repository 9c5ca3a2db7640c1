/**
 * Encrypted key files for authority keys and household wallets: the secret key is
 * sealed with AES-256-GCM under a key derived from a passphrase by scrypt
 * (RFC 7914). `--insecure-demo-key` stores it in the clear, for demos only, and the
 * file says so.
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fail, fromHex, keyIdOf, keyPairFromSecret, toHex, type KeyPair } from '../protocol/index.ts';

export interface KeystoreFile {
  type: 'HeliosKeystore';
  version: 1;
  label: string;
  keyId: string;
  publicKey: string;
  /** Present only in insecure (demo) key files. */
  insecure?: true;
  secretKeyHex?: string;
  kdf?: { name: 'scrypt'; N: number; r: number; p: number; saltHex: string };
  cipher?: { name: 'aes-256-gcm'; ivHex: string; tagHex: string; ciphertextHex: string };
}

const SCRYPT = { N: 1 << 15, r: 8, p: 1 };
const MAXMEM = 128 * 1024 * 1024;

export function sealKey(key: KeyPair, passphrase: string, label: string): KeystoreFile {
  if (passphrase.length < 8) fail('E_WEAK_PASSPHRASE', 'a passphrase needs at least 8 characters');
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const k = scryptSync(passphrase.normalize('NFKC'), salt, 32, { ...SCRYPT, maxmem: MAXMEM });
  const c = createCipheriv('aes-256-gcm', k, iv);
  c.setAAD(Buffer.from(key.keyId));
  const ct = Buffer.concat([c.update(key.secretKey), c.final()]);
  return {
    type: 'HeliosKeystore', version: 1, label, keyId: key.keyId, publicKey: key.publicKey,
    kdf: { name: 'scrypt', ...SCRYPT, saltHex: salt.toString('hex') },
    cipher: { name: 'aes-256-gcm', ivHex: iv.toString('hex'), tagHex: c.getAuthTag().toString('hex'), ciphertextHex: ct.toString('hex') },
  };
}

export function insecureKey(key: KeyPair, label: string): KeystoreFile {
  return { type: 'HeliosKeystore', version: 1, label, keyId: key.keyId, publicKey: key.publicKey, insecure: true, secretKeyHex: toHex(key.secretKey) };
}

export function openKey(file: KeystoreFile, passphrase?: string): KeyPair {
  let secret: Uint8Array;
  if (file.insecure) {
    secret = fromHex(file.secretKeyHex ?? '');
  } else {
    if (!file.kdf || !file.cipher) fail('E_BAD_KEYSTORE', 'key file has neither a cipher nor an insecure key');
    if (passphrase === undefined) fail('E_PASSPHRASE_REQUIRED', `the key file "${file.label}" is encrypted; give its passphrase`);
    const k = scryptSync(passphrase.normalize('NFKC'), Buffer.from(file.kdf.saltHex, 'hex'), 32, { N: file.kdf.N, r: file.kdf.r, p: file.kdf.p, maxmem: MAXMEM });
    const d = createDecipheriv('aes-256-gcm', k, Buffer.from(file.cipher.ivHex, 'hex'));
    d.setAAD(Buffer.from(file.keyId));
    d.setAuthTag(Buffer.from(file.cipher.tagHex, 'hex'));
    try {
      secret = new Uint8Array(Buffer.concat([d.update(Buffer.from(file.cipher.ciphertextHex, 'hex')), d.final()]));
    } catch {
      return fail('E_BAD_PASSPHRASE', `wrong passphrase for the key file "${file.label}" (or the file was altered)`);
    }
  }
  const key = keyPairFromSecret(secret);
  if (key.keyId !== file.keyId || key.publicKey !== file.publicKey || keyIdOf(file.publicKey) !== file.keyId) {
    fail('E_BAD_KEYSTORE', `key file "${file.label}" is inconsistent: its key does not match its key id`);
  }
  return key;
}

export function writeKeystore(path: string, file: KeystoreFile): void {
  if (existsSync(path)) fail('E_EXISTS', `${path} already exists; refusing to overwrite a key`);
  writeFileSync(path, JSON.stringify(file, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
}

export function readKeystore(path: string): KeystoreFile {
  if (!existsSync(path)) fail('E_NOT_FOUND', `no key file at ${path}`);
  const f = JSON.parse(readFileSync(path, 'utf8')) as KeystoreFile;
  if (f.type !== 'HeliosKeystore' || f.version !== 1) fail('E_BAD_KEYSTORE', `${path} is not a Helios key file`);
  return f;
}
