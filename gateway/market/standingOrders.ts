/**
 * Placing standing orders (docs/market.md §8, "Standing orders"): when a listing
 * opens, the gateway places one offer or bid per active order, signed by its
 * authority and naming the order, so the ledger checks it against what the
 * household signed.
 *
 * The surplus forecast for "offer my surplus at reserve R, up to Q": the meter's net
 * export (export − import) in the last complete period before the listing opened,
 * capped at Q; nothing when that is not positive. It is what the household had to
 * spare an hour ago — the simplest forecast a neighbour could check from the
 * meter's own readings, and never more than the order allows. A buy order bids its
 * whole Q at its price P every period, if the household can escrow it.
 */
import { escrowMicroHec, isHeliosError, type Clock } from '../../protocol/index.ts';
import type { AuthoritySigner } from '../authority.ts';
import { keys, type ListingEntry, type OrderEntry, type ParticipantEntry } from '../ledger/entities.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { Logger } from '../log.ts';
import { periodStartAt } from './period.ts';
import { orderPrice } from '../ledger/rules/offers.ts';

export type EnergyBetween = (meter: string, from: number, to: number) => { importMWh: number; exportMWh: number };

/** The offer energy for a sell order: net export of the last complete period, capped by the order. */
export function surplusForecast(order: Pick<OrderEntry, 'meter' | 'energyMWh'>, openedAt: number, periodMs: number, energy: EnergyBetween): number {
  const end = periodStartAt(openedAt, periodMs);
  const e = energy(order.meter, end - periodMs, end);
  return Math.max(0, Math.min(order.energyMWh, e.exportMWh - e.importMWh));
}

export interface PlacementDeps {
  ledger: Ledger;
  authority: AuthoritySigner;
  energy: EnergyBetween;
  clock: Clock;
  log: Logger;
}

/** Place every active order's offer on a listing that accepts offers. Returns how many were placed. */
export function placeStandingOrders(d: PlacementDeps, l: ListingEntry): number {
  const now = d.clock.now();
  const view = d.ledger.mempool.view;
  let placed = 0;
  for (const [, o] of d.ledger.state.entries<OrderEntry>('order/')) {
    if (o.revoked || (o.validUntil !== undefined && now >= o.validUntil)) continue;
    if (view.get(keys.placed(o.id, l.id))) continue;
    try {
      if (o.side === 'sell') {
        const energyMWh = surplusForecast(o, l.opened.t, d.ledger.genesis.marketPeriodMs, d.energy);
        if (energyMWh < 1) {
          d.log.debug('standing order: no surplus to offer this period', { order: o.id, listing: l.id });
          continue;
        }
        d.authority.submit({ type: 'PVOffer', listing: l.id, meter: o.meter, energyMWh, reservePriceMicroHecPerKWh: orderPrice(view, d.ledger.genesis, o, l.id), order: o.id });
      } else {
        const owner = view.get<ParticipantEntry>(keys.participant(o.owner));
        // On-grid the bid never exceeds the import tariff (docs/market.md §9.4).
        const price = orderPrice(view, d.ledger.genesis, o, l.id);
        const escrow = escrowMicroHec(o.energyMWh, price);
        if (!owner || owner.balanceMicroHec < escrow) {
          d.log.info('standing order skipped: the household cannot escrow its bid this period', { order: o.id, listing: l.id, escrowMicroHec: escrow, balanceMicroHec: owner?.balanceMicroHec });
          continue;
        }
        d.authority.submit({ type: 'BuyOffer', listing: l.id, meter: o.meter, energyMWh: o.energyMWh, bidPriceMicroHecPerKWh: price, order: o.id });
      }
      placed++;
    } catch (e) {
      if (!isHeliosError(e)) throw e;
      d.log.warn('standing order not placed', { order: o.id, listing: l.id, code: e.code, message: e.message });
    }
  }
  if (placed) d.log.info('standing orders placed', { listing: l.id, placed });
  return placed;
}
