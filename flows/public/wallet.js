/**
 * The household's wallet in the browser (served at /helios/wallet.js to the Wallet and
 * Household dashboards). The key is made here with WebCrypto — P-256, the private
 * half non-extractable — and kept in IndexedDB; it never leaves the browser. Every
 * action is signed here as the protocol signs: ECDSA P-256/SHA-256 over the RFC 8785
 * canonical JSON of the body, the signature as 64-byte r‖s, low-S, base64url
 * (protocol/ecdsa.ts). WebCrypto returns r‖s but does not always give the low S.
 */
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const subtle = globalThis.crypto.subtle;

export function b64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/**
 * RFC 8785 for the values Helios signs (objects, arrays, strings, integers, booleans,
 * null): keys sorted by UTF-16 code units; integers print as ECMAScript does.
 */
export function canonicalize(v) {
  if (v === null || typeof v === 'boolean') return JSON.stringify(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError('canonical JSON has no NaN or Infinity');
    return JSON.stringify(v);
  }
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalize).join(',')}]`;
  if (typeof v === 'object') {
    const keys = Object.keys(v).filter((k) => v[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalize(v[k])}`).join(',')}}`;
  }
  throw new TypeError(`cannot sign a ${typeof v}`);
}

/** The low-S form of an r‖s signature (s > n/2 becomes n − s). */
export function lowS(sig) {
  const s = BigInt('0x' + hex(sig.subarray(32)));
  if (s <= N / 2n) return sig;
  const out = new Uint8Array(64);
  out.set(sig.subarray(0, 32));
  const t = (N - s).toString(16).padStart(64, '0');
  for (let i = 0; i < 32; i++) out[32 + i] = parseInt(t.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Compressed SEC1 (33 bytes) of an uncompressed point (65 bytes). */
export function compress(raw) {
  const out = new Uint8Array(33);
  out[0] = raw[64] & 1 ? 3 : 2;
  out.set(raw.subarray(1, 33), 1);
  return out;
}

/** A key id: the first 16 bytes of SHA-256 over the compressed key, hex (protocol/ecdsa.ts keyIdOf). */
export async function keyIdOf(compressed) {
  return hex(new Uint8Array(await subtle.digest('SHA-256', compressed)).subarray(0, 16));
}

/**
 * The wallet of this page: { privateKey (non-extractable CryptoKey), publicKey
 * (base64url, compressed), keyId, email }. Kept here, not in a page's reactive data:
 * a framework's proxy around a CryptoKey can be neither signed with nor stored.
 */
let current;

/** What a page may show: copies, never the key object. */
const view = (w) => (w ? { publicKey: w.publicKey, keyId: w.keyId, email: w.email || '' } : null);

/** A new P-256 key pair, its private half non-extractable: { privateKey, publicKey, keyId }. */
export async function newKeyPair() {
  const pair = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  const compressed = compress(new Uint8Array(await subtle.exportKey('raw', pair.publicKey)));
  return { privateKey: pair.privateKey, publicKey: b64url(compressed), keyId: await keyIdOf(compressed) };
}

/** A new key for this browser, stored in IndexedDB. */
export async function makeKey() {
  current = { ...(await newKeyPair()), email: '' };
  await put(current);
  return view(current);
}

/** The stored wallet (or null). */
export async function loadWallet() {
  current = (await store('readonly', (s) => s.get('default'))) || undefined;
  return view(current);
}

export async function setEmail(email) {
  current = { ...current, email };
  await put(current);
  return view(current);
}

export async function forgetWallet() {
  current = undefined;
  await store('readwrite', (s) => s.delete('default'));
}

/** Whether the stored private key could be read out (it cannot: made non-extractable); undefined without a wallet. */
export const extractable = () => (current ? current.privateKey.extractable : undefined);

/** { body, sig } with the protocol's signature over body's canonical bytes; `wallet` defaults to this page's. */
export async function signBody(wallet, body) {
  const w = wallet || current;
  if (!w) throw new Error('no wallet in this browser: make a key first');
  const bytes = new TextEncoder().encode(canonicalize(body));
  const sig = new Uint8Array(await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, w.privateKey, bytes));
  return { body, sig: b64url(lowS(sig)) };
}

/**
 * The HTTP household credential (`Authorization: Helios <token>`): a Login signed by
 * the wallet key for client "http", valid `ttlMs` from `now` (the grid's time;
 * at most 15 minutes), as base64url of its canonical JSON.
 */
export async function loginToken(wallet, grid, now, ttlMs = 10 * 60_000) {
  const w = wallet || current;
  const signed = await signBody(w, { type: 'Login', grid, id: w.keyId, client: 'http', iat: now, exp: now + Math.min(ttlMs, 15 * 60_000) });
  return b64url(new TextEncoder().encode(canonicalize(signed)));
}

/** A signed transaction: the fields plus grid, signer, nonce and t. */
export function signTx(wallet, fields, meta) {
  const w = wallet || current;
  return signBody(w, { ...fields, grid: meta.grid, signer: w.keyId, nonce: meta.nonce, t: meta.t });
}

// — IndexedDB: one record, the wallet (a CryptoKey is stored as it is, still non-extractable) —
function db() {
  return new Promise((resolve, reject) => {
    const r = indexedDB.open('helios-wallet', 1);
    r.onupgradeneeded = () => r.result.createObjectStore('wallet');
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

async function store(mode, f) {
  const d = await db();
  return new Promise((resolve, reject) => {
    const tx = d.transaction('wallet', mode);
    const req = f(tx.objectStore('wallet'));
    tx.oncomplete = () => { d.close(); resolve(req.result); };
    tx.onerror = () => { d.close(); reject(tx.error); };
  });
}

const put = (w) => store('readwrite', (s) => s.put(w, 'default'));
