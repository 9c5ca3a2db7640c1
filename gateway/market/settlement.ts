/**
 * settle(): what the Settle transaction applies once a kWhListing's delivery period
 * is over. A pure function of the listing's book, its trades, the escrow still held
 * per bid, the energy each meter imported and exported during the period, and the
 * central storage. It returns balance movements and per-trade, per-bid and per-meter
 * figures — integers only — for the ledger to apply as they are. docs/market.md,
 * "Settlement", states the rules; the numbered comments below follow it.
 *
 * Escrow is released to the last µHEC: for every bid,
 *     escrowMicroHec = Σ paid to its sellers + refund to the buyer.
 */
import { fail } from '../../protocol/errors.ts';
import { paymentMicroHec } from '../../protocol/units.ts';
import { apportion } from './apportion.ts';
import { bySubmission } from './clearing/priority.ts';
import type { PeriodTariff } from './tariff.ts';
import type { BuyOffer, PVOffer, Trade } from './types.ts';
import { checkArray, checkInt, checkOrder, checkString, MarketCodes, MAX_PRICE_MICRO_HEC_PER_KWH } from './validate.ts';

/** A BuyOffer with the escrow the ledger still holds for it when Settle runs. */
export interface EscrowedBuyOffer extends BuyOffer {
  /**
   * µHEC held for this bid: its full escrow, or — if CloseBidding already returned
   * the bid's unusedEscrowMicroHec — what is left (= Σ its trades' payments). Either
   * way settle() releases all of it.
   */
  readonly escrowMicroHec: number;
}

/** One row of Settle's `metered[]`: energy through a meter during the delivery period. */
export interface MeteredEnergy {
  readonly meter: string;
  readonly importMWh: number;
  readonly exportMWh: number;
}

/** The community storage (genesis `storage`, plus its state of charge). */
export interface StorageState {
  readonly capacityMWh: number;
  readonly storedMWh: number;
  /** Paid to a prosumer per kWh exported into storage. */
  readonly buyPriceMicroHecPerKWh: number;
  /** Charged by StoragePurchase; settle() does not use it (it never sells). */
  readonly sellPriceMicroHecPerKWh: number;
}

/** The utility's prepaid allowance for one meter and period (docs/market.md §9.3), held in the owner's escrow. */
export interface Allowance {
  readonly meter: string;
  readonly owner: string;
  readonly energyMWh: number;
  readonly escrowMicroHec: number;
}

/**
 * How imbalance is billed (docs/market.md §9.2). Absent: the grid predates the
 * utility connection and imbalance is reported, not billed (§4.2).
 */
export interface UtilityInput {
  readonly mode: 'on-grid' | 'islanded';
  /** On-grid: the period's import and feed-in tariffs. Islanded: unused (the storage's prices apply). */
  readonly tariff: PeriodTariff;
  /** On-grid: every meter's allowance for the period; a metered row is required for each. */
  readonly allowances: readonly Allowance[];
}

export interface SettlementInput {
  /** Every PVOffer on the listing (matched or not). */
  readonly offers: readonly PVOffer[];
  /** Every BuyOffer on the listing that still holds escrow. */
  readonly bids: readonly EscrowedBuyOffer[];
  /** The listing's trades, as clear() returned them. */
  readonly trades: readonly Trade[];
  /** A row for every meter that traded; optional for a meter whose offer sold nothing. */
  readonly metered: readonly MeteredEnergy[];
  readonly storage: StorageState;
  readonly utility?: UtilityInput;
}

export interface TradeSettlement {
  readonly offer: string;
  readonly bid: string;
  readonly seller: string;
  readonly buyer: string;
  readonly sellerMeter: string;
  readonly buyerMeter: string;
  /** What was sold at clearing. */
  readonly energyMWh: number;
  /** This trade's share of what the seller's meter delivered. */
  readonly deliveredMWh: number;
  /** energyMWh − deliveredMWh. */
  readonly undeliveredMWh: number;
  readonly priceMicroHecPerKWh: number;
  /** The payment at clearing, floor(energyMWh · price / 10⁶). */
  readonly paymentMicroHec: number;
  /** Paid to the seller: floor(deliveredMWh · price / 10⁶). */
  readonly paidMicroHec: number;
  /** paymentMicroHec − paidMicroHec: returned to the buyer for energy not delivered. */
  readonly undeliveredRefundMicroHec: number;
}

