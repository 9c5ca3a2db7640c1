/**
 * What households, dashboards and the CLI see of the market: listings with their
 * book, trades and settlement, the storage, standing orders — read from ledger
 * state, never stored separately (the ledger is the record). Also the unsigned MQTT
 * broadcasts of docs/protocol.md §7, built from the same views.
 */
import { paymentMicroHec, type Genesis, type ListingMessage, type StorageMessage, type TradesMessage } from '../../protocol/index.ts';
import {
  keys, type ListingEntry, type OfferEntry, type OrderEntry, type SettlementEntry, type StorageEntry, type TariffsEntry, type TradesEntry, type UtilityEntry,
} from '../ledger/entities.ts';
import { scheduleAt, tariffAt } from './tariff.ts';
import type { StateReader } from '../ledger/state.ts';
import { LOOKAHEAD_PERIODS, listingIdOf, listingState, periodStartAt } from './period.ts';

/** A state that can also list its keys (the committed State). */
export interface ListableState extends StateReader {
  entries<T>(prefix?: string): Array<[string, T]>;
}

export function storageView(state: StateReader, genesis: Genesis) {
  const s = state.get<StorageEntry>(keys.storage) ?? { capacityMWh: genesis.storage.capacityMWh, storedMWh: 0, fundMicroHec: 0 };
  return {
    capacityMWh: s.capacityMWh,
    storedMWh: s.storedMWh,
    /** What a StoragePurchase can buy now. */
    availableMWh: s.storedMWh,
    freeMWh: s.capacityMWh - s.storedMWh,
    fundMicroHec: s.fundMicroHec,
    buyPriceMicroHecPerKWh: genesis.storage.buyPriceMicroHecPerKWh,
    sellPriceMicroHecPerKWh: genesis.storage.sellPriceMicroHecPerKWh,
  };
}

/**
 * The grid connection (docs/market.md §9): the mode, the tariffs in force for the
 * period delivering at `now` and the next one, the changes ahead, and the utility's
 * account. `mode: "islanded"` with no tariff for a grid made before it existed.
 */
export function utilityView(state: StateReader, genesis: Genesis, now: number) {
  const u = genesis.utility;
  const P = genesis.marketPeriodMs;
  const start = Math.floor(now / P) * P;
  const account = state.get<UtilityEntry>(keys.utility) ?? { balanceMicroHec: 0, importMWh: 0, exportMWh: 0, unbilledMicroHec: 0 };
  if (!u) return { mode: 'islanded' as const, tariff: null, account };
  const changes = state.get<TariffsEntry>(keys.tariffs)?.changes ?? [];
  const sched = (t: number) => scheduleAt(u.tariff, changes, t);
  return {
    mode: u.mode,
    allowanceMWh: u.allowanceMWh,
    /** The schedule and prices of the period delivering now, and of the next. */
    tariff: sched(start),
    current: { period: start, ...tariffAt(sched(start), start) },
    next: { period: start + P, ...tariffAt(sched(start + P), start + P) },
    changes: changes.filter((c) => c.fromMs > start).map((c) => ({ from: c.from, tariff: c.tariff, height: c.at.height })),
    account,
  };
}

export function storageMessage(state: StateReader, genesis: Genesis, now: number): StorageMessage {
  const v = storageView(state, genesis);
  return {
    type: 'Storage', grid: genesis.grid, capacityMWh: v.capacityMWh, storedMWh: v.storedMWh,
    buyPriceMicroHecPerKWh: v.buyPriceMicroHecPerKWh, sellPriceMicroHecPerKWh: v.sellPriceMicroHecPerKWh, t: now,
  };
}

export function listingMessage(l: ListingEntry, grid: string, now: number): ListingMessage {
  return {
    type: 'Listing', grid, id: l.id, state: listingState(l, now), deliveryStart: l.deliveryStart, deliveryEnd: l.deliveryEnd, closesAt: l.closesAt,
    offers: l.offers, bids: l.bids, offeredMWh: l.offeredMWh, bidMWh: l.bidMWh,
    ...(l.state !== 'ACCEPT_OFFERS' ? { tradedMWh: l.tradedMWh ?? 0 } : {}),
    ...(l.clearingPriceMicroHecPerKWh !== undefined ? { clearingPriceMicroHecPerKWh: l.clearingPriceMicroHecPerKWh } : {}),
  };
}

