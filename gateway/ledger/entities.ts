/** What the ledger state holds, and where (state keys). */
import type { Role } from '../../protocol/index.ts';

export interface ParticipantEntry {
  name: string;
  email: string;
  role: Role;
  publicKey: string;
  keyId: string;
  balanceMicroHec: number;
  /** Tokens held for open BuyOffers and purchases in flight. */
  escrowMicroHec: number;
  /** Nonce of the last transaction this participant signed (0: none yet). */
  nonce: number;
  meters: string[];
  /** Height of the block that registered it (0: genesis). */
  since: number;
}

export interface AuthorityEntry {
  keyId: string;
  name: string;
  publicKey: string;
  nonce: number;
}

/** Who a key id belongs to: exactly one of these. */
export type KeyEntry = { participant: string } | { authority: true } | { meter: string };

export interface MeterEntry {
  meter: string;
  publicKey: string;
  participant: string;
  installer: string;
  location: string;
  pulsesPerKWh: number;
  relay: boolean;
  since: number;
  revoked?: { height: number; reason: string };
}

export interface SupplyEntry {
  /**
   * All µHEC ever created (genesis allocations + Mint). The conservation invariant:
   * Σ participants' (balance + escrow) + the storage fund = this, after every transaction.
   */
  mintedMicroHec: number;
}

// — The market (docs/market.md) —

/**
 * A kWhListing as the ledger stores it. DELIVERING is not stored: it is
 * AUCTION_CLOSED seen at or after deliveryStart (a state entered by time, not by a
 * transaction), so `listingState()` in gateway/market/period.ts derives it.
 */
export interface ListingEntry {
  /** Delivery start, UTC, "YYYY-MM-DDTHH:MMZ". */
  id: string;
  deliveryStart: number;
  deliveryEnd: number;
  /** When bidding is scheduled to close (the paper's 12:59); the state changes with CloseBidding itself. */
  closesAt: number;
  state: 'ACCEPT_OFFERS' | 'AUCTION_CLOSED' | 'SETTLED';
  opened: TxRef;
  /** Who sent AcceptOfferBroadcast: the operator's flows or the gateway's fallback (absent on listings opened before this was recorded). */
  openedBy?: 'flows' | 'fallback';
  /** Who sent CloseBidding. */
  closedBy?: 'flows' | 'fallback';
  /** Offers and bids ever posted (the length of the book index, cancelled ones included). */
  posted: number;
  /** Open PVOffers and BuyOffers, and their energy. */
  offers: number;
  bids: number;
  offeredMWh: number;
  bidMWh: number;
  closed?: TxRef;
  /** CloseBidding came at or after the delivery start: nothing could be delivered, so nothing traded. */
  late?: boolean;
  mechanism?: string;
  trades?: number;
  tradedMWh?: number;
  clearingPriceMicroHecPerKWh?: number;
  /** On-grid: meters given an allowance at CloseBidding (the first `allowances` of the grid's meter index). */
  allowances?: number;
  settled?: TxRef;
}

/** Where and when a transaction changed something. */
export interface TxRef {
  height: number;
  t: number;
  tx: string;
}

/** A PVOffer (side "sell") or BuyOffer (side "buy"), under its transaction id. */
export interface OfferEntry {
  id: string;
  listing: string;
  side: 'sell' | 'buy';
  owner: string;
  meter: string;
  energyMWh: number;
  /** Reserve price (sell) or bid price (buy), µHEC/kWh. */
  priceMicroHecPerKWh: number;
  /** Submission order (ctx.seq): the engine's tie-break. */
  seq: number;
  /** The standing order it was placed for. */
  order?: string;
  status: 'open' | 'cancelled';
  /** BuyOffer: µHEC held in escrow for it now (the full escrow, then Σ its payments after close, 0 after settlement). */
  escrowMicroHec?: number;
}

/** The listing's trades, written once by CloseBidding. */
export interface TradesEntry {
  listing: string;
  mechanism: string;
  tradedMWh: number;
  clearingPriceMicroHecPerKWh?: number;
  trades: Array<{
    offer: string; bid: string; seller: string; buyer: string; sellerMeter: string; buyerMeter: string;
    energyMWh: number; priceMicroHecPerKWh: number; paymentMicroHec: number;
  }>;
}

