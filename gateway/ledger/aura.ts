/**
 * Proof-of-Authority rules after Aura (OpenEthereum, Energy Web Chain): time is cut
 * into slots of blockPeriodMs; the author of slot s is authorities[s mod n]; slots
 * strictly increase along a chain; two different blocks for one slot by the same
 * author are double signing; blocks from the future are refused.
 */
import { fail, type BlockHeader, type Genesis, type GenesisAuthority } from '../../protocol/index.ts';

export function slotOf(t: number, genesis: Genesis): number {
  return Math.floor(t / genesis.blockPeriodMs);
}

export function authorOf(slot: number, genesis: Genesis): GenesisAuthority {
  return genesis.authorities[slot % genesis.authorities.length];
}

/** Start time of the next slot at or after `t` that belongs to `keyId` (for scheduling production). */
export function nextOwnSlotStart(t: number, keyId: string, genesis: Genesis): number {
  const n = genesis.authorities.length;
  const mine = genesis.authorities.findIndex((a) => a.keyId === keyId);
  if (mine < 0) throw new RangeError(`${keyId} is not an authority of grid ${genesis.grid}`);
  let slot = slotOf(t, genesis);
  if (slot * genesis.blockPeriodMs < t) slot++;
  while (slot % n !== mine) slot++;
  return slot * genesis.blockPeriodMs;
}

export interface ChainTip {
  height: number;
  hash: string;
  slot: number;
  t: number;
}

/**
 * Header rules that need only the parent and the clock. `now` undefined skips the
 * future check (replaying an old chain). Throws a HeliosError naming the rule.
 */
export function checkHeader(header: BlockHeader, parent: ChainTip, genesis: Genesis, now?: number): void {
  const h = header.height;
  if (header.grid !== genesis.grid) fail('E_WRONG_GRID', `block ${h} is for grid "${header.grid}", not "${genesis.grid}"`);
  if (h !== parent.height + 1) fail('E_BAD_HEIGHT', `block height ${h} does not follow ${parent.height}`);
  if (header.parent !== parent.hash) fail('E_BAD_PARENT', `block ${h} names parent ${header.parent.slice(0, 16)}…, but block ${parent.height} is ${parent.hash.slice(0, 16)}…`);
  if (header.slot !== slotOf(header.t, genesis)) fail('E_WRONG_AUTHOR', `block ${h} claims slot ${header.slot} but its time gives slot ${slotOf(header.t, genesis)}`);
  if (h > 1 && header.slot <= parent.slot) fail('E_SLOT_NOT_INCREASING', `block ${h} is in slot ${header.slot}, not after its parent's slot ${parent.slot}`);
  if (header.t < parent.t) fail('E_SLOT_NOT_INCREASING', `block ${h} time goes backwards`);
  const expected = authorOf(header.slot, genesis);
  if (header.author !== expected.keyId) {
    fail('E_WRONG_AUTHOR', `slot ${header.slot} belongs to authority ${expected.name} (${expected.keyId}), but block ${h} was made by ${header.author}`);
  }
  if (now !== undefined && header.t > now + genesis.blockPeriodMs) {
    fail('E_FUTURE_BLOCK', `block ${h} is dated ${new Date(header.t).toISOString()}, more than one block period after now`);
  }
}

/** Fork choice: more blocks first, then fewer empty slots (lower head slot), then the lower hash. Positive when a is better. */
export function compareTips(a: ChainTip, b: ChainTip): number {
  if (a.height !== b.height) return a.height - b.height;
  if (a.slot !== b.slot) return b.slot - a.slot;
  return a.hash < b.hash ? 1 : a.hash > b.hash ? -1 : 0;
}

/** Remembers (author, slot) → hash to catch double signing. */
export class DoubleSignWatch {
  private readonly seen = new Map<string, string>();
  readonly evidence: Array<{ author: string; slot: number; hashes: [string, string] }> = [];

  /** Throws E_DOUBLE_SIGN (and keeps evidence) for a second block by the same author in one slot. */
  observe(header: BlockHeader, hash: string): void {
    const k = `${header.author}/${header.slot}`;
    const prev = this.seen.get(k);
    if (prev !== undefined && prev !== hash) {
      this.evidence.push({ author: header.author, slot: header.slot, hashes: [prev, hash] });
      fail('E_DOUBLE_SIGN', `authority ${header.author} signed two different blocks for slot ${header.slot} (${prev.slice(0, 16)}… and ${hash.slice(0, 16)}…)`);
    }
    this.seen.set(k, hash);
  }
}
