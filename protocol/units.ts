/**
 * Money and energy are integers in base units, everywhere:
 *   energy  mWh                    (1 kWh = 1 000 000 mWh)
 *   tokens  µHEC                   (1 HEC = 1 000 000 µHEC)
 *   prices  µHEC per kWh
 *   time    ms since the Unix epoch
 *
 * The rounding rule. The value of e mWh at p µHEC/kWh is e·p/10^6 µHEC, rarely an
 * integer. Helios never moves a fractional amount: a payment is
 *   paymentMicroHec(e, p) = floor(e·p / 10^6)
 * and is debited from one account and credited to another as that same integer,
 * so rounding can neither create nor destroy µHEC; the buyer keeps the fraction
 * (< 1 µHEC per trade). Escrow for a bid of q mWh at up to p is
 *   escrowMicroHec(q, p) = ceil(q·p / 10^6),
 * which covers any set of fills of ≤ q mWh at prices ≤ p (Σ floor ≤ ceil Σ); what
 * is not paid out is returned to the last µHEC. BigInt keeps the product exact
 * beyond 2^53.
 */
export const MICRO_HEC_PER_HEC = 1_000_000;
export const MWH_PER_KWH = 1_000_000;

const MILLION = 1_000_000n;

function checkNonNegativeInt(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative safe integer, got ${v}`);
}

function toSafe(name: string, v: bigint): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`${name} ${v} exceeds 2^53−1 µHEC`);
  return Number(v);
}

export function paymentMicroHec(energyMWh: number, priceMicroHecPerKWh: number): number {
  checkNonNegativeInt('energyMWh', energyMWh);
  checkNonNegativeInt('priceMicroHecPerKWh', priceMicroHecPerKWh);
  return toSafe('payment', (BigInt(energyMWh) * BigInt(priceMicroHecPerKWh)) / MILLION);
}

export function escrowMicroHec(energyMWh: number, priceMicroHecPerKWh: number): number {
  checkNonNegativeInt('energyMWh', energyMWh);
  checkNonNegativeInt('priceMicroHecPerKWh', priceMicroHecPerKWh);
  return toSafe('escrow', (BigInt(energyMWh) * BigInt(priceMicroHecPerKWh) + MILLION - 1n) / MILLION);
}

/** Energy bought by `amountMicroHec` at `priceMicroHecPerKWh`, rounded down (never more than paid for). */
export function energyForMicroHec(amountMicroHec: number, priceMicroHecPerKWh: number): number {
  checkNonNegativeInt('amountMicroHec', amountMicroHec);
  if (!Number.isSafeInteger(priceMicroHecPerKWh) || priceMicroHecPerKWh <= 0) throw new RangeError(`price must be a positive safe integer, got ${priceMicroHecPerKWh}`);
  return toSafe('energy', (BigInt(amountMicroHec) * MILLION) / BigInt(priceMicroHecPerKWh));
}

/** "12.345678 HEC" from µHEC, exact (no floating point). */
export function formatHec(microHec: number): string {
  const neg = microHec < 0;
  const abs = Math.abs(microHec);
  const whole = Math.floor(abs / MICRO_HEC_PER_HEC);
  const frac = String(abs % MICRO_HEC_PER_HEC).padStart(6, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${whole}${frac ? '.' + frac : ''} HEC`;
}

/** Parse "12.5" (HEC, up to 6 decimals) into µHEC exactly; throws RangeError on anything else. */
export function parseHec(text: string): number {
  const m = /^(\d{1,10})(?:\.(\d{1,6}))?$/.exec(text.trim());
  if (!m) throw new RangeError(`${JSON.stringify(text)} is not an amount in HEC (digits, up to 6 decimals, e.g. 12.5)`);
  return Number(m[1]) * MICRO_HEC_PER_HEC + Number((m[2] ?? '').padEnd(6, '0'));
}

/** "1.234 kWh" from mWh, exact. */
export function formatKWh(mWh: number): string {
  const neg = mWh < 0;
  const abs = Math.abs(mWh);
  const whole = Math.floor(abs / MWH_PER_KWH);
  const frac = String(abs % MWH_PER_KWH).padStart(6, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${whole}${frac ? '.' + frac : ''} kWh`;
}

/** Parse "1.5" (kWh, up to 6 decimals) into mWh exactly. */
export function parseKWh(text: string): number {
  const m = /^(\d{1,9})(?:\.(\d{1,6}))?$/.exec(text.trim());
  if (!m) throw new RangeError(`${JSON.stringify(text)} is not an energy in kWh (digits, up to 6 decimals, e.g. 1.5)`);
  return Number(m[1]) * MWH_PER_KWH + Number((m[2] ?? '').padEnd(6, '0'));
}
