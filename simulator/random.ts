/**
 * Seeded, reproducible randomness for the simulator: the same seed gives the same
 * neighbourhood, the same clouds and the same loads, run after run.
 */

/** mulberry32: a small, fast 32-bit PRNG; plenty for weather and load noise (never for keys). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A stateless hash of (seed, i) to [0, 1): noise that is a pure function of time. */
export function hash01(seed: number, i: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(i | 0, 0xc2b2ae35) ^ Math.imul(Math.floor(i / 4294967296), 0x27d4eb2f);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/**
 * Smooth value noise in [0, 1]: random values at every `stepMs`, joined by a
 * cosine curve. A pure function of t, so a profile can be sampled at any time in
 * any order and still agree with itself.
 */
export function valueNoise(seed: number, t: number, stepMs: number): number {
  const x = t / stepMs;
  const i = Math.floor(x);
  const f = x - i;
  const w = (1 - Math.cos(Math.PI * f)) / 2;
  return hash01(seed, i) * (1 - w) + hash01(seed, i + 1) * w;
}
