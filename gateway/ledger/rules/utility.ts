/**
 * The grid connection on the ledger (docs/market.md §9): the utility's account and
 * tariffs, SetTariff, and on-grid the prepaid allowance every meter gets when a
 * listing closes — credit tokens issued by the authority against the household's
 * escrow, like a prepaid (STS, IEC 62055) meter's — billed by Settle from the
 * metered import. The prices and the allowance are pure rules in
 * gateway/market/tariff.ts; this file keeps them on the state.
 */
import { escrowMicroHec, fail, type Genesis, type TxOf } from '../../../protocol/index.ts';
import { allowance, checkTariff, scheduleAt, tariffAt, type PeriodTariff } from '../../market/tariff.ts';
import { LOOKAHEAD_PERIODS, periodOf } from '../../market/period.ts';
import { keys, type AllowanceEntry, type ListingEntry, type MeterEntry, type TariffsEntry, type UtilityEntry } from '../entities.ts';
import type { StateWriter } from '../state.ts';
import { participant, type Rule, type TxContext, type TxEvent } from './context.ts';
import { holdEscrow, ref } from './marketState.ts';

const iso = (ms: number) => new Date(ms).toISOString();

export const utilityOf = (state: StateWriter): UtilityEntry =>
  state.get<UtilityEntry>(keys.utility) ?? { balanceMicroHec: 0, importMWh: 0, exportMWh: 0, unbilledMicroHec: 0 };

export function putUtility(state: StateWriter, u: UtilityEntry): void {
  for (const [k, v] of Object.entries(u)) {
    if (!Number.isSafeInteger(v)) fail('E_OUT_OF_RANGE', `the utility account's ${k} would leave the safe integers`, 'utility');
  }
  state.set(keys.utility, u);
}

export const isOnGrid = (g: Genesis): boolean => g.utility?.mode === 'on-grid';

/** The tariffs of the period starting at `deliveryStart`: genesis's schedule or the latest SetTariff in force. */
export function periodTariff(state: Pick<StateWriter, 'get'>, genesis: Genesis, deliveryStart: number): PeriodTariff | undefined {
  if (!genesis.utility) return undefined;
  const changes = state.get<TariffsEntry>(keys.tariffs)?.changes ?? [];
  return tariffAt(scheduleAt(genesis.utility.tariff, changes, deliveryStart), deliveryStart);
}

/**
 * On-grid, the market's price band for a period (docs/market.md §9.4): nobody needs
 * to bid above the import tariff — the utility sells at it — and an offer reserved
 * above it can never sell, so both are refused (E_PRICE_CAP) with the tariff named.
 */
export function checkTariffBand(state: StateWriter, genesis: Genesis, l: ListingEntry, price: number, path: string): void {
  if (!isOnGrid(genesis)) return;
  const t = periodTariff(state, genesis, l.deliveryStart)!;
  if (price > t.importMicroHecPerKWh) {
    fail('E_PRICE_CAP', `price ${price} µHEC/kWh is above the utility's import tariff for ${l.id}, ${t.importMicroHecPerKWh} µHEC/kWh; on an on-grid microgrid the utility sells at that price, so no bid or reserve above it can trade`, path);
  }
}

/** SetTariff: an authority changes the tariffs from a future delivery period on. */
export const setTariff: Rule<TxOf<'SetTariff'>> = ({ state, body, ctx }) => {
  if (!ctx.genesis.utility) fail('E_NO_UTILITY', `grid ${ctx.genesis.grid} has no utility connection in its genesis, so it has no tariff to change`, 'body.type');
  checkTariff(body.tariff, 'body.tariff');
  const period = periodOf(body.from, ctx.genesis, 'body.from');
  if (period.deliveryStart <= ctx.blockTime) {
    fail('E_OUT_OF_RANGE', `${body.from} has already begun (${iso(period.deliveryStart)}); a tariff changes from a future period`, 'body.from');
  }
  // A listing already open was bid on under the old tariff: never change the rules under it.
  const P = ctx.genesis.marketPeriodMs;
  for (let k = 0; k <= LOOKAHEAD_PERIODS; k++) {
    const id = periodIdAt(period.deliveryStart + k * P);
    if (state.get(keys.listing(id))) {
      fail('E_LISTING_EXISTS', `listing ${id} is already open under the current tariff; the new tariff must start after every open listing`, 'body.from');
    }
  }
  const entry = state.get<TariffsEntry>(keys.tariffs) ?? { changes: [] };
  const last = entry.changes.at(-1);
  if (last && last.fromMs >= period.deliveryStart) {
    fail('E_OUT_OF_RANGE', `a tariff change from ${last.from} is already recorded; a new change must start after it`, 'body.from');
  }
  const tariff = { ...body.tariff, ...(body.tariff.timeOfUse ? { timeOfUse: body.tariff.timeOfUse.map((h) => ({ ...h })) } : {}) };
  state.set(keys.tariffs, { changes: [...entry.changes, { from: period.id, fromMs: period.deliveryStart, tariff, at: ref(ctx) }] });
  return [{ kind: 'tariffChanged', from: period.id, importMicroHecPerKWh: body.tariff.importMicroHecPerKWh, feedInMicroHecPerKWh: body.tariff.feedInMicroHecPerKWh }];
};

