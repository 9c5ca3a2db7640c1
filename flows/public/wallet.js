/**
 * The household's wallet in the browser (served at /helios/wallet.js to the Wallet and
 * Household dashboards). The key is made here with WebCrypto — P-256, the private
 * half non-extractable — and kept in IndexedDB; it never leaves the browser. Every
 * action is signed here as the protocol signs: ECDSA P-256/SHA-256 over the RFC 8785
 * canonical JSON of the body, the signature as 64-byte r‖s, low-S, base64url
 * (protocol/ecdsa.ts). WebCrypto returns r‖s but does not always give the low S.
 *
 * Backup and import (docs/dashboards.md, "The wallet's backup"). A non-extractable key
 * can never be exported, so the backup is made at the one moment the private key
 * exists in readable form: when it is made. makeKey(passphrase) generates the pair
 * extractable, seals the private scalar into a backup file, imports it again as a
 * non-extractable key and stores only that one. The backup file is the format
 * `helios wallet new` writes (gateway/keystore.ts: scrypt N=2^15 r=8 p=1, then
 * AES-256-GCM with the key id as additional data), so one import path opens both
 * a browser backup and a CLI wallet, and the CLI can use a browser's backup. The
 * backup is never stored: not even encrypted, since a script that could read
 * IndexedDB could then guess the passphrase offline, while the stored CryptoKey
 * cannot be read out at all.
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

/**
 * A new key pair and its backup: { handle (non-extractable, as newKeyPair), file
 * (a HeliosKeystore sealed with the passphrase) }. The extractable pair lives only
 * inside this call.
 */
