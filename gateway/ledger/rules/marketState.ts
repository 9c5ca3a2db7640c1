/**
 * What the market rules share: finding a listing and checking it accepts offers,
 * the storage account, escrow moves and the grid's price cap. Each helper either
 * does all it says or throws a HeliosError first (the caller's Draft is discarded).
 */
import { fail, type Genesis } from '../../../protocol/index.ts';
import { keys, type ListingEntry, type OfferEntry, type ParticipantEntry, type StorageEntry, type TxRef } from '../entities.ts';
import type { StateWriter } from '../state.ts';
import { participant, putParticipant, type TxContext } from './context.ts';

const iso = (ms: number) => new Date(ms).toISOString();

export function ref(ctx: TxContext): TxRef {
  return { height: ctx.height, t: ctx.blockTime, tx: ctx.txId };
}

export function getListing(state: StateWriter, id: string, path = 'body.listing'): ListingEntry {
  const l = state.get<ListingEntry>(keys.listing(id));
  if (!l) fail('E_UNKNOWN_LISTING', `there is no kWhListing ${id}; it is opened by AcceptOfferBroadcast (GET /api/market/listings/current shows the open one)`, path);
  return l;
}

/** A listing that still takes offers, bids and cancellations: ACCEPT_OFFERS, and its delivery has not begun. */
export function requireAcceptingOffers(l: ListingEntry, ctx: TxContext, path = 'body.listing'): void {
  if (l.state !== 'ACCEPT_OFFERS') {
    fail('E_LISTING_CLOSED', `listing ${l.id} is ${l.state} and no longer accepts offers; offer on the next period's listing`, path);
  }
  if (ctx.blockTime >= l.deliveryStart) {
    fail('E_LISTING_CLOSED', `delivery for listing ${l.id} began at ${iso(l.deliveryStart)}; offer on the next period's listing`, path);
  }
}

export function checkPriceCap(price: number, genesis: Genesis, path: string): void {
  if (price > genesis.priceCapMicroHecPerKWh) {
    fail('E_PRICE_CAP', `price ${price} µHEC/kWh is above this grid's cap of ${genesis.priceCapMicroHecPerKWh} µHEC/kWh`, path);
  }
}

export function storageOf(state: StateWriter, genesis: Genesis): StorageEntry {
  return state.get<StorageEntry>(keys.storage) ?? { capacityMWh: genesis.storage.capacityMWh, storedMWh: 0, fundMicroHec: 0 };
}

/**
 * The energy the storage can take now: its free room, and no more than its fund can
 * pay for at the buy price, floor(fund·10⁶ / price) (docs/market.md §8.5).
 */
export function storageRoomMWh(s: StorageEntry, buyPriceMicroHecPerKWh: number): number {
  const free = Math.max(0, s.capacityMWh - s.storedMWh);
  if (buyPriceMicroHecPerKWh === 0) return free;
  const affordable = (BigInt(s.fundMicroHec) * 1_000_000n) / BigInt(buyPriceMicroHecPerKWh);
  return affordable < BigInt(free) ? Number(affordable) : free;
}

export function putStorage(state: StateWriter, s: StorageEntry): void {
  state.set(keys.storage, s);
}

function addSafe(a: number, b: number, what: string, path: string): number {
  const v = a + b;
  if (!Number.isSafeInteger(v)) fail('E_OUT_OF_RANGE', `${what} would exceed 2^53−1`, path);
  return v;
}

/** Balance → escrow (a BuyOffer); E_INSUFFICIENT_BALANCE before anything moves. */
export function holdEscrow(state: StateWriter, email: string, amount: number, path: string, what: string): ParticipantEntry {
  const p = participant(state, email, path);
  if (p.balanceMicroHec < amount) {
    fail('E_INSUFFICIENT_BALANCE', `${what} needs ${amount} µHEC in escrow but ${email} has ${p.balanceMicroHec} µHEC available; bid for less energy or at a lower price`, path);
  }
  const next = { ...p, balanceMicroHec: p.balanceMicroHec - amount, escrowMicroHec: addSafe(p.escrowMicroHec, amount, `escrow of ${email}`, path) };
  putParticipant(state, next);
  return next;
}

function takeEscrow(state: StateWriter, email: string, amount: number): ParticipantEntry {
  const p = participant(state, email, 'escrow');
  if (p.escrowMicroHec < amount) {
    // Only a corrupt state could get here: every escrowed µHEC has a bid that holds it.
    fail('E_STATE_MISMATCH', `${email} holds ${p.escrowMicroHec} µHEC in escrow, less than the ${amount} µHEC its bids account for`);
  }
  return { ...p, escrowMicroHec: p.escrowMicroHec - amount };
}

/** Escrow of `from` → an account outside the participants (the utility, the storage fund); the caller credits it. */
export function takeFromEscrow(state: StateWriter, from: string, amount: number): void {
  if (amount === 0) return;
  putParticipant(state, takeEscrow(state, from, amount));
}

/** Escrow → the same household's balance (a cancelled bid, unused escrow, a refund). */
export function releaseEscrow(state: StateWriter, email: string, amount: number): void {
  if (amount === 0) return;
  const p = takeEscrow(state, email, amount);
  putParticipant(state, { ...p, balanceMicroHec: addSafe(p.balanceMicroHec, amount, `balance of ${email}`, 'escrow') });
}

/** Escrow of `from` → balance of `to` (a seller paid for delivered energy). */
export function payFromEscrow(state: StateWriter, from: string, to: string, amount: number): void {
  if (amount === 0) return;
  putParticipant(state, takeEscrow(state, from, amount));
  const q = participant(state, to, 'escrow');
  putParticipant(state, { ...q, balanceMicroHec: addSafe(q.balanceMicroHec, amount, `balance of ${to}`, 'escrow') });
}

/** Withdraw an open offer or bid: its escrow back, the listing's counters and the meter's PVOffer mark down. */
export function withdrawOffer(state: StateWriter, o: OfferEntry): void {
  const l = getListing(state, o.listing);
  if (o.side === 'buy') {
    releaseEscrow(state, o.owner, o.escrowMicroHec ?? 0);
    state.set(keys.offer(o.id), { ...o, status: 'cancelled', escrowMicroHec: 0 });
    state.set(keys.listing(l.id), { ...l, bids: l.bids - 1, bidMWh: l.bidMWh - o.energyMWh });
  } else {
    state.set(keys.offer(o.id), { ...o, status: 'cancelled' });
    state.set(keys.listing(l.id), { ...l, offers: l.offers - 1, offeredMWh: l.offeredMWh - o.energyMWh });
    const mark = state.get<{ offers: number }>(keys.pvMeter(l.id, o.meter));
    if (mark && mark.offers > 1) state.set(keys.pvMeter(l.id, o.meter), { offers: mark.offers - 1 });
    else state.delete(keys.pvMeter(l.id, o.meter));
  }
}

/** The open offers and bids of a listing, in the order they were posted. */
export function openBook(state: StateWriter, l: ListingEntry): { offers: OfferEntry[]; bids: OfferEntry[] } {
  const offers: OfferEntry[] = [];
  const bids: OfferEntry[] = [];
  for (let n = 0; n < l.posted; n++) {
    const id = state.get<{ offer: string }>(keys.book(l.id, n))?.offer;
    const o = id === undefined ? undefined : state.get<OfferEntry>(keys.offer(id));
    if (!o) fail('E_STATE_MISMATCH', `listing ${l.id}'s book entry ${n} is missing`);
    if (o.status !== 'open') continue;
    (o.side === 'sell' ? offers : bids).push(o);
  }
  return { offers, bids };
}