export function tradesMessage(t: TradesEntry, grid: string): TradesMessage {
  return {
    type: 'Trades', grid, listing: t.listing,
    trades: t.trades.map((x) => ({
      seller: x.seller, buyer: x.buyer, sellerMeter: x.sellerMeter, buyerMeter: x.buyerMeter,
      energyMWh: x.energyMWh, priceMicroHecPerKWh: x.priceMicroHecPerKWh, paymentMicroHec: x.paymentMicroHec,
    })),
  };
}

/** Every offer and bid ever posted on a listing, in posting order. */
export function bookOf(state: StateReader, l: ListingEntry): OfferEntry[] {
  const out: OfferEntry[] = [];
  for (let n = 0; n < l.posted; n++) {
    const id = state.get<{ offer: string }>(keys.book(l.id, n))?.offer;
    const o = id === undefined ? undefined : state.get<OfferEntry>(keys.offer(id));
    if (o) out.push(o);
  }
  return out;
}

export function listingSummary(l: ListingEntry, now: number) {
  return {
    id: l.id, state: listingState(l, now), deliveryStart: l.deliveryStart, deliveryEnd: l.deliveryEnd, closesAt: l.closesAt,
    offers: l.offers, bids: l.bids, offeredMWh: l.offeredMWh, bidMWh: l.bidMWh,
    ...(l.mechanism !== undefined ? { mechanism: l.mechanism } : {}),
    ...(l.state !== 'ACCEPT_OFFERS' ? { trades: l.trades ?? 0, tradedMWh: l.tradedMWh ?? 0 } : {}),
    ...(l.clearingPriceMicroHecPerKWh !== undefined ? { clearingPriceMicroHecPerKWh: l.clearingPriceMicroHecPerKWh } : {}),
    ...(l.late ? { late: true } : {}),
    opened: l.opened, ...(l.closed ? { closed: l.closed } : {}), ...(l.settled ? { settled: l.settled } : {}),
    ...(l.openedBy ? { openedBy: l.openedBy } : {}), ...(l.closedBy ? { closedBy: l.closedBy } : {}),
  };
}

/** GET /api/market/listings/:id — the listing, its book, its trades and its settlement. */
export function listingDetail(state: StateReader, l: ListingEntry, now: number) {
  const trades = state.get<TradesEntry>(keys.trades(l.id));
  const settlement = state.get<SettlementEntry>(keys.settlement(l.id));
  const book = bookOf(state, l).map((o) => ({
    id: o.id, side: o.side, owner: o.owner, meter: o.meter, energyMWh: o.energyMWh, priceMicroHecPerKWh: o.priceMicroHecPerKWh,
    seq: o.seq, status: o.status, ...(o.order ? { order: o.order } : {}), ...(o.escrowMicroHec !== undefined ? { escrowMicroHec: o.escrowMicroHec } : {}),
  }));
  return {
    ...listingSummary(l, now),
    offersPosted: book.filter((o) => o.side === 'sell'),
    bidsPosted: book.filter((o) => o.side === 'buy'),
    trades: trades?.trades ?? [],
    ...(settlement ? { settlement } : {}),
  };
}

/**
 * The listing a household cares about now: the earliest one still accepting
 * offers, else the one delivering now, else the newest.
 */
export function currentListing(state: ListableState, genesis: Genesis, now: number): ListingEntry | undefined {
  const P = genesis.marketPeriodMs;
  const cur = periodStartAt(now, P);
  for (let k = 0; k <= LOOKAHEAD_PERIODS; k++) {
    const l = state.get<ListingEntry>(keys.listing(listingIdOf(cur + k * P)));
    if (l && l.state === 'ACCEPT_OFFERS' && now < l.deliveryStart) return l;
  }
  const delivering = state.get<ListingEntry>(keys.listing(listingIdOf(cur)));
  if (delivering) return delivering;
  const all = state.entries<ListingEntry>('listing/');
  return all.length ? all[all.length - 1][1] : undefined;
}