export async function newBackedUpKey(passphrase, label = 'browser wallet') {
  checkPassphrase(passphrase);
  const pair = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const jwk = await subtle.exportKey('jwk', pair.privateKey);
  const secret = unb64url(jwk.d);
  const compressed = compress(new Uint8Array(await subtle.exportKey('raw', pair.publicKey)));
  const publicKey = b64url(compressed);
  const keyId = await keyIdOf(compressed);
  const file = await seal(secret, { keyId, publicKey, label }, passphrase);
  const privateKey = await subtle.importKey('jwk', { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, d: jwk.d }, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  secret.fill(0);
  return { handle: { privateKey, publicKey, keyId }, file };
}

/**
 * A new key for this browser, stored in IndexedDB (non-extractable), with its backup:
 * { wallet (what the page may show), backup (the file's text, to offer as a download) }.
 */
export async function makeKey(passphrase) {
  const existing = current || (await store('readonly', (s) => s.get('default')));
  if (existing) throw new WalletError('E_WALLET_EXISTS', `this browser already holds a wallet (key id ${existing.keyId}); forget it first, and only if you have its backup file`);
  const { handle, file } = await newBackedUpKey(passphrase);
  current = { ...handle, email: '' };
  await put(current);
  return { wallet: view(current), backup: keystoreText(file) };
}

/**
 * Open a key file — a backup this page made, or the file `helios wallet new` writes
 * (encrypted, or --insecure) — as a non-extractable key: { privateKey, publicKey, keyId }.
 */
export async function openKeyFile(fileOrText, passphrase) {
  const f = parseKeystore(fileOrText);
  const compressed = unb64url(f.publicKey);
  if ((await keyIdOf(compressed)) !== f.keyId) throw new WalletError('E_BAD_KEYSTORE', `the key file "${f.label}" is inconsistent: its key id is not its public key's`);
  let secret;
  if (f.insecure) {
    if (!/^[0-9a-f]{64}$/.test(f.secretKeyHex || '')) throw new WalletError('E_BAD_KEYSTORE', 'the key file has no 32-byte secretKeyHex');
    secret = unhex(f.secretKeyHex);
  } else {
    if (typeof passphrase !== 'string' || !passphrase) throw new WalletError('E_PASSPHRASE_REQUIRED', `the key file "${f.label}" is encrypted; give its passphrase`);
    secret = await unseal(f, passphrase);
  }
  const { x, y } = decompress(compressed);
  let privateKey;
  try {
    privateKey = await subtle.importKey('jwk', { kty: 'EC', crv: 'P-256', x: b64url(x), y: b64url(y), d: b64url(secret) }, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  } catch (e) {
    throw new WalletError('E_BAD_KEYSTORE', `the key file "${f.label}" holds no P-256 key matching its public key (${e.message})`);
  } finally {
    secret.fill(0);
  }
  // Some engines do not check that d belongs to (x, y): prove it with a signature.
  const probe = new TextEncoder().encode('helios key check');
  const pub = await subtle.importKey('raw', concat(Uint8Array.of(4), x, y), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  const sig = await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, probe);
  if (!(await subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, pub, sig, probe))) {
    throw new WalletError('E_BAD_KEYSTORE', `the key file "${f.label}" is inconsistent: its secret key is not the one of its public key`);
  }
  return { privateKey, publicKey: f.publicKey, keyId: f.keyId };
}

/** Restore a key file into this browser's IndexedDB (replacing no other wallet: forget that one first). */
export async function restoreKey(fileOrText, passphrase) {
  const existing = current || (await store('readonly', (s) => s.get('default')));
  const handle = await openKeyFile(fileOrText, passphrase);
  if (existing && existing.keyId !== handle.keyId) {
    throw new WalletError('E_WALLET_EXISTS', `this browser already holds another wallet (key id ${existing.keyId}); forget it first, and only if you have its backup file`);
  }
  current = { ...handle, email: (existing && existing.email) || '' };
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

// — Key files (gateway/keystore.ts's format) —

export class WalletError extends Error {
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

const SCRYPT = { N: 1 << 15, r: 8, p: 1 };
/** Most memory an imported file's scrypt may ask of a browser (128·N·r bytes). */
const MAX_SCRYPT_BYTES = 256 * 1024 * 1024;

function checkPassphrase(p) {
  if (typeof p !== 'string' || p.length < 8) throw new WalletError('E_WEAK_PASSPHRASE', 'a passphrase needs at least 8 characters (the backup is only as strong as it)');
}

/** The file's text as `helios wallet new` writes it. */
export const keystoreText = (file) => JSON.stringify(file, null, 2) + '\n';

/**
 * scrypt (RFC 7914) from @noble/hashes: WebCrypto has none. Served beside this file
 * at /helios/noble-hashes/ in a browser; from node_modules when tests run this on Node.
 */
async function scrypt(passphrase, salt, params) {
  const mod = import.meta.url.startsWith('file:')
    ? await import('@noble/hashes/scrypt.js')
    : await import(new URL('./noble-hashes/scrypt.js', import.meta.url).href);
  return mod.scryptAsync(passphrase.normalize('NFKC'), salt, { ...params, dkLen: 32, maxmem: MAX_SCRYPT_BYTES + 4096 });
}

async function aesKey(passphrase, salt, params) {
  const k = await scrypt(passphrase, salt, params);
  try {
    return await subtle.importKey('raw', k, 'AES-GCM', false, ['encrypt', 'decrypt']);
  } finally {
    k.fill(0);
  }
}

async function seal(secret, { keyId, publicKey, label }, passphrase) {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = await aesKey(passphrase, salt, SCRYPT);
  const out = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(keyId), tagLength: 128 }, key, secret));
  return {
    type: 'HeliosKeystore', version: 1, label, keyId, publicKey,
    kdf: { name: 'scrypt', ...SCRYPT, saltHex: hex(salt) },
    cipher: { name: 'aes-256-gcm', ivHex: hex(iv), tagHex: hex(out.subarray(out.length - 16)), ciphertextHex: hex(out.subarray(0, out.length - 16)) },
  };
}

