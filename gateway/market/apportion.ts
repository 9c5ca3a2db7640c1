/**
 * Splitting a whole number of mWh in proportion to weights, without creating or
 * losing a single mWh: the largest-remainder (Hamilton) method.
 *
 *   share_i = floor(total · w_i / W), W = Σ w; the mWh left over (fewer than the
 *   number of weights) go one each to the largest remainders total · w_i mod W;
 *   equal remainders: lower index first — the caller lists the weights in its
 *   tie-break order.
 *
 * Σ shares = total exactly, and share_i ≤ w_i whenever total ≤ W. BigInt keeps the
 * products exact (mWh × mWh passes 2^53).
 */
export function apportion(total: number, weights: readonly number[]): number[] {
  let sum = 0n;
  for (const w of weights) sum += BigInt(w);
  if (total < 0 || BigInt(total) > sum) throw new RangeError(`cannot apportion ${total} among weights summing to ${sum}`);
  const shares = new Array<number>(weights.length).fill(0);
  if (total === 0) return shares;
  const T = BigInt(total);
  const remainders: Array<{ i: number; r: bigint }> = [];
  let given = 0;
  for (let i = 0; i < weights.length; i++) {
    const n = T * BigInt(weights[i]);
    shares[i] = Number(n / sum);
    given += shares[i];
    const r = n % sum;
    if (r > 0n) remainders.push({ i, r });
  }
  remainders.sort((a, b) => (a.r > b.r ? -1 : a.r < b.r ? 1 : a.i - b.i));
  for (let k = 0; k < total - given; k++) shares[remainders[k].i] += 1;
  return shares;
}
