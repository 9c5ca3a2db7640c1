/**
 * Ledger transactions (docs/protocol.md, "Transactions"). Every transaction is a
 * signed envelope { body, sig }; `body.signer` is the key id that signed it and
 * `body.nonce` that account's next nonce (1, 2, 3 …), so a transaction can be
 * applied once only. Names follow the paper where it has them.
 */
import { array, bool, int, literal, object, oneOf, optional, tagged, type Infer, type ObjectOf } from '../schema.ts';
import {
  amountMicroHec, email, energyMWh, gridId, keyId, listingId, MAX_SAFE, meterId, mintRecipient, name, nonce, priceMicroHecPerKWh, publicKey,
  memo, registerMWh, text, timeMs, txId,
} from './fields.ts';

/** Fields every transaction body has. */
const common = {
  grid: gridId(),
  /** Key id of the signing key. */
  signer: keyId(),
  nonce: nonce(),
  /** When the signer made it (ms); the gateway refuses one more than a few minutes ahead of its clock. */
  t: timeMs(),
};

export const ROLES = ['prosumer', 'consumer'] as const;
export type Role = (typeof ROLES)[number];

// Identity — the paper's Certificate Authority; signed by an authority.
const registerParticipant = {
  type: literal('RegisterParticipant'), ...common,
  name: name(80),
  email: email(),
  role: oneOf(ROLES),
  publicKey: publicKey(),
};
const enrollMeter = {
  type: literal('EnrollMeter'), ...common,
  meter: meterId(),
  publicKey: publicKey(),
  participant: email(),
  installer: name(80),
  location: name(120),
  pulsesPerKWh: int(1, 100_000),
  relay: bool(),
};
const revokeMeter = {
  type: literal('RevokeMeter'), ...common,
  meter: meterId(),
  reason: name(200),
};

// Tokens.
const transfer = {
  type: literal('Transfer'), ...common,
  to: email(),
  amountMicroHec: amountMicroHec(),
  memo: optional(memo(140)),
};
const mint = {
  type: literal('Mint'), ...common,
  /** A household, or "storage" to fund the community storage's purchases (docs/market.md §5). */
  to: mintRecipient(),
  amountMicroHec: amountMicroHec(),
  memo: optional(memo(140)),
};

// The grid connection (docs/market.md §9): the utility's import and feed-in tariffs.
const tariffHour = object({
  /** From this UTC hour of the day (0–23) until the next entry's hour. */
  fromHourUtc: int(0, 23),
  importMicroHecPerKWh: priceMicroHecPerKWh(),
  feedInMicroHecPerKWh: priceMicroHecPerKWh(),
});
/**
 * What the utility charges per kWh imported and pays per kWh fed in. Flat, or a
 * time-of-use schedule: the entry with the latest `fromHourUtc` at or before a
 * period's start hour applies, the flat figures before the first entry.
 */
export const Tariff = object({
  importMicroHecPerKWh: priceMicroHecPerKWh(),
  feedInMicroHecPerKWh: priceMicroHecPerKWh(),
  timeOfUse: optional(array(tariffHour, { min: 1, max: 24 })),
});
export type Tariff = ObjectOf<typeof Tariff.shape>;
export const GRID_MODES = ['on-grid', 'islanded'] as const;
export type GridMode = (typeof GRID_MODES)[number];
const setTariff = {
  type: literal('SetTariff'), ...common,
  /** The first delivery period the new tariff applies to; it must not have a listing yet. */
  from: listingId(),
  tariff: Tariff,
};

// Market — the paper's kWhListing lifecycle.
/**
 * Who sent a market broadcast: the operator's flows (Node-RED), or the gateway's
 * own scheduler when the flows' did not come in time. The authority signs it with
 * the transaction, so the record of a missed broadcast is on the chain.
 */
export const BROADCAST_SENDERS = ['flows', 'fallback'] as const;
export type BroadcastSender = (typeof BROADCAST_SENDERS)[number];

