/**
 * The market engine's view of a kWhListing's order book, and what it returns.
 * Plain data, integers in base units (docs/protocol.md §1): energy in mWh, tokens in
 * µHEC, prices in µHEC per kWh. The ledger builds these from its state (a PVOffer or
 * BuyOffer transaction plus the sequence number it assigned) and applies the results
 * mechanically; nothing here reads a clock, a database or the network.
 */

/** The clearing mechanisms a grid may choose in its genesis (`clearing`). */
export const MECHANISMS = ['seed', 'pay-as-bid', 'pay-as-clear'] as const;
export type Mechanism = (typeof MECHANISMS)[number];

/**
 * One side of the book. A PVOffer's price is its reserve price (the paper's optional
 * reservePrice, 0 when absent); a BuyOffer's price is its bid price (the paper's
 * BidPrice). The same shape for both keeps one set of comparators and one matching
 * loop, and the type aliases below keep the paper's names at every call site.
 */
export interface Order {
  /** The PVOffer or BuyOffer transaction id (64 lowercase hex). */
  readonly id: string;
  /**
   * Submission order, assigned by the ledger: strictly increasing in the order the
   * offers were accepted. It is the paper's "offer time" without a clock, and the
   * tie-break between equal prices (earlier first).
   */
  readonly seq: number;
  /** The participant (email) who posted it: the seller of a PVOffer, the buyer of a BuyOffer. */
  readonly owner: string;
  /** The meter that delivers (PVOffer) or receives the credit (BuyOffer). */
  readonly meter: string;
  /** The paper's kWhAvailable (PVOffer) or kWhQuantity (BuyOffer), in mWh; 1…10⁹. */
  readonly energyMWh: number;
  /** Reserve price (PVOffer) or bid price (BuyOffer), in µHEC/kWh; 0…10¹². */
  readonly priceMicroHecPerKWh: number;
}

/** A prosumer's offer to sell surplus PV energy; `priceMicroHecPerKWh` is the reserve price. */
export type PVOffer = Order;
/** A consumer's bid; `priceMicroHecPerKWh` is the bid price, and `escrowMicroHec(energyMWh, price)` is held. */
export type BuyOffer = Order;

/**
 * One matched pair. The field names beyond `offer` and `bid` are those of the
 * `Trades` broadcast (docs/protocol.md §7), so a trade can be published as it is.
 */
export interface Trade {
  /** Id of the PVOffer that sells. */
  readonly offer: string;
  /** Id of the BuyOffer that buys. */
  readonly bid: string;
  readonly seller: string;
  readonly buyer: string;
  readonly sellerMeter: string;
  readonly buyerMeter: string;
  /** ≥ 1. */
  readonly energyMWh: number;
  /** Within [reserve, bid] of the two offers. */
  readonly priceMicroHecPerKWh: number;
  /** paymentMicroHec(energyMWh, priceMicroHecPerKWh) = floor(e·p/10⁶) (protocol/units.ts). */
  readonly paymentMicroHec: number;
}

/** How much of a PVOffer was sold. */
export interface OfferFill {
  readonly id: string;
  readonly soldMWh: number;
  /** energyMWh − soldMWh. */
  readonly unsoldMWh: number;
}

/** How much of a BuyOffer was bought, and what of its escrow is still needed. */
export interface BidFill {
  readonly id: string;
  readonly boughtMWh: number;
  /** energyMWh − boughtMWh. */
  readonly unboughtMWh: number;
  /** escrowMicroHec(energyMWh, bid) = ceil(q·bid/10⁶), what BuyOffer put in escrow. */
  readonly escrowMicroHec: number;
  /** Σ paymentMicroHec over this bid's trades: the most settlement can ever pay out of the escrow. */
  readonly paymentMicroHec: number;
  /**
   * escrowMicroHec − paymentMicroHec: the unmatched part of the bid plus any price
   * improvement (and rounding). No trade can use it, so the ledger may return it to
   * the buyer at CloseBidding (docs/market.md, "Escrow").
   */
  readonly unusedEscrowMicroHec: number;
}

/** What CloseBidding records. */
export interface ClearingResult {
  readonly mechanism: Mechanism;
  /** In matching order (docs/market.md gives each mechanism's). */
  readonly trades: readonly Trade[];
  /** Σ trades' energyMWh. */
  readonly tradedMWh: number;
  /** The uniform price (pay-as-clear only, when something traded); absent otherwise. */
  readonly clearingPriceMicroHecPerKWh?: number;
  /** Every PVOffer, in the mechanism's priority order. */
  readonly offers: readonly OfferFill[];
  /** Every BuyOffer, in priority order (bid high to low, then earlier submission). */
  readonly bids: readonly BidFill[];
}
