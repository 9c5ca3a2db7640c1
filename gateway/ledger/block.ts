/**
 * Making and checking blocks. Pure: given the parent, the state and the block's
 * contents, these compute roots, apply transactions and sign or check the header.
 * Storage and clocks are the caller's.
 */
import {
  canonicalize, fail, fromBase64url, isHeliosError, signBytes, toBase64url, utf8Encode, type BlockHeader, type Genesis, type SignedTx,
} from '../../protocol/index.ts';
import { hashJson, merkleRootHex, sha256Hex } from '../crypto/hash.ts';
import { verifyP256 } from '../../shared/p256-node.js';
import { signText } from '../crypto/sign.ts';
import { checkHeader, slotOf, type ChainTip } from './aura.ts';
import { applyTx, type TxEvent } from './rules/index.ts';
import { Draft, type State } from './state.ts';

export interface Block {
  header: BlockHeader;
  sig: string;
  hash: string;
  txs: SignedTx[];
}

export interface ReadingsCommitment {
  root: string;
  count: number;
}

export interface Rejection {
  id: string;
  code: string;
  message: string;
}

export function txId(tx: SignedTx): string {
  return hashJson(tx.body);
}

/**
 * A transaction with its canonical forms computed once: the body's RFC 8785 text
 * (what is signed and hashed into the id) and the envelope's (the txRoot leaf and
 * what is stored). Every later step reuses these instead of re-encoding.
 */
export interface PreparedTx {
  tx: SignedTx;
  id: string;
  bodyText: string;
  text: string;
}

export function prepareTx(tx: SignedTx): PreparedTx {
  const bodyText = canonicalize(tx.body);
  // Members sort as "body" < "sig", and a base64url signature needs no escaping.
  const text = /^[A-Za-z0-9_-]*$/.test(tx.sig) ? `{"body":${bodyText},"sig":"${tx.sig}"}` : canonicalize(tx);
  return { tx, id: sha256Hex(bodyText), bodyText, text };
}

export function txRoot(txs: Array<SignedTx | PreparedTx>): string {
  return merkleRootHex(txs.map((t) => ('text' in t && 'bodyText' in t ? t.text : canonicalize(t))));
}

export function blockHash(header: BlockHeader): string {
  return hashJson(header);
}

export function tipOf(b: { header: BlockHeader; hash: string }): ChainTip {
  return { height: b.header.height, hash: b.hash, slot: b.header.slot, t: b.header.t };
}

export interface ProduceArgs {
  genesis: Genesis;
  parent: ChainTip;
  state: State;
  candidates: PreparedTx[];
  readings: ReadingsCommitment;
  /** Block time (ms). Its slot must be the author's. */
  t: number;
  /** With its public key, the header is signed on OpenSSL; without, by the portable signer. */
  author: { keyId: string; secretKey: Uint8Array; publicKey?: string };
}

export interface Produced {
  block: Block;
  included: PreparedTx[];
  changes: ReadonlyMap<string, object | undefined>;
  events: Array<{ txId: string; events: TxEvent[] }>;
  rejected: Rejection[];
}

/** Build and sign the next block: transactions that fail now (e.g. a nonce overtaken) are left out and reported. */
export function produceBlock(a: ProduceArgs): Produced {
  const height = a.parent.height + 1;
  const draft = new Draft(a.state);
  const included: PreparedTx[] = [];
  const rejected: Rejection[] = [];
  const events: Produced['events'] = [];
  for (const p of a.candidates) {
    const id = p.id;
    try {
      const ev = applyTx(draft, p.tx, { genesis: a.genesis, height, blockTime: a.t, txId: id, seq: height * 100_000 + included.length });
      included.push(p);
      events.push({ txId: id, events: ev });
    } catch (e) {
      if (!isHeliosError(e)) throw e;
      rejected.push({ id, code: e.code, message: e.message });
    }
  }
  const header: BlockHeader = {
    type: 'BlockHeader',
    grid: a.genesis.grid,
    height,
    parent: a.parent.hash,
    slot: slotOf(a.t, a.genesis),
    t: a.t,
    author: a.author.keyId,
    txRoot: txRoot(included),
    txCount: included.length,
    readingsRoot: a.readings.root,
    readingsCount: a.readings.count,
    stateRoot: a.state.rootWith(draft.changes),
  };
  checkHeader(header, a.parent, a.genesis);
  const text = canonicalize(header);
  const sig = a.author.publicKey
    ? signText(text, { publicKey: a.author.publicKey, secretKey: a.author.secretKey })
    : toBase64url(signBytes(utf8Encode(text), a.author.secretKey));
  return { block: { header, sig, hash: blockHash(header), txs: included.map((p) => p.tx) }, included, changes: draft.changes, events, rejected };
}