async function unseal(f, passphrase) {
  const { kdf, cipher } = f;
  if (!kdf || kdf.name !== 'scrypt' || !cipher || cipher.name !== 'aes-256-gcm') throw new WalletError('E_BAD_KEYSTORE', `the key file "${f.label}" is neither scrypt/aes-256-gcm nor an insecure key`);
  const { N, r, p } = kdf;
  const pow2 = Number.isInteger(N) && N > 1 && (N & (N - 1)) === 0;
  if (!pow2 || !Number.isInteger(r) || r < 1 || !Number.isInteger(p) || p < 1 || p > 16 || 128 * N * r > MAX_SCRYPT_BYTES) {
    throw new WalletError('E_BAD_KEYSTORE', `the key file's scrypt parameters (N=${N}, r=${r}, p=${p}) are not ones a browser can or should run`);
  }
  for (const [k, v, n] of [['saltHex', kdf.saltHex, 0], ['ivHex', cipher.ivHex, 24], ['tagHex', cipher.tagHex, 32], ['ciphertextHex', cipher.ciphertextHex, 64]]) {
    if (typeof v !== 'string' || !/^([0-9a-f]{2})+$/.test(v) || (n && v.length !== n)) throw new WalletError('E_BAD_KEYSTORE', `the key file's ${k} is not the hex it should be`);
  }
  const key = await aesKey(passphrase, unhex(kdf.saltHex), { N, r, p });
  try {
    return new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv: unhex(cipher.ivHex), additionalData: new TextEncoder().encode(f.keyId), tagLength: 128 }, key, concat(unhex(cipher.ciphertextHex), unhex(cipher.tagHex))));
  } catch {
    throw new WalletError('E_BAD_PASSPHRASE', `wrong passphrase for the key file "${f.label}" (or the file was altered)`);
  }
}

function parseKeystore(fileOrText) {
  let f = fileOrText;
  if (typeof f === 'string') {
    try { f = JSON.parse(f); } catch { throw new WalletError('E_BAD_KEYSTORE', 'this is not a Helios key file (not JSON)'); }
  }
  if (!f || f.type !== 'HeliosKeystore' || f.version !== 1) throw new WalletError('E_BAD_KEYSTORE', 'this is not a Helios key file (the file "helios wallet new" writes, or a backup from this page)');
  if (!/^[0-9a-f]{32}$/.test(f.keyId || '') || !/^[A-Za-z0-9_-]{44}$/.test(f.publicKey || '')) throw new WalletError('E_BAD_KEYSTORE', 'the key file has no valid keyId and publicKey');
  return { ...f, label: String(f.label || 'wallet').slice(0, 80) };
}

// P-256 (SEC 2): the field prime and b; y² = x³ − 3x + b.
const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;
const big = (bytes) => BigInt('0x' + (hex(bytes) || '0'));
const bytes32 = (n) => unhex(n.toString(16).padStart(64, '0'));
function modPow(b, e, m) {
  let r = 1n;
  b %= m;
  for (; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m;
  return r;
}

/** The point (x, y) of a compressed key; P ≡ 3 (mod 4), so √a = a^((P+1)/4). */
function decompress(c) {
  if (c.length !== 33 || (c[0] !== 2 && c[0] !== 3)) throw new WalletError('E_BAD_KEYSTORE', 'the public key is not a compressed P-256 point');
  const x = big(c.subarray(1));
  const rhs = (((x * x * x - 3n * x + B) % P) + P) % P;
  let y = modPow(rhs, (P + 1n) / 4n, P);
  if ((y * y) % P !== rhs) throw new WalletError('E_BAD_KEYSTORE', 'the public key is not on the P-256 curve');
  if (Number(y & 1n) !== (c[0] & 1)) y = P - y;
  return { x: bytes32(x), y: bytes32(y) };
}

function unb64url(s) {
  const t = atob(String(s).replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));
  return Uint8Array.from(t, (ch) => ch.charCodeAt(0));
}
const unhex = (h) => Uint8Array.from(h.match(/../g) || [], (b) => parseInt(b, 16));
function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let i = 0;
  for (const p of parts) { out.set(p, i); i += p.length; }
  return out;
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