const periodIdAt = (ms: number): string => new Date(ms).toISOString().slice(0, 16) + 'Z';

/** On-grid: every enrolled meter gets a place in the allowance index (rules cannot list keys). */
export function indexGridMeter(state: StateWriter, genesis: Genesis, meter: string): void {
  if (!isOnGrid(genesis)) return;
  const n = state.get<{ count: number }>(keys.gridMeters)?.count ?? 0;
  state.set(keys.gridMeter(n), { meter });
  state.set(keys.gridMeters, { count: n + 1 });
}

/**
 * On-grid, at CloseBidding: each meter not revoked gets the period's allowance,
 * allowance(free balance, cap, import tariff), moved from its owner's balance into
 * escrow, and a credit token for it valid for the delivery period. A household whose
 * free balance after this no longer covers a full allowance gets a `lowBalance`
 * event (the warning); one with nothing left gets no token, and its meter opens the
 * relay when its credit runs out — the only way an on-grid household goes dark.
 */
export function reserveAllowances(state: StateWriter, ctx: TxContext, l: ListingEntry): { count: number; events: TxEvent[] } {
  const u = ctx.genesis.utility;
  if (!u || u.mode !== 'on-grid') return { count: 0, events: [] };
  const tariff = periodTariff(state, ctx.genesis, l.deliveryStart)!;
  const full = escrowMicroHec(u.allowanceMWh, tariff.importMicroHecPerKWh);
  const count = state.get<{ count: number }>(keys.gridMeters)?.count ?? 0;
  const events: TxEvent[] = [];
  const validFrom = Math.max(l.deliveryStart, ctx.blockTime);
  // The allowance lasts into the next period by the close's lead, so a next token that arrives late
  // (a slow network, a late close) never cuts the supply; what is used then is billed with the next period.
  const validUntil = l.deliveryEnd + (l.deliveryStart - l.closesAt);
  for (let n = 0; n < count; n++) {
    const id = state.get<{ meter: string }>(keys.gridMeter(n))?.meter;
    const m = id === undefined ? undefined : state.get<MeterEntry>(keys.meter(id));
    if (!m) fail('E_STATE_MISMATCH', `grid meter index entry ${n} is missing`);
    if (m.revoked) continue;
    const owner = participant(state, m.participant, 'allowance');
    const a = allowance(owner.balanceMicroHec, u.allowanceMWh, tariff.importMicroHecPerKWh);
    const after = a.escrowMicroHec > 0 ? holdEscrow(state, owner.email, a.escrowMicroHec, 'allowance', `the utility allowance of meter ${m.meter}`) : owner;
    const entry: AllowanceEntry = { meter: m.meter, owner: owner.email, energyMWh: a.energyMWh, escrowMicroHec: a.escrowMicroHec, importMicroHecPerKWh: tariff.importMicroHecPerKWh };
    state.set(keys.allowance(l.id, m.meter), entry);
    if (a.energyMWh > 0 && validFrom < l.deliveryEnd) {
      events.push({ kind: 'creditDue', meter: m.meter, energyMWh: a.energyMWh, validFrom, validUntil, ref: `${l.id}/utility` });
    }
    if (after.balanceMicroHec < full) {
      events.push({ kind: 'lowBalance', participant: owner.email, meter: m.meter, listing: l.id, balanceMicroHec: after.balanceMicroHec, allowanceMWh: a.energyMWh, fullAllowanceMicroHec: full });
    }
  }
  return { count, events };
}

/** The allowances of a listing, in meter-index order, for Settle. */
export function listingAllowances(state: Pick<StateWriter, 'get'>, l: ListingEntry): AllowanceEntry[] {
  const out: AllowanceEntry[] = [];
  for (let n = 0; n < (l.allowances ?? 0); n++) {
    const id = state.get<{ meter: string }>(keys.gridMeter(n))?.meter;
    const a = id === undefined ? undefined : state.get<AllowanceEntry>(keys.allowance(l.id, id));
    if (a) out.push(a);
  }
  return out;
}
