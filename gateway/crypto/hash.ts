/**
 * Node-side hashing for the gateway's hot paths (block and state roots, tx ids).
 * Same definitions as protocol/hash.ts and protocol/merkle.ts — tested to agree —
 * but on OpenSSL's SHA-256, several times faster than the portable one.
 */
import { createHash } from 'node:crypto';
import { canonicalize } from '../../protocol/index.ts';

export function sha256(data: Uint8Array | string): Buffer {
  return createHash('sha256').update(data).digest();
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** SHA-256 of the RFC 8785 bytes of a value, hex: transaction ids and block hashes. */
export function hashJson(value: unknown): string {
  return sha256Hex(canonicalize(value));
}

const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);
const EMPTY = sha256(new Uint8Array(0));

export function merkleLeaf(data: Uint8Array | string): Buffer {
  return createHash('sha256').update(LEAF).update(data).digest();
}

function node(l: Uint8Array, r: Uint8Array): Buffer {
  return createHash('sha256').update(NODE).update(l).update(r).digest();
}

/** RFC 6962 Merkle tree hash over leaf hashes (see protocol/merkle.ts). */
export function merkleRootOfLeaves(leaves: Uint8Array[]): Buffer {
  if (leaves.length === 0) return EMPTY;
  let level = leaves;
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(node(level[i], level[i + 1]));
    if (level.length % 2 === 1) next.push(level[level.length - 1]);
    level = next;
  }
  return Buffer.from(level[0]);
}

export function merkleRootHex(items: Array<Uint8Array | string>): string {
  return merkleRootOfLeaves(items.map(merkleLeaf)).toString('hex');
}