export interface BidSettlement {
  readonly id: string;
  readonly buyer: string;
  readonly meter: string;
  readonly boughtMWh: number;
  readonly deliveredMWh: number;
  /** Escrow held at Settle; = paidMicroHec + refundMicroHec. */
  readonly escrowMicroHec: number;
  /** Σ paid to sellers for delivered energy. */
  readonly paidMicroHec: number;
  /** Imbalance charged to this bid's escrow (docs/market.md §9.2); only with a utility connection. */
  readonly imbalanceMicroHec?: number;
  /** Everything else, back to the buyer: undelivered energy, the unmatched part, price improvement, rounding. */
  readonly refundMicroHec: number;
}

/** One meter's account with the utility (or, islanded, the storage) for the period: docs/market.md §9.2. */
export interface UtilityMeterSettlement {
  readonly meter: string;
  readonly owner: string;
  readonly importMWh: number;
  readonly exportMWh: number;
  /** Bought on this listing and delivered by its sellers. */
  readonly tradeImportMWh: number;
  /** Sold on this listing and delivered to its buyers. */
  readonly tradeExportMWh: number;
  /** Imported beyond what was bought and delivered: billed. On-grid import − tradeImport; islanded only what the listing's credit covered. */
  readonly imbalanceImportMWh: number;
  /** floor(imbalanceImport · price / 10⁶): the import tariff on-grid, the storage sell price islanded. */
  readonly chargeMicroHec: number;
  /** What the allowance escrow and the meter's bids' escrow paid of the charge. */
  readonly collectedMicroHec: number;
  /** chargeMicroHec − collectedMicroHec: billed but not covered by escrow; the utility (storage) bears it. */
  readonly unbilledMicroHec: number;
  readonly allowanceMWh: number;
  readonly allowanceEscrowMicroHec: number;
  /** Allowance escrow not needed for the charge, back to the owner. */
  readonly allowanceRefundMicroHec: number;
  /** Taken by the storage under rule 5 (at its buy price). */
  readonly storedMWh: number;
  /** On-grid: export beyond what was sold and stored, bought by the utility. */
  readonly feedInMWh: number;
  /** floor(feedIn · feed-in tariff / 10⁶), paid by the utility account. */
  readonly feedInMicroHec: number;
}

export interface UtilitySettlement {
  readonly mode: 'on-grid' | 'islanded';
  /** The prices used: on-grid the tariffs, islanded the storage sell price as import (feed-in 0: rule 5 prices it). */
  readonly importMicroHecPerKWh: number;
  readonly feedInMicroHecPerKWh: number;
  /** Every metered row's meter, by meter id, that has any of the figures above non-zero or an allowance. */
  readonly meters: readonly UtilityMeterSettlement[];
  readonly totals: {
    readonly imbalanceImportMWh: number;
    readonly chargedMicroHec: number;
    readonly collectedMicroHec: number;
    readonly unbilledMicroHec: number;
    readonly allowanceEscrowMicroHec: number;
    readonly allowanceRefundMicroHec: number;
    readonly feedInMWh: number;
    readonly feedInMicroHec: number;
    /** Islanded: energy drawn from the storage for the billed imbalance. */
    readonly drawnMWh: number;
  };
}

export interface SellerMeterSettlement {
  readonly meter: string;
  readonly seller: string;
  /** Σ energy this meter's trades sold. */
  readonly soldMWh: number;
  /** Metered export during the period (0 without a row). */
  readonly exportMWh: number;
  /** min(exportMWh, soldMWh): what buyers are charged for. */
  readonly deliveredMWh: number;
  /** soldMWh − deliveredMWh: shared among this meter's buyers, refunded to them. */
  readonly shortfallMWh: number;
  /** exportMWh − deliveredMWh: exported beyond what was sold. */
  readonly surplusMWh: number;
  /** The part of the surplus the storage took (its free capacity, shared pro rata). */
  readonly storedMWh: number;
  /** floor(storedMWh · storage buy price / 10⁶), paid by the storage account. */
  readonly storageCreditMicroHec: number;
}

export interface BuyerMeterSettlement {
  readonly meter: string;
  readonly buyer: string;
  readonly boughtMWh: number;
  /** Σ delivered to it by its sellers: what it pays for. */
  readonly deliveredMWh: number;
  /** Metered import during the period. */
  readonly importMWh: number;
  /** max(0, deliveredMWh − importMWh): paid for, delivered, not used — no refund (docs/market.md). */
  readonly unusedMWh: number;
  /**
   * max(0, min(importMWh, boughtMWh) − deliveredMWh): energy imported under this
   * listing's credit that its sellers did not deliver — the rest of the grid supplied
   * it. Reported, not charged (docs/market.md, "Imbalance").
   */
  readonly undeliveredImportMWh: number;
}