export interface ReplayArgs {
  genesis: Genesis;
  parent: ChainTip;
  state: State;
  block: Block;
  /** The block's transactions prepared (canonical forms), if the caller has them. */
  prepared?: PreparedTx[];
  /** The readings committed with this block, as stored (recomputed by the caller). */
  readings: ReadingsCommitment;
  /** Clock now, for the future-block rule; undefined when replaying history. */
  now?: number;
  /** Per-transaction signature results already computed (e.g. on workers); otherwise checked here. */
  signaturesOk?: boolean[];
  publicKeyOf(keyId: string, draft: Draft): string | undefined;
}

/**
 * Check a block completely against its parent and the state before it: header
 * rules, hash, author signature, transaction signatures and root, every rule of
 * every transaction, readings root and state root. Returns the state changes.
 */
export function replayBlock(a: ReplayArgs): { changes: ReadonlyMap<string, object | undefined>; events: Array<{ txId: string; events: TxEvent[] }> } {
  const { header } = a.block;
  const h = header.height;
  checkHeader(header, a.parent, a.genesis, a.now);
  const bytes = utf8Encode(canonicalize(header));
  if (blockHash(header) !== a.block.hash) fail('E_BAD_BLOCK_HASH', `block ${h}'s header no longer hashes to its recorded hash; the header was altered`);
  const author = a.genesis.authorities.find((x) => x.keyId === header.author)!;
  if (!verifyP256(author.publicKey, bytes, safeSig(a.block.sig))) {
    fail('E_BAD_BLOCK_SIGNATURE', `block ${h}'s signature does not verify with authority ${author.name}'s key; the block or its signature was altered`);
  }
  if (header.txCount !== a.block.txs.length) fail('E_BAD_TX_ROOT', `block ${h} header counts ${header.txCount} transactions but ${a.block.txs.length} are stored`);
  const prepared = a.prepared ?? a.block.txs.map(prepareTx);
  if (txRoot(prepared) !== header.txRoot) fail('E_BAD_TX_ROOT', `block ${h}'s transactions do not match its txRoot; a transaction was altered, added or removed`);
  if (header.readingsCount !== a.readings.count) fail('E_BAD_READINGS_ROOT', `block ${h} commits to ${header.readingsCount} readings but ${a.readings.count} are stored with it`);
  if (header.readingsRoot !== a.readings.root) fail('E_BAD_READINGS_ROOT', `block ${h}'s readings do not match its readingsRoot; a reading was altered, added or removed`);
  const draft = new Draft(a.state);
  const events: Array<{ txId: string; events: TxEvent[] }> = [];
  prepared.forEach(({ tx, id, bodyText }, i) => {
    let ok = a.signaturesOk?.[i];
    if (ok === undefined) {
      const key = a.publicKeyOf(tx.body.signer, draft);
      ok = key !== undefined && verifyP256(key, Buffer.from(bodyText), safeSig(tx.sig));
    }
    if (!ok) fail('E_BAD_SIGNATURE', `transaction ${i} (${id.slice(0, 16)}…) of block ${h} has an invalid signature`);
    try {
      events.push({ txId: id, events: applyTx(draft, tx, { genesis: a.genesis, height: h, blockTime: header.t, txId: id, seq: h * 100_000 + i }) });
    } catch (e) {
      if (isHeliosError(e)) fail(e.code, `block ${h}, transaction ${i} (${id.slice(0, 16)}…): ${e.message}`);
      throw e;
    }
  });
  const root = a.state.rootWith(draft.changes);
  if (root !== header.stateRoot) fail('E_BAD_STATE_ROOT', `block ${h}'s state root does not match the state its transactions produce`);
  return { changes: draft.changes, events };
}

function safeSig(s: string): Uint8Array {
  try {
    return fromBase64url(s);
  } catch {
    return new Uint8Array(0);
  }
}
