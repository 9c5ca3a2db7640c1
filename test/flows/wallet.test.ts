/**
 * The browser wallet's signing (flows/public/wallet.js) on a real WebCrypto (Node's,
 * the same API a browser has) against the protocol's own rules: its canonical JSON
 * is RFC 8785 as protocol/json.ts writes it, its key ids are protocol/ecdsa.ts's,
 * its signatures verify strictly (low S) — many of them, since WebCrypto gives a
 * high S about half the time — and its Login token is the HTTP household credential.
 * Its backup files are the CLI's key files (gateway/keystore.ts), both ways.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { canonicalize, fromBase64url, generateKeyPair, keyIdOf, LoginBody, verifyBody, type Signed } from '../../protocol/index.ts';
import { insecureKey, openKey, sealKey, type KeystoreFile } from '../../gateway/keystore.ts';

import * as wallet from '../../flows/public/wallet.js';

const entropy = (n: number) => new Uint8Array(randomBytes(n));

test('canonical JSON matches the protocol\'s (RFC 8785) for what Helios signs', (t) => {
  const bodies = [
    { type: 'BuyOffer', listing: '2026-03-21T13:00Z', meter: 'ab'.repeat(16), energyMWh: 500_000, bidPriceMicroHecPerKWh: 300_000, grid: 'g', signer: 'cd'.repeat(16), nonce: 1, t: 1_774_098_000_000 },
    { z: [1, { b: 'é€😀', a: null }], a: true, 'ü': -0, '\u0001': 'x\n"' },
    { memo: 'quote " backslash \\ tab \t', amountMicroHec: 9_007_199_254_740_991 },
  ];
  for (const b of bodies) t.is(wallet.canonicalize(b), canonicalize(b));
});

test('a WebCrypto key signs what the protocol verifies, always low-S; its key id is the protocol\'s', async (t) => {
  const w = await wallet.newKeyPair();
  t.false(w.privateKey.extractable);
  t.is(w.keyId, keyIdOf(w.publicKey));
  for (let i = 0; i < 40; i++) {
    const tx = await wallet.signTx(w, { type: 'Transfer', to: 'zarak@example.org', amountMicroHec: 1000 + i }, { grid: 'test-grid', nonce: i + 1, t: 1_774_098_000_000 + i });
    t.true(verifyBody(tx, w.publicKey), `signature ${i} verifies strictly`);
    t.is(tx.body.signer, w.keyId);
    t.is(fromBase64url(tx.sig).length, 64);
  }
});

test('the Login token is base64url of the canonical signed Login for client "http"', async (t) => {
  const w = await wallet.newKeyPair();
  const now = 1_774_098_000_000;
  const token = await wallet.loginToken(w, 'test-grid', now, 60 * 60_000);
  const signed = JSON.parse(new TextDecoder().decode(fromBase64url(token))) as Signed<LoginBody>;
  t.is(new TextDecoder().decode(fromBase64url(token)), canonicalize(signed));
  LoginBody.parse(signed.body, 'body');
  t.like(signed.body, { type: 'Login', grid: 'test-grid', id: w.keyId, client: 'http', iat: now, exp: now + 15 * 60_000 });
  t.true(verifyBody(signed, w.publicKey));
});

// — Backup and import: the file format is gateway/keystore.ts's (what `helios wallet new` writes). —

test('a browser backup opens in the CLI\'s keystore code with the same key; the stored key stays non-extractable', async (t) => {
  const { handle, file } = await wallet.newBackedUpKey('correct horse battery', 'nadia\'s browser');
  t.false(handle.privateKey.extractable, 'the key the browser keeps cannot be read out');
  t.is(handle.keyId, keyIdOf(handle.publicKey));
  t.like(file, { type: 'HeliosKeystore', version: 1, label: 'nadia\'s browser', keyId: handle.keyId, publicKey: handle.publicKey, kdf: { name: 'scrypt', N: 32768, r: 8, p: 1 } });
  t.is(file.secretKeyHex, undefined, 'nothing in the clear');
  const cli = openKey(JSON.parse(wallet.keystoreText(file)) as KeystoreFile, 'correct horse battery');
  t.is(cli.publicKey, handle.publicKey, 'the CLI opens it: same key');
  // What the browser signs, the CLI's key signs too: both verify with the one public key.
  const tx = await wallet.signTx(handle, { type: 'Transfer', to: 'omar@example.org', amountMicroHec: 5 }, { grid: 'g', nonce: 1, t: 1 });
  t.true(verifyBody(tx, cli.publicKey));
  t.throws(() => openKey(file as KeystoreFile, 'wrong passphrase!'), { message: /wrong passphrase/ });
});

test('a file `helios wallet new` writes (sealed or --insecure) opens in the browser with the CLI\'s key, non-extractable', async (t) => {
  const key = generateKeyPair(entropy);
  const sealed = sealKey(key, 'a long passphrase', 'wallet');
  const h = await wallet.openKeyFile(JSON.stringify(sealed), 'a long passphrase');
  t.is(h.publicKey, key.publicKey);
  t.is(h.keyId, key.keyId);
  t.false(h.privateKey.extractable);
  const tx = await wallet.signTx(h, { type: 'BuyOffer', listing: '2026-03-21T13:00Z', meter: 'ab'.repeat(16), energyMWh: 1, bidPriceMicroHecPerKWh: 1 }, { grid: 'g', nonce: 1, t: 1 });
  t.true(verifyBody(tx, key.publicKey), 'signed in the "browser", verified with the CLI wallet\'s public key');
  const insecure = await wallet.openKeyFile(insecureKey(key, 'demo'));
  t.is(insecure.keyId, key.keyId);
});

test('key files that are wrong are refused with a code a person can act on', async (t) => {
  const key = generateKeyPair(entropy);
  const sealed = sealKey(key, 'a long passphrase', 'wallet');
  const code = async (f: () => Promise<unknown>) => ((await t.throwsAsync(f)) as Error & { code: string }).code;
  t.is(await code(() => wallet.openKeyFile(sealed, 'not the passphrase')), 'E_BAD_PASSPHRASE');
  t.is(await code(() => wallet.openKeyFile(sealed)), 'E_PASSPHRASE_REQUIRED');
  t.is(await code(() => wallet.openKeyFile({ ...sealed, keyId: keyIdOf(generateKeyPair(entropy).publicKey) }, 'a long passphrase')), 'E_BAD_KEYSTORE', 'a key id that is not the public key\'s');
  const k2 = generateKeyPair(entropy);
  t.is(await code(() => wallet.openKeyFile({ ...sealed, keyId: k2.keyId, publicKey: k2.publicKey }, 'a long passphrase')), 'E_BAD_PASSPHRASE', 'the key id is bound to the ciphertext');
  const other = generateKeyPair(entropy);
  t.is(await code(() => wallet.openKeyFile({ ...insecureKey(key, 'x'), publicKey: other.publicKey, keyId: other.keyId })), 'E_BAD_KEYSTORE', 'a secret that is not the public key\'s');
  t.is(await code(() => wallet.openKeyFile({ ...sealed, kdf: { ...sealed.kdf!, N: 1 << 22 } }, 'a long passphrase')), 'E_BAD_KEYSTORE', 'a scrypt cost no browser should run');
  t.is(await code(() => wallet.openKeyFile('{"type":"something else"}', 'x')), 'E_BAD_KEYSTORE');
  t.is(await code(() => wallet.openKeyFile('not json', 'x')), 'E_BAD_KEYSTORE');
  t.is(await code(() => wallet.newBackedUpKey('short')), 'E_WEAK_PASSPHRASE');
});