/** What Settle applied, written once (the figures of gateway/market/settlement.ts without the movements, which follow from them). */
export interface SettlementEntry {
  listing: string;
  readingsHeight: number;
  metered: Array<{ meter: string; importMWh: number; exportMWh: number }>;
  trades: unknown[];
  bids: unknown[];
  sellers: unknown[];
  buyers: unknown[];
  storage: { capacityMWh: number; storedBeforeMWh: number; depositedMWh: number; storedAfterMWh: number; drawnMWh?: number; creditMicroHec: number; fundBeforeMicroHec: number };
  totals: Record<string, number>;
  /** With a utility connection: imbalance billed and feed-in paid (gateway/market/settlement.ts UtilitySettlement). */
  utility?: unknown;
}

/**
 * The community storage (docs/market.md §5): its energy and its token fund. Absent
 * until first used; capacity and prices come from genesis.
 */
export interface StorageEntry {
  capacityMWh: number;
  storedMWh: number;
  /** µHEC the storage holds: Mint "storage" and StoragePurchase payments in, storage credits out. */
  fundMicroHec: number;
}

/**
 * The utility connection's account (docs/market.md §9): what households paid it for
 * imbalance import, less what it paid them at the feed-in tariff. It may be negative
 * — the utility is outside the token economy and the operator settles the position
 * with it in money — and it is part of the conservation invariant.
 */
export interface UtilityEntry {
  balanceMicroHec: number;
  /** Energy the utility supplied (billed imbalance import) and bought (feed-in), all periods. */
  importMWh: number;
  exportMWh: number;
  /** Imbalance charged that no escrow covered, all periods. */
  unbilledMicroHec: number;
}

/** Tariff changes by SetTariff, in the order they take effect. */
export interface TariffsEntry {
  changes: Array<{ from: string; fromMs: number; tariff: { importMicroHecPerKWh: number; feedInMicroHecPerKWh: number; timeOfUse?: Array<{ fromHourUtc: number; importMicroHecPerKWh: number; feedInMicroHecPerKWh: number }> }; at: TxRef }>;
}

/** A meter's prepaid allowance for a listing's period, held in its owner's escrow until Settle. */
export interface AllowanceEntry {
  meter: string;
  owner: string;
  energyMWh: number;
  escrowMicroHec: number;
  importMicroHecPerKWh: number;
}

/** A household's standing order, under the StandingOrder transaction id. */
export interface OrderEntry {
  id: string;
  owner: string;
  side: 'sell' | 'buy';
  meter: string;
  energyMWh: number;
  priceMicroHecPerKWh: number;
  validUntil?: number;
  since: number;
  revoked?: TxRef;
  /** The offer last placed for it, cancelled with the order if still open. */
  lastOffer?: { listing: string; offer: string };
}

export const keys = {
  participant: (email: string) => `participant/${email}`,
  key: (keyId: string) => `key/${keyId}`,
  authority: (keyId: string) => `authority/${keyId}`,
  meter: (meterId: string) => `meter/${meterId}`,
  supply: 'supply',
  listing: (id: string) => `listing/${id}`,
  /** The n-th offer or bid posted on a listing (n = 0 …): its transaction id. Rules cannot list keys, so the book is an index. */
  book: (listing: string, n: number) => `book/${listing}/${n}`,
  offer: (txId: string) => `offer/${txId}`,
  trades: (listing: string) => `trades/${listing}`,
  settlement: (listing: string) => `settlement/${listing}`,
  /** Open PVOffers of a meter on a listing: StorageDeposit must not credit that meter's export for that period. */
  pvMeter: (listing: string, meter: string) => `pvmeter/${listing}/${meter}`,
  /** A StorageDeposit already made for a meter and period. */
  deposit: (period: string, meter: string) => `deposit/${period}/${meter}`,
  storage: 'storage',
  order: (txId: string) => `order/${txId}`,
  /** A standing order's offer on a listing (one per order and listing). */
  placed: (order: string, listing: string) => `placed/${order}/${listing}`,
  utility: 'utility',
  tariffs: 'tariffs',
  /** On-grid: the n-th meter enrolled (n = 0 …), and how many there are — the allowance index. */
  gridMeter: (n: number) => `gridmeter/${n}`,
  gridMeters: 'gridmeters',
  allowance: (listing: string, meter: string) => `allowance/${listing}/${meter}`,
};
