/**
 * The utility connection's prices (docs/market.md §9). An on-grid microgrid has the
 * utility as counterparty of last resort — gsy-e's Market Maker (sells unmet demand
 * at the import tariff) and Infinite Bus (buys surplus at the feed-in tariff) — so
 * the import tariff is the most a household ever needs to pay per kWh and the
 * feed-in tariff the least a prosumer ever needs to accept.
 *
 * A tariff is flat or a time-of-use schedule by UTC hour of the day; the hour a
 * delivery period starts in picks the figures for the whole period, so one period
 * has one price each way. Pure functions, integers only.
 */
import { fail } from '../../protocol/errors.ts';
import { paymentMicroHec, escrowMicroHec } from '../../protocol/units.ts';

export interface TariffSchedule {
  readonly importMicroHecPerKWh: number;
  readonly feedInMicroHecPerKWh: number;
  readonly timeOfUse?: ReadonlyArray<{ readonly fromHourUtc: number; readonly importMicroHecPerKWh: number; readonly feedInMicroHecPerKWh: number }>;
}

/** The two prices of one delivery period. */
export interface PeriodTariff {
  readonly importMicroHecPerKWh: number;
  readonly feedInMicroHecPerKWh: number;
}

/**
 * A schedule the market can use: hours strictly increasing, and feed-in never above
 * import at any hour — otherwise buying from the utility to sell back to it would
 * print money (E_OUT_OF_RANGE names the entry).
 */
export function checkTariff(t: TariffSchedule, path: string): void {
  if (t.feedInMicroHecPerKWh > t.importMicroHecPerKWh) {
    fail('E_OUT_OF_RANGE', `the feed-in tariff (${t.feedInMicroHecPerKWh} µHEC/kWh) is above the import tariff (${t.importMicroHecPerKWh}); feed-in must not exceed import`, `${path}.feedInMicroHecPerKWh`);
  }
  let last = -1;
  for (const [i, h] of (t.timeOfUse ?? []).entries()) {
    if (h.fromHourUtc <= last) fail('E_OUT_OF_RANGE', `${path}.timeOfUse[${i}] starts at hour ${h.fromHourUtc}, not after the entry before it (${last}); list the hours in increasing order`, `${path}.timeOfUse[${i}].fromHourUtc`);
    if (h.feedInMicroHecPerKWh > h.importMicroHecPerKWh) {
      fail('E_OUT_OF_RANGE', `${path}.timeOfUse[${i}] pays ${h.feedInMicroHecPerKWh} µHEC/kWh feed-in, above its import tariff ${h.importMicroHecPerKWh}; feed-in must not exceed import`, `${path}.timeOfUse[${i}].feedInMicroHecPerKWh`);
    }
    last = h.fromHourUtc;
  }
}

/** The prices for the period starting at `deliveryStartMs` (ms since the epoch, UTC). */
export function tariffAt(t: TariffSchedule, deliveryStartMs: number): PeriodTariff {
  const hour = new Date(deliveryStartMs).getUTCHours();
  let pick: PeriodTariff = { importMicroHecPerKWh: t.importMicroHecPerKWh, feedInMicroHecPerKWh: t.feedInMicroHecPerKWh };
  for (const h of t.timeOfUse ?? []) {
    if (h.fromHourUtc <= hour) pick = { importMicroHecPerKWh: h.importMicroHecPerKWh, feedInMicroHecPerKWh: h.feedInMicroHecPerKWh };
  }
  return pick;
}

/** A tariff change recorded by SetTariff: it applies to periods starting at or after `fromMs`. */
export interface TariffChange {
  readonly fromMs: number;
  readonly tariff: TariffSchedule;
}

/** The schedule in force for a period: the latest change at or before its start, else genesis's. */
export function scheduleAt(genesisTariff: TariffSchedule, changes: readonly TariffChange[], deliveryStartMs: number): TariffSchedule {
  let s = genesisTariff;
  for (const c of changes) if (c.fromMs <= deliveryStartMs) s = c.tariff;
  return s;
}

/**
 * The prepaid allowance (docs/market.md §9.3): the energy the utility supplies a
 * meter on credit for one period — the grid's per-meter cap, or as much as the
 * household's free balance pays for at the import tariff, whichever is less — and
 * the escrow that funds it, ceil(energy · tariff / 10⁶) ≤ the free balance.
 * A household whose free balance covers the cap at the tariff gets the whole cap.
 */
export function allowance(freeBalanceMicroHec: number, capMWh: number, importMicroHecPerKWh: number): { energyMWh: number; escrowMicroHec: number } {
  if (freeBalanceMicroHec <= 0 && importMicroHecPerKWh > 0) return { energyMWh: 0, escrowMicroHec: 0 };
  let energy = capMWh;
  if (importMicroHecPerKWh > 0) {
    const affordable = (BigInt(freeBalanceMicroHec) * 1_000_000n) / BigInt(importMicroHecPerKWh);
    if (affordable < BigInt(capMWh)) energy = Number(affordable);
  }
  return { energyMWh: energy, escrowMicroHec: escrowMicroHec(energy, importMicroHecPerKWh) };
}

/** What `energyMWh` costs at a tariff: the rounding rule's payment, floor(e·p/10⁶). */
export const tariffValue = (energyMWh: number, priceMicroHecPerKWh: number): number => paymentMicroHec(energyMWh, priceMicroHecPerKWh);