/** Newest listings first, with one household's part in each when `participant` is given. */
export function history(state: ListableState, now: number, opts: { limit: number; participant?: string }) {
  const all = state.entries<ListingEntry>('listing/').reverse();
  const out = [];
  for (const [, l] of all) {
    if (out.length >= opts.limit) break;
    const row: Record<string, unknown> = listingSummary(l, now);
    if (opts.participant) {
      const mine = bookOf(state, l).filter((o) => o.owner === opts.participant);
      if (mine.length === 0) continue;
      const trades = (state.get<TradesEntry>(keys.trades(l.id))?.trades ?? []).filter((t) => t.seller === opts.participant || t.buyer === opts.participant);
      const s = state.get<SettlementEntry>(keys.settlement(l.id));
      const ids = new Set(mine.map((o) => o.id));
      row.mine = {
        offers: mine.map((o) => ({ id: o.id, side: o.side, energyMWh: o.energyMWh, priceMicroHecPerKWh: o.priceMicroHecPerKWh, status: o.status })),
        trades,
        ...(s ? {
          settlement: {
            trades: (s.trades as Array<{ offer: string; bid: string }>).filter((t) => ids.has(t.offer) || ids.has(t.bid)),
            bids: (s.bids as Array<{ id: string }>).filter((b) => ids.has(b.id)),
          },
        } : {}),
      };
    }
    out.push(row);
  }
  return out;
}

export function ordersOf(state: ListableState, participant: string | undefined, now: number) {
  return state.entries<OrderEntry>('order/')
    .map(([, o]) => o)
    .filter((o) => participant === undefined || o.owner === participant)
    .map((o) => ({ ...o, active: !o.revoked && (o.validUntil === undefined || now < o.validUntil) }));
}

export interface PurchaseView {
  id: string;
  kind: 'direct' | 'storage';
  height: number;
  t: number;
  buyer: string;
  /** The prosumer paid (direct purchases); absent for the storage. */
  seller?: string;
  meter: string;
  energyMWh: number;
  amountMicroHec: number;
  /** How long the credit lasts (direct purchases; a storage purchase's lasts one period). */
  durationMs?: number;
}

/**
 * Direct and storage purchases, newest first: the buyer (and a direct purchase's
 * seller) from the committed transaction; a storage purchase's amount at the grid's
 * sell price, floor(e·sell/10⁶), as the ledger charged it.
 */
export function purchases(
  chain: { eachPurchase(visit: (row: { id: string; height: number; signer: string; tx: string; t: number }) => boolean): void },
  state: StateReader, genesis: Genesis, opts: { limit: number; participant?: string },
): PurchaseView[] {
  const out: PurchaseView[] = [];
  chain.eachPurchase((row) => {
    const body = (JSON.parse(row.tx) as { body: { type: string; seller?: string; meter: string; energyMWh: number; amountMicroHec?: number; durationMs?: number } }).body;
    const buyer = state.get<{ participant?: string }>(keys.key(row.signer))?.participant ?? row.signer;
    if (opts.participant && buyer !== opts.participant && body.seller !== opts.participant) return true;
    out.push(body.type === 'DirectPurchase'
      ? { id: row.id, kind: 'direct', height: row.height, t: row.t, buyer, seller: body.seller, meter: body.meter, energyMWh: body.energyMWh, amountMicroHec: body.amountMicroHec!, durationMs: body.durationMs }
      : { id: row.id, kind: 'storage', height: row.height, t: row.t, buyer, meter: body.meter, energyMWh: body.energyMWh, amountMicroHec: paymentMicroHec(body.energyMWh, genesis.storage.sellPriceMicroHecPerKWh) });
    return out.length < opts.limit;
  });
  return out;
}
