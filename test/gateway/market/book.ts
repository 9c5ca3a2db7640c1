/**
 * Test helpers for the market engine: readable orders for worked examples, fast-check
 * arbitraries for random books, and brute-force optima to check mechanisms against.
 */
import type { ExecutionContext } from 'ava';
import fc from 'fast-check';
import { isHeliosError } from '../../../protocol/errors.ts';
import type { Order } from '../../../gateway/market/index.ts';

/** 64-hex transaction id from a short tag, so worked examples stay readable in failures. */
export function txId(tag: string): string {
  let hex = '';
  for (const ch of tag) hex += ch.charCodeAt(0).toString(16).padStart(2, '0');
  return hex.padStart(64, '0').slice(-64);
}

/** A meter id (32 hex) derived from the household's name. */
export function meterOf(name: string): string {
  return txId('meter:' + name).slice(-32);
}

export const HEC = 1_000_000;
export const KWH = 1_000_000;

/** An order in kWh and HEC/kWh for examples (converted exactly to mWh and µHEC/kWh). */
export function order(name: string, seq: number, kWh: number, hecPerKWh: number, tag = `${name}#${seq}`): Order {
  return {
    id: txId(tag),
    seq,
    owner: `${name}@helios.example`,
    meter: meterOf(name),
    energyMWh: Math.round(kWh * KWH),
    priceMicroHecPerKWh: Math.round(hecPerKWh * HEC),
  };
}

export interface Book {
  offers: Order[];
  bids: Order[];
}

const OWNERS = ['asad', 'zarak', 'bilal', 'chen', 'dana'];

/**
 * Random books. Prices come from a small range so that ties (the interesting cases)
 * are common; seq is a random permutation across both sides, ids are distinct.
 */
export function bookArb(opts: { maxOrders?: number; maxEnergy?: number; maxPrice?: number } = {}): fc.Arbitrary<Book> {
  const maxOrders = opts.maxOrders ?? 8;
  const maxEnergy = opts.maxEnergy ?? 50;
  const maxPrice = opts.maxPrice ?? 12;
  const raw = fc.record({
    owner: fc.constantFrom(...OWNERS),
    energyMWh: fc.integer({ min: 1, max: maxEnergy }),
    priceMicroHecPerKWh: fc.integer({ min: 0, max: maxPrice }),
  });
  return fc
    .tuple(fc.array(raw, { maxLength: maxOrders }), fc.array(raw, { maxLength: maxOrders }), fc.integer({ min: 0, max: 2 ** 31 }))
    .map(([offers, bids, salt]) => {
      const n = offers.length + bids.length;
      // A deterministic permutation of 1..n from the salt, for seq.
      const seqs = Array.from({ length: n }, (_, i) => i + 1);
      let s = salt;
      for (let i = n - 1; i > 0; i--) {
        s = (s * 1103515245 + 12345) >>> 0;
        const j = s % (i + 1);
        [seqs[i], seqs[j]] = [seqs[j], seqs[i]];
      }
      const mk = (r: (typeof offers)[number], side: string, i: number, seq: number): Order => ({
        id: txId(`${side}${i}`),
        seq,
        owner: `${r.owner}@helios.example`,
        meter: meterOf(r.owner),
        energyMWh: r.energyMWh,
        priceMicroHecPerKWh: r.priceMicroHecPerKWh,
      });
      return {
        offers: offers.map((r, i) => mk(r, 'o', i, seqs[i])),
        bids: bids.map((r, i) => mk(r, 'b', i, seqs[offers.length + i])),
      };
    });
}

/** A seeded permutation of an array (fast-check gives the seed). */
export function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = xs.slice();
  let s = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1664525 + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * Brute force over every integer allocation x[i][j] ≥ 0 with Σ_j x[i][j] ≤ offer i,
 * Σ_i x[i][j] ≤ bid j, and x[i][j] > 0 only where bid ≥ reserve. Returns the largest
 * welfare Σ (bid − reserve)·x and, separately, the largest volume Σ x.
 * Exponential: for books of a few orders with a few mWh each.
 */
export function bruteForceOptimum(book: Book): { welfare: number; volume: number } {
  const { offers, bids } = book;
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < offers.length; i++) {
    for (let j = 0; j < bids.length; j++) {
      if (bids[j].priceMicroHecPerKWh >= offers[i].priceMicroHecPerKWh) pairs.push([i, j]);
    }
  }
  const offerLeft = offers.map((o) => o.energyMWh);
  const bidLeft = bids.map((b) => b.energyMWh);
  let bestWelfare = 0;
  let bestVolume = 0;
  const visit = (k: number, welfare: number, volume: number): void => {
    if (k === pairs.length) {
      if (welfare > bestWelfare) bestWelfare = welfare;
      if (volume > bestVolume) bestVolume = volume;
      return;
    }
    const [i, j] = pairs[k];
    const gain = bids[j].priceMicroHecPerKWh - offers[i].priceMicroHecPerKWh;
    const most = Math.min(offerLeft[i], bidLeft[j]);
    for (let x = 0; x <= most; x++) {
      offerLeft[i] -= x;
      bidLeft[j] -= x;
      visit(k + 1, welfare + gain * x, volume + x);
      offerLeft[i] += x;
      bidLeft[j] += x;
    }
  };
  visit(0, 0, 0);
  return { welfare: bestWelfare, volume: bestVolume };
}

/** floor(e·p/10⁶) and ceil(q·p/10⁶), written out independently of protocol/units.ts. */
export const floorValue = (e: number, p: number) => Number((BigInt(e) * BigInt(p)) / 1_000_000n);
export const ceilValue = (e: number, p: number) => Number((BigInt(e) * BigInt(p) + 999_999n) / 1_000_000n);

/** A property over random books; on failure fast-check shrinks it and the message shows the smallest counterexample. */
export function holds<Ts extends [unknown, ...unknown[]]>(t: ExecutionContext, property: fc.IProperty<Ts>, params: fc.Parameters<Ts>): void {
  t.notThrows(() => fc.assert(property, params));
}

/** "CODE @path" of the HeliosError `fn` throws, or "OK". */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isHeliosError(e)) return `${e.code} @${e.path}`;
    throw e;
  }
  return 'OK';
}