/** A balance movement, to be applied in list order; amounts are > 0. */
export type Movement =
  | { readonly kind: 'escrow-to-seller'; readonly bid: string; readonly offer: string; readonly from: string; readonly to: string; readonly amountMicroHec: number }
  | { readonly kind: 'escrow-to-buyer'; readonly bid: string; readonly to: string; readonly amountMicroHec: number }
  | { readonly kind: 'storage-to-seller'; readonly meter: string; readonly to: string; readonly energyMWh: number; readonly amountMicroHec: number }
  /** Imbalance import paid out of escrow (an allowance's, or a bid's when `bid` is set) to the utility (on-grid) or the storage fund (islanded). */
  | { readonly kind: 'imbalance-charge'; readonly meter: string; readonly from: string; readonly bid?: string; readonly to: 'utility' | 'storage'; readonly energyMWh: number; readonly amountMicroHec: number }
  | { readonly kind: 'allowance-refund'; readonly meter: string; readonly to: string; readonly amountMicroHec: number }
  | { readonly kind: 'feed-in'; readonly meter: string; readonly to: string; readonly energyMWh: number; readonly amountMicroHec: number };

export interface StorageSettlement {
  readonly capacityMWh: number;
  readonly storedBeforeMWh: number;
  /** Energy taken into storage from sellers' surplus; ≤ capacity − stored before. */
  readonly depositedMWh: number;
  readonly storedAfterMWh: number;
  /** Islanded with a utility connection: energy drawn for billed imbalance import (≤ stored before + deposited). */
  readonly drawnMWh?: number;
  /** Σ storage-to-seller amounts. */
  readonly creditMicroHec: number;
}