const acceptOfferBroadcast = {
  type: literal('AcceptOfferBroadcast'), ...common,
  listing: listingId(),
  by: optional(oneOf(BROADCAST_SENDERS)),
};
const pvOffer = {
  type: literal('PVOffer'), ...common,
  listing: listingId(),
  /** The meter that will deliver. */
  meter: meterId(),
  /** The paper's kWhAvailable, in mWh. */
  energyMWh: energyMWh(),
  /** The paper's optional reservePrice; 0 when absent. */
  reservePriceMicroHecPerKWh: optional(priceMicroHecPerKWh()),
  /** Set when the gateway places this offer for a standing order: the order's transaction id. */
  order: optional(txId()),
};
const buyOffer = {
  type: literal('BuyOffer'), ...common,
  listing: listingId(),
  /** The meter that will receive the credit. */
  meter: meterId(),
  /** The paper's kWhQuantity, in mWh. */
  energyMWh: energyMWh(),
  /** The paper's BidPrice. */
  bidPriceMicroHecPerKWh: priceMicroHecPerKWh(),
  order: optional(txId()),
};
const cancelOffer = {
  type: literal('CancelOffer'), ...common,
  listing: listingId(),
  /** Transaction id of the PVOffer or BuyOffer to withdraw. */
  offer: txId(),
};
const closeBidding = {
  type: literal('CloseBidding'), ...common,
  listing: listingId(),
  by: optional(oneOf(BROADCAST_SENDERS)),
};
const meteredEnergy = object({
  meter: meterId(),
  /** Energy the meter imported during the delivery period. */
  importMWh: registerMWh(),
  /** Energy the meter exported during the delivery period. */
  exportMWh: registerMWh(),
});
const settle = {
  type: literal('Settle'), ...common,
  listing: listingId(),
  /** Metered energy in the delivery period, per meter that traded; checked against the committed readings. */
  metered: array(meteredEnergy, { max: 20_000 }),
  /**
   * The figures are computed from the readings committed in blocks up to this
   * height (below the Settle's own block), so anyone can recompute them exactly:
   * `helios ledger verify` does (E_METERED_MISMATCH).
   */
  readingsHeight: int(0, MAX_SAFE),
};

// Central storage (the paper's community battery).
const storageDeposit = {
  type: literal('StorageDeposit'), ...common,
  meter: meterId(),
  energyMWh: energyMWh(),
  /** The delivery period the export was metered in. */
  period: listingId(),
  /** As Settle's: energyMWh is at most the export the readings committed up to this height show. */
  readingsHeight: int(0, MAX_SAFE),
};
const storagePurchase = {
  type: literal('StoragePurchase'), ...common,
  meter: meterId(),
  energyMWh: energyMWh(),
  /** Refuse if the storage price is above this. */
  maxPriceMicroHecPerKWh: priceMicroHecPerKWh(),
};

// Direct purchase (the paper's demo: pay a prosumer, get the energy now).
const directPurchase = {
  type: literal('DirectPurchase'), ...common,
  seller: email(),
  /** The buyer's meter, which receives the credit. */
  meter: meterId(),
  energyMWh: energyMWh(),
  amountMicroHec: amountMicroHec(),
  /** How long the credit stays valid after the block that includes this (ms). */
  durationMs: int(1_000, 86_400_000),
};

// Standing orders: sign once, trade every period.
const standingOrder = {
  type: literal('StandingOrder'), ...common,
  side: oneOf(['sell', 'buy'] as const),
  meter: meterId(),
  /** Most energy per period: the cap on surplus offered, or on energy bought. */
  energyMWh: energyMWh(),
  /** Reserve price for sell orders, highest bid for buy orders. */
  priceMicroHecPerKWh: priceMicroHecPerKWh(),
  validUntil: optional(timeMs()),
};
const revokeStandingOrder = {
  type: literal('RevokeStandingOrder'), ...common,
  order: txId(),
};

export const TX_SHAPES = {
  RegisterParticipant: object(registerParticipant),
  EnrollMeter: object(enrollMeter),
  RevokeMeter: object(revokeMeter),
  Transfer: object(transfer),
  Mint: object(mint),
  AcceptOfferBroadcast: object(acceptOfferBroadcast),
  PVOffer: object(pvOffer),
  BuyOffer: object(buyOffer),
  CancelOffer: object(cancelOffer),
  CloseBidding: object(closeBidding),
  Settle: object(settle),
  StorageDeposit: object(storageDeposit),
  StoragePurchase: object(storagePurchase),
  DirectPurchase: object(directPurchase),
  StandingOrder: object(standingOrder),
  RevokeStandingOrder: object(revokeStandingOrder),
  SetTariff: object(setTariff),
};

export type TxType = keyof typeof TX_SHAPES;
export const TX_TYPES = Object.keys(TX_SHAPES) as TxType[];
export const TxBody = tagged(TX_SHAPES);
export type TxBody = Infer<typeof TxBody>;
export type TxOf<K extends TxType> = Infer<(typeof TX_SHAPES)[K]>;

/** Transactions only an authority may sign. */
export const AUTHORITY_TX: ReadonlySet<TxType> = new Set<TxType>([
  'RegisterParticipant', 'EnrollMeter', 'RevokeMeter', 'Mint', 'AcceptOfferBroadcast', 'CloseBidding', 'Settle', 'StorageDeposit', 'SetTariff',
]);

/** Largest accepted transaction envelope in bytes; Settle carries a row per meter and may be larger. */
export const MAX_TX_BYTES = 8 * 1024;
export const MAX_SETTLE_BYTES = 2 * 1024 * 1024;

export type MeteredEnergy = ObjectOf<typeof meteredEnergy.shape>;
