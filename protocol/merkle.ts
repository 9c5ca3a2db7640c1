/**
 * Merkle tree hash of RFC 6962 §2.1 (Certificate Transparency), so the roots in
 * Helios block headers can be checked with any CT tool:
 *   leaf  = SHA-256(0x00 ‖ data)            — domain-separated from nodes, so a
 *   node  = SHA-256(0x01 ‖ left ‖ right)      node can never pass for a leaf
 *   empty = SHA-256("")
 * Odd counts: the tree splits at the largest power of two below n, which is the
 * same as carrying the last node of an odd level up unchanged. No node is ever
 * duplicated, so two different lists never share a root (unlike Bitcoin's tree,
 * CVE-2012-2459).
 */
import { sha256 } from './hash.ts';

export function merkleLeafHash(data: Uint8Array): Uint8Array {
  const b = new Uint8Array(data.length + 1);
  b[0] = 0;
  b.set(data, 1);
  return sha256(b);
}

export function merkleNodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  const b = new Uint8Array(65);
  b[0] = 1;
  b.set(left, 1);
  b.set(right, 33);
  return sha256(b);
}

/** Root over already-hashed leaves (merkleLeafHash of each item). */
export function merkleRootOfLeafHashes(leafHashes: Uint8Array[], nodeHash = merkleNodeHash): Uint8Array {
  if (leafHashes.length === 0) return sha256(new Uint8Array(0));
  let level = leafHashes;
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(nodeHash(level[i], level[i + 1]));
    if (level.length % 2 === 1) next.push(level[level.length - 1]);
    level = next;
  }
  return level[0];
}

export function merkleRoot(items: Uint8Array[]): Uint8Array {
  return merkleRootOfLeafHashes(items.map(merkleLeafHash));
}
