/**
 * The state root (docs/protocol.md §6): entries fall into 256 buckets by the first
 * byte of SHA-256(key); a bucket's root is the RFC 6962 Merkle root of its leaves
 * (canonical bytes of [key, value]) sorted by key; the state root is the Merkle
 * root of the 256 bucket roots. A block rehashes only the buckets it touched, so
 * the cost of a root grows with the block, not with the grid.
 */
import { canonicalize } from '../../protocol/index.ts';
import { merkleLeaf, merkleRootOfLeaves, sha256 } from '../crypto/hash.ts';

export function bucketOf(key: string): number {
  return sha256(key)[0];
}

export class StateRootIndex {
  private readonly leaves = new Map<string, Buffer>();
  private readonly members: Array<Set<string>> = Array.from({ length: 256 }, () => new Set());
  private readonly roots: Buffer[] = [];
  private readonly dirty = new Set<number>();

  constructor() {
    const empty = merkleRootOfLeaves([]);
    for (let i = 0; i < 256; i++) this.roots.push(empty);
  }

  /** Record that `key` now holds `value` (undefined: deleted). */
  update(key: string, value: unknown): void {
    const b = bucketOf(key);
    if (value === undefined) {
      if (this.leaves.delete(key)) {
        this.members[b].delete(key);
        this.dirty.add(b);
      }
      return;
    }
    this.leaves.set(key, merkleLeaf(canonicalize([key, value])));
    this.members[b].add(key);
    this.dirty.add(b);
  }

  root(): string {
    for (const b of this.dirty) {
      const keys = [...this.members[b]].sort();
      this.roots[b] = merkleRootOfLeaves(keys.map((k) => this.leaves.get(k)!));
    }
    this.dirty.clear();
    return merkleRootOfLeaves(this.roots).toString('hex');
  }

  /**
   * The root after `changes`, leaving this index as it is: only the touched buckets
   * are recomputed, against the cached roots of the rest.
   */
  rootWith(changes: ReadonlyMap<string, unknown>): string {
    this.root(); // flush
    const touched = new Map<number, Map<string, Buffer | undefined>>();
    for (const [k, v] of changes) {
      const b = bucketOf(k);
      let m = touched.get(b);
      if (!m) touched.set(b, (m = new Map()));
      m.set(k, v === undefined ? undefined : merkleLeaf(canonicalize([k, v])));
    }
    const roots = this.roots.slice();
    for (const [b, m] of touched) {
      const members = new Set(this.members[b]);
      for (const [k, leaf] of m) {
        if (leaf === undefined) members.delete(k);
        else members.add(k);
      }
      const sorted = [...members].sort();
      roots[b] = merkleRootOfLeaves(sorted.map((k) => (m.has(k) ? m.get(k)! : this.leaves.get(k)!)));
    }
    return merkleRootOfLeaves(roots).toString('hex');
  }
}