export interface Settlement {
  /** Same order as the input trades. */
  readonly trades: readonly TradeSettlement[];
  /** In submission order (seq, id). */
  readonly bids: readonly BidSettlement[];
  /** Every meter with a PVOffer on the listing, by meter id. */
  readonly sellers: readonly SellerMeterSettlement[];
  /** Every meter that bought, by meter id. */
  readonly buyers: readonly BuyerMeterSettlement[];
  /** escrow-to-seller per trade (input order), then escrow-to-buyer per bid (seq order), then storage-to-seller per meter. */
  readonly movements: readonly Movement[];
  readonly storage: StorageSettlement;
  /** Present when the grid has a utility connection in its genesis (on-grid or islanded). */
  readonly utility?: UtilitySettlement;
  readonly totals: {
    readonly escrowMicroHec: number;
    readonly paidToSellersMicroHec: number;
    readonly refundedMicroHec: number;
    readonly storageCreditMicroHec: number;
    readonly soldMWh: number;
    readonly deliveredMWh: number;
  };
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function mismatch(message: string, path?: string): never {
  fail(MarketCodes.STATE_MISMATCH, message, path);
}

/** Settles a kWhListing. Throws a HeliosError, before computing anything, on inconsistent input. */
export function settle(input: SettlementInput): Settlement {
  const { offers, bids, trades, metered, storage, utility } = input;

  // --- Inputs, checked up front ---------------------------------------------------
  checkArray(offers, 'offers');
  checkArray(bids, 'bids');
  checkArray(trades, 'trades');
  checkArray(metered, 'metered');
  const offerById = new Map<string, PVOffer>();
  const bidById = new Map<string, EscrowedBuyOffer>();
  const meterOwner = new Map<string, string>();
  const ownMeter = (meter: string, owner: string, path: string) => {
    const known = meterOwner.get(meter);
    if (known !== undefined && known !== owner) mismatch(`meter ${meter} belongs to ${known} but ${path} says ${owner}`, path);
    meterOwner.set(meter, owner);
  };
  offers.forEach((o, i) => {
    checkOrder(o, 'offers', i);
    if (offerById.has(o.id)) fail(MarketCodes.DUPLICATE_TX, `offer ${o.id} appears twice in offers`, `offers[${i}].id`);
    offerById.set(o.id, o);
    ownMeter(o.meter, o.owner, `offers[${i}]`);
  });
  bids.forEach((b, i) => {
    checkOrder(b, 'bids', i);
    checkInt(b.escrowMicroHec, 0, Number.MAX_SAFE_INTEGER, `bids[${i}].escrowMicroHec`);
    if (bidById.has(b.id)) fail(MarketCodes.DUPLICATE_TX, `bid ${b.id} appears twice in bids`, `bids[${i}].id`);
    bidById.set(b.id, b);
    ownMeter(b.meter, b.owner, `bids[${i}]`);
  });

  if (typeof storage !== 'object' || storage === null) fail(MarketCodes.WRONG_TYPE, 'storage must be an object', 'storage');
  checkInt(storage.capacityMWh, 0, Number.MAX_SAFE_INTEGER, 'storage.capacityMWh');
  checkInt(storage.storedMWh, 0, storage.capacityMWh, 'storage.storedMWh');
  checkInt(storage.buyPriceMicroHecPerKWh, 0, MAX_PRICE_MICRO_HEC_PER_KWH, 'storage.buyPriceMicroHecPerKWh');
  checkInt(storage.sellPriceMicroHecPerKWh, 0, MAX_PRICE_MICRO_HEC_PER_KWH, 'storage.sellPriceMicroHecPerKWh');

  const meteredBy = new Map<string, MeteredEnergy>();
  metered.forEach((row, i) => {
    if (typeof row !== 'object' || row === null) fail(MarketCodes.WRONG_TYPE, `metered[${i}] must be an object`, `metered[${i}]`);
    checkString(row.meter, `metered[${i}].meter`);
    checkInt(row.importMWh, 0, Number.MAX_SAFE_INTEGER, `metered[${i}].importMWh`);
    checkInt(row.exportMWh, 0, Number.MAX_SAFE_INTEGER, `metered[${i}].exportMWh`);
    if (meteredBy.has(row.meter)) fail(MarketCodes.METERED_MISMATCH, `meter ${row.meter} has two metered rows; Settle carries one per meter`, `metered[${i}].meter`);
    meteredBy.set(row.meter, row);
  });

  const allowanceBy = new Map<string, Allowance>();
  if (utility !== undefined) {
    if (typeof utility !== 'object' || utility === null) fail(MarketCodes.WRONG_TYPE, 'utility must be an object', 'utility');
    if (utility.mode !== 'on-grid' && utility.mode !== 'islanded') fail(MarketCodes.BAD_FORMAT, `utility.mode must be "on-grid" or "islanded", got ${JSON.stringify(utility.mode)}`, 'utility.mode');
    checkInt(utility.tariff.importMicroHecPerKWh, 0, MAX_PRICE_MICRO_HEC_PER_KWH, 'utility.tariff.importMicroHecPerKWh');
    checkInt(utility.tariff.feedInMicroHecPerKWh, 0, utility.tariff.importMicroHecPerKWh, 'utility.tariff.feedInMicroHecPerKWh');
    checkArray(utility.allowances, 'utility.allowances');
    if (utility.mode === 'islanded' && utility.allowances.length > 0) mismatch('an islanded grid has no utility allowances', 'utility.allowances');
    utility.allowances.forEach((a, i) => {
      const path = `utility.allowances[${i}]`;
      checkString(a.meter, `${path}.meter`);
      checkString(a.owner, `${path}.owner`);
      checkInt(a.energyMWh, 0, Number.MAX_SAFE_INTEGER, `${path}.energyMWh`);
      checkInt(a.escrowMicroHec, 0, Number.MAX_SAFE_INTEGER, `${path}.escrowMicroHec`);
      if (allowanceBy.has(a.meter)) fail(MarketCodes.DUPLICATE_TX, `meter ${a.meter} has two allowances`, `${path}.meter`);
      allowanceBy.set(a.meter, a);
      ownMeter(a.meter, a.owner, path);
      if (!meteredBy.has(a.meter)) fail(MarketCodes.METERED_MISMATCH, `meter ${a.meter} held a utility allowance for this period but Settle has no metered row for it`, 'metered');
    });
  }

  if (utility !== undefined) {
    metered.forEach((row, i) => {
      if (!meterOwner.has(row.meter)) fail(MarketCodes.METERED_MISMATCH, `metered[${i}] is for meter ${row.meter}, which neither offered, bid nor held an allowance`, `metered[${i}].meter`);
    });
  }

  // Every trade must be one clear() could have made from this book.
  const soldByOffer = new Map<string, number>();
  const boughtByBid = new Map<string, number>();
  const paymentByBid = new Map<string, number>();
  const pairs = new Set<string>();
  trades.forEach((t, k) => {
    const path = `trades[${k}]`;
    if (typeof t !== 'object' || t === null) fail(MarketCodes.WRONG_TYPE, `${path} must be an object`, path);
    const o = offerById.get(t.offer);
    if (!o) fail(MarketCodes.UNKNOWN_OFFER, `${path} sells from offer ${t.offer}, which is not on this listing`, `${path}.offer`);
    const b = bidById.get(t.bid);
    if (!b) fail(MarketCodes.UNKNOWN_OFFER, `${path} buys for bid ${t.bid}, which is not on this listing (or holds no escrow)`, `${path}.bid`);
    if (t.seller !== o.owner || t.sellerMeter !== o.meter) mismatch(`${path} names seller ${t.seller} / meter ${t.sellerMeter}, but offer ${o.id} is ${o.owner} / ${o.meter}`, path);
    if (t.buyer !== b.owner || t.buyerMeter !== b.meter) mismatch(`${path} names buyer ${t.buyer} / meter ${t.buyerMeter}, but bid ${b.id} is ${b.owner} / ${b.meter}`, path);
    checkInt(t.energyMWh, 1, Number.MAX_SAFE_INTEGER, `${path}.energyMWh`);
    checkInt(t.priceMicroHecPerKWh, 0, MAX_PRICE_MICRO_HEC_PER_KWH, `${path}.priceMicroHecPerKWh`);
    checkInt(t.paymentMicroHec, 0, Number.MAX_SAFE_INTEGER, `${path}.paymentMicroHec`);
    if (t.priceMicroHecPerKWh < o.priceMicroHecPerKWh || t.priceMicroHecPerKWh > b.priceMicroHecPerKWh) {
      mismatch(`${path} price ${t.priceMicroHecPerKWh} is outside [reserve ${o.priceMicroHecPerKWh}, bid ${b.priceMicroHecPerKWh}]`, `${path}.priceMicroHecPerKWh`);
    }
    if (t.paymentMicroHec !== paymentMicroHec(t.energyMWh, t.priceMicroHecPerKWh)) {
      mismatch(`${path} payment ${t.paymentMicroHec} µHEC is not floor(${t.energyMWh} × ${t.priceMicroHecPerKWh} / 10⁶)`, `${path}.paymentMicroHec`);
    }
    const pair = `${t.offer}/${t.bid}`;
    if (pairs.has(pair)) mismatch(`${path} repeats the pair offer ${t.offer} / bid ${t.bid}; clearing makes at most one trade per pair`, path);
    pairs.add(pair);
    const sold = (soldByOffer.get(o.id) ?? 0) + t.energyMWh;
    if (sold > o.energyMWh) mismatch(`offer ${o.id} is sold ${sold} mWh by the trades but offered only ${o.energyMWh}`, path);
    soldByOffer.set(o.id, sold);
    const bought = (boughtByBid.get(b.id) ?? 0) + t.energyMWh;
    if (bought > b.energyMWh) mismatch(`bid ${b.id} is filled ${bought} mWh by the trades but asked for only ${b.energyMWh}`, path);
    boughtByBid.set(b.id, bought);
    const paid = (paymentByBid.get(b.id) ?? 0) + t.paymentMicroHec;
    if (paid > b.escrowMicroHec) mismatch(`bid ${b.id} owes ${paid} µHEC for its trades but only ${b.escrowMicroHec} µHEC is in escrow`, path);
    paymentByBid.set(b.id, paid);
  });

  // --- 1. What each seller's meter delivered ----------------------------------------
  // Trades per seller meter, in the tie-break order of rule 2 (earlier bid, then earlier offer).
  const tradesBySellerMeter = new Map<string, number[]>();
  trades.forEach((t, k) => {
    const list = tradesBySellerMeter.get(t.sellerMeter);
    if (list) list.push(k);
    else tradesBySellerMeter.set(t.sellerMeter, [k]);
  });
  const buyerMetersTraded = new Set(trades.map((t) => t.buyerMeter));
  for (const meter of [...tradesBySellerMeter.keys(), ...buyerMetersTraded]) {
    if (!meteredBy.has(meter)) fail(MarketCodes.METERED_MISMATCH, `meter ${meter} traded on this listing but Settle has no metered row for it`, 'metered');
  }

  const delivered = new Array<number>(trades.length).fill(0);
  const deliveredBySellerMeter = new Map<string, { sold: number; delivered: number }>();
  for (const [meter, ks] of tradesBySellerMeter) {
    ks.sort((x, y) => {
      const tx = trades[x];
      const ty = trades[y];
      return bySubmission(bidById.get(tx.bid)!, bidById.get(ty.bid)!) || bySubmission(offerById.get(tx.offer)!, offerById.get(ty.offer)!);
    });
    const sold = ks.reduce((s, k) => s + trades[k].energyMWh, 0);
    const exported = meteredBy.get(meter)!.exportMWh;
    const meterDelivered = Math.min(exported, sold);
    // --- 2. A shortfall is shared among the meter's buyers in proportion to what each bought.
    const shares = apportion(meterDelivered, ks.map((k) => trades[k].energyMWh));
    ks.forEach((k, n) => (delivered[k] = shares[n]));
    deliveredBySellerMeter.set(meter, { sold, delivered: meterDelivered });
  }

  // --- 3. Sellers are paid for delivered energy at the trade price; buyers get the rest.
  const tradeResults: TradeSettlement[] = [];
  const movements: Movement[] = [];
  const paidByBid = new Map<string, number>();
  const deliveredByBid = new Map<string, number>();
  let paidToSellers = 0;
  let soldTotal = 0;
  let deliveredTotal = 0;
  trades.forEach((t, k) => {
    const d = delivered[k];
    const paid = paymentMicroHec(d, t.priceMicroHecPerKWh);
    tradeResults.push({
      offer: t.offer, bid: t.bid, seller: t.seller, buyer: t.buyer, sellerMeter: t.sellerMeter, buyerMeter: t.buyerMeter,
      energyMWh: t.energyMWh, deliveredMWh: d, undeliveredMWh: t.energyMWh - d, priceMicroHecPerKWh: t.priceMicroHecPerKWh,
      paymentMicroHec: t.paymentMicroHec, paidMicroHec: paid, undeliveredRefundMicroHec: t.paymentMicroHec - paid,
    });
    if (paid > 0) movements.push({ kind: 'escrow-to-seller', bid: t.bid, offer: t.offer, from: t.buyer, to: t.seller, amountMicroHec: paid });
    paidByBid.set(t.bid, (paidByBid.get(t.bid) ?? 0) + paid);
    deliveredByBid.set(t.bid, (deliveredByBid.get(t.bid) ?? 0) + d);
    paidToSellers += paid;
    soldTotal += t.energyMWh;
    deliveredTotal += d;
  });

  // --- 7. Imbalance import is billed (docs/market.md §9.2): out of the meter's allowance
  // escrow first, then out of its bids' escrow left after paying the sellers.
  const deliveredToMeter = new Map<string, number>();
  const boughtByMeter = new Map<string, number>();
  trades.forEach((t, k) => {
    deliveredToMeter.set(t.buyerMeter, (deliveredToMeter.get(t.buyerMeter) ?? 0) + delivered[k]);
    boughtByMeter.set(t.buyerMeter, (boughtByMeter.get(t.buyerMeter) ?? 0) + t.energyMWh);
  });
  const onGrid = utility?.mode === 'on-grid';
  const importPrice = utility === undefined ? 0 : onGrid ? utility.tariff.importMicroHecPerKWh : storage.sellPriceMicroHecPerKWh;
  const imbalanceByBid = new Map<string, number>();
  const charges = new Map<string, { imbalanceMWh: number; charge: number; collected: number; allowanceRefund: number }>();
  const chargeMovements: Movement[] = [];
  if (utility !== undefined) {
    const bidsByMeter = new Map<string, EscrowedBuyOffer[]>();
    for (const b of [...bids].sort(bySubmission)) {
      const list = bidsByMeter.get(b.meter);
      if (list) list.push(b);
      else bidsByMeter.set(b.meter, [b]);
    }
    for (const meter of [...meteredBy.keys()].sort(byString)) {
      const row = meteredBy.get(meter)!;
      const deliveredIn = deliveredToMeter.get(meter) ?? 0;
      // On-grid every kWh not bought-and-delivered came from the utility; islanded only what the
      // listing's own credit let through (other credit — storage, direct purchases — was paid for).
      const imbalanceMWh = onGrid
        ? Math.max(0, row.importMWh - deliveredIn)
        : Math.max(0, Math.min(row.importMWh, boughtByMeter.get(meter) ?? 0) - deliveredIn);
      const charge = paymentMicroHec(imbalanceMWh, importPrice);
      const a = allowanceBy.get(meter);
      let due = charge;
      const fromAllowance = Math.min(due, a?.escrowMicroHec ?? 0);
      due -= fromAllowance;
      const to = onGrid ? 'utility' as const : 'storage' as const;
      if (fromAllowance > 0) chargeMovements.push({ kind: 'imbalance-charge', meter, from: a!.owner, to, energyMWh: imbalanceMWh, amountMicroHec: fromAllowance });
      for (const b of bidsByMeter.get(meter) ?? []) {
        if (due === 0) break;
        const left = b.escrowMicroHec - (paidByBid.get(b.id) ?? 0);
        const take = Math.min(due, left);
        if (take > 0) {
          imbalanceByBid.set(b.id, take);
          chargeMovements.push({ kind: 'imbalance-charge', meter, from: b.owner, bid: b.id, to, energyMWh: imbalanceMWh, amountMicroHec: take });
          due -= take;
        }
      }
      const allowanceRefund = (a?.escrowMicroHec ?? 0) - fromAllowance;
      if (a !== undefined && allowanceRefund > 0) chargeMovements.push({ kind: 'allowance-refund', meter, to: a.owner, amountMicroHec: allowanceRefund });
      charges.set(meter, { imbalanceMWh, charge, collected: charge - due, allowanceRefund });
    }
  }

  // --- 4. Escrow is released to the last µHEC: refund = escrow − paid to sellers − imbalance charged.
  const bidResults: BidSettlement[] = [];
  let escrowTotal = 0;
  let refundedTotal = 0;
  for (const b of [...bids].sort(bySubmission)) {
    const paid = paidByBid.get(b.id) ?? 0;
    const imbalance = imbalanceByBid.get(b.id) ?? 0;
    const refund = b.escrowMicroHec - paid - imbalance;
    bidResults.push({
      id: b.id, buyer: b.owner, meter: b.meter, boughtMWh: boughtByBid.get(b.id) ?? 0, deliveredMWh: deliveredByBid.get(b.id) ?? 0,
      escrowMicroHec: b.escrowMicroHec, paidMicroHec: paid, ...(utility ? { imbalanceMicroHec: imbalance } : {}), refundMicroHec: refund,
    });
    if (refund > 0) movements.push({ kind: 'escrow-to-buyer', bid: b.id, to: b.owner, amountMicroHec: refund });
    escrowTotal += b.escrowMicroHec;
    refundedTotal += refund;
  }

  // --- 5. Export beyond what was sold goes into storage while it has room, at its buy price.
  // Every meter with a PVOffer on the listing, its earliest offer first for tie-breaks.
  const firstOfferByMeter = new Map<string, PVOffer>();
  for (const o of [...offers].sort(bySubmission)) if (!firstOfferByMeter.has(o.meter)) firstOfferByMeter.set(o.meter, o);
  const sellerMeters = [...firstOfferByMeter.values()];
  const surplus = sellerMeters.map((o) => {
    const exported = meteredBy.get(o.meter)?.exportMWh ?? 0;
    return exported - (deliveredBySellerMeter.get(o.meter)?.delivered ?? 0);
  });
  const free = storage.capacityMWh - storage.storedMWh;
  const totalSurplus = surplus.reduce((s, x) => s + x, 0);
  const stored = apportion(Math.min(free, totalSurplus), surplus);
  const sellerResults: SellerMeterSettlement[] = [];
  let deposited = 0;
  let storageCredit = 0;
  sellerMeters.forEach((o, n) => {
    const exported = meteredBy.get(o.meter)?.exportMWh ?? 0;
    const dv = deliveredBySellerMeter.get(o.meter) ?? { sold: 0, delivered: 0 };
    const credit = paymentMicroHec(stored[n], storage.buyPriceMicroHecPerKWh);
    sellerResults.push({
      meter: o.meter, seller: o.owner, soldMWh: dv.sold, exportMWh: exported, deliveredMWh: dv.delivered,
      shortfallMWh: dv.sold - dv.delivered, surplusMWh: surplus[n], storedMWh: stored[n], storageCreditMicroHec: credit,
    });
    deposited += stored[n];
    storageCredit += credit;
  });
  sellerResults.sort((a, b) => byString(a.meter, b.meter));
  for (const s of sellerResults) {
    if (s.storageCreditMicroHec > 0) {
      movements.push({ kind: 'storage-to-seller', meter: s.meter, to: s.seller, energyMWh: s.storedMWh, amountMicroHec: s.storageCreditMicroHec });
    }
  }

  // --- 8. The utility's account: imbalance charges, allowance refunds, and on-grid the
  // feed-in tariff for export nobody bought and the storage did not take.
  let utilityResult: UtilitySettlement | undefined;
  let drawn = 0;
  if (utility !== undefined) {
    movements.push(...chargeMovements);
    const storedBy = new Map(sellerResults.map((x) => [x.meter, x.storedMWh]));
    const feedInPrice = onGrid ? utility.tariff.feedInMicroHecPerKWh : 0;
    const rows: UtilityMeterSettlement[] = [];
    const tot = { imbalanceImportMWh: 0, chargedMicroHec: 0, collectedMicroHec: 0, unbilledMicroHec: 0, allowanceEscrowMicroHec: 0, allowanceRefundMicroHec: 0, feedInMWh: 0, feedInMicroHec: 0, drawnMWh: 0 };
    for (const meter of [...meteredBy.keys()].sort(byString)) {
      const row = meteredBy.get(meter)!;
      const c = charges.get(meter)!;
      const a = allowanceBy.get(meter);
      const tradeExport = deliveredBySellerMeter.get(meter)?.delivered ?? 0;
      const stored = storedBy.get(meter) ?? 0;
      const feedInMWh = onGrid ? row.exportMWh - tradeExport - stored : 0;
      const feedIn = paymentMicroHec(feedInMWh, feedInPrice);
      const owner = meterOwner.get(meter)!;
      if (feedIn > 0) movements.push({ kind: 'feed-in', meter, to: owner, energyMWh: feedInMWh, amountMicroHec: feedIn });
      const r: UtilityMeterSettlement = {
        meter, owner, importMWh: row.importMWh, exportMWh: row.exportMWh, tradeImportMWh: deliveredToMeter.get(meter) ?? 0, tradeExportMWh: tradeExport,
        imbalanceImportMWh: c.imbalanceMWh, chargeMicroHec: c.charge, collectedMicroHec: c.collected, unbilledMicroHec: c.charge - c.collected,
        allowanceMWh: a?.energyMWh ?? 0, allowanceEscrowMicroHec: a?.escrowMicroHec ?? 0, allowanceRefundMicroHec: c.allowanceRefund,
        storedMWh: stored, feedInMWh, feedInMicroHec: feedIn,
      };
      if (a || r.imbalanceImportMWh || r.feedInMWh) rows.push(r);
      tot.imbalanceImportMWh += r.imbalanceImportMWh;
      tot.chargedMicroHec += r.chargeMicroHec;
      tot.collectedMicroHec += r.collectedMicroHec;
      tot.unbilledMicroHec += r.unbilledMicroHec;
      tot.allowanceEscrowMicroHec += r.allowanceEscrowMicroHec;
      tot.allowanceRefundMicroHec += r.allowanceRefundMicroHec;
      tot.feedInMWh += r.feedInMWh;
      tot.feedInMicroHec += r.feedInMicroHec;
    }
    // Islanded, the billed imbalance was supplied by the community storage, as far as it held energy.
    if (!onGrid) drawn = Math.min(storage.storedMWh + deposited, tot.imbalanceImportMWh);
    tot.drawnMWh = drawn;
    utilityResult = { mode: utility.mode, importMicroHecPerKWh: importPrice, feedInMicroHecPerKWh: feedInPrice, meters: rows, totals: tot };
  }

  // --- 6. Buyers pay for what was delivered to them, whatever they imported.
  const buyerAcc = new Map<string, { buyer: string; bought: number; delivered: number }>();
  trades.forEach((t, k) => {
    const acc = buyerAcc.get(t.buyerMeter) ?? { buyer: t.buyer, bought: 0, delivered: 0 };
    acc.bought += t.energyMWh;
    acc.delivered += delivered[k];
    buyerAcc.set(t.buyerMeter, acc);
  });
  const buyerResults: BuyerMeterSettlement[] = [...buyerAcc.entries()]
    .sort(([a], [b]) => byString(a, b))
    .map(([meter, acc]) => {
      const imported = meteredBy.get(meter)!.importMWh;
      return {
        meter, buyer: acc.buyer, boughtMWh: acc.bought, deliveredMWh: acc.delivered, importMWh: imported,
        unusedMWh: Math.max(0, acc.delivered - imported),
        undeliveredImportMWh: Math.max(0, Math.min(imported, acc.bought) - acc.delivered),
      };
    });

  return {
    trades: tradeResults,
    bids: bidResults,
    sellers: sellerResults,
    buyers: buyerResults,
    movements,
    storage: {
      capacityMWh: storage.capacityMWh,
      storedBeforeMWh: storage.storedMWh,
      depositedMWh: deposited,
      storedAfterMWh: storage.storedMWh + deposited - drawn,
      ...(utility ? { drawnMWh: drawn } : {}),
      creditMicroHec: storageCredit,
    },
    ...(utilityResult ? { utility: utilityResult } : {}),
    totals: {
      escrowMicroHec: escrowTotal,
      paidToSellersMicroHec: paidToSellers,
      refundedMicroHec: refundedTotal,
      storageCreditMicroHec: storageCredit,
      soldMWh: soldTotal,
      deliveredMWh: deliveredTotal,
    },
  };
}
