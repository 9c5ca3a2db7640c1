/**
 * The browser wallet's signing (flows/public/wallet.js) on a real WebCrypto (Node's,
 * the same API a browser has) against the protocol's own rules: its canonical JSON
 * is RFC 8785 as protocol/json.ts writes it, its key ids are protocol/ecdsa.ts's,
 * its signatures verify strictly (low S) — many of them, since WebCrypto gives a
 * high S about half the time — and its Login token is the HTTP household credential.
 */
import test from 'ava';
import { canonicalize, fromBase64url, keyIdOf, LoginBody, verifyBody, type Signed } from '../../protocol/index.ts';

import * as wallet from '../../flows/public/wallet.js';

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
