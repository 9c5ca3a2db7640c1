/**
 * The rounding rule of protocol/units.ts — payment = floor(e·p/10⁶), escrow =
 * ceil(q·p/10⁶) — with the same results, computed without allocating BigInts when
 * the product e·p is below 2^52: there every integer is exact in a double, the
 * quotient is off by at most one, and the remainder check corrects it exactly.
 * Larger products go to protocol/units.ts itself. Clearing a million orders makes
 * a million of these; the BigInt path alone costs more than the matching.
 * Tested equal to protocol/units.ts on random and boundary inputs.
 */
import { escrowMicroHec, paymentMicroHec } from '../../protocol/units.ts';

const EXACT = 2 ** 52;
const MILLION = 1_000_000;

/** floor(energyMWh · price / 10⁶) µHEC, for non-negative safe integers (checked by the caller). */
export function payment(energyMWh: number, priceMicroHecPerKWh: number): number {
  const x = energyMWh * priceMicroHecPerKWh;
  if (x >= EXACT) return paymentMicroHec(energyMWh, priceMicroHecPerKWh);
  let q = Math.floor(x / MILLION);
  const r = x - q * MILLION;
  if (r < 0) q--;
  else if (r >= MILLION) q++;
  return q;
}

/** ceil(energyMWh · price / 10⁶) µHEC, for non-negative safe integers (checked by the caller). */
export function escrow(energyMWh: number, priceMicroHecPerKWh: number): number {
  const x = energyMWh * priceMicroHecPerKWh;
  if (x >= EXACT) return escrowMicroHec(energyMWh, priceMicroHecPerKWh);
  let q = Math.ceil(x / MILLION);
  const r = q * MILLION - x;
  if (r < 0) q++;
  else if (r >= MILLION) q--;
  return q;
}
