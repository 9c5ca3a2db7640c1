/**
 * What the gateway broadcasts about the market (docs/protocol.md, "Market topics").
 * These are not signed — the ledger is the record; these are the news.
 */
import { array, int, literal, object, oneOf, optional, type ObjectOf } from '../schema.ts';
import { email, gridId, hash, listingId, MAX_SAFE, meterId, text, timeMs, txId } from './fields.ts';

export const LISTING_STATES = ['ACCEPT_OFFERS', 'AUCTION_CLOSED', 'DELIVERING', 'SETTLED'] as const;
export type ListingState = (typeof LISTING_STATES)[number];

const listingShape = {
  type: literal('Listing'),
  grid: gridId(),
  id: listingId(),
  state: oneOf(LISTING_STATES),
  deliveryStart: timeMs(),
  deliveryEnd: timeMs(),
  /** When bidding closes (the paper: 12:59 for 13:00–14:00). */
  closesAt: timeMs(),
  offers: int(0, MAX_SAFE),
  bids: int(0, MAX_SAFE),
  offeredMWh: int(0, MAX_SAFE),
  bidMWh: int(0, MAX_SAFE),
  tradedMWh: optional(int(0, MAX_SAFE)),
  clearingPriceMicroHecPerKWh: optional(int(0, MAX_SAFE)),
};
export const ListingMessage = object(listingShape);
export type ListingMessage = ObjectOf<typeof listingShape>;

const trade = object({
  seller: email(),
  buyer: email(),
  sellerMeter: meterId(),
  buyerMeter: meterId(),
  energyMWh: int(1, MAX_SAFE),
  priceMicroHecPerKWh: int(0, MAX_SAFE),
  paymentMicroHec: int(0, MAX_SAFE),
});
export type TradeMessage = ObjectOf<typeof trade.shape>;

const tradesShape = {
  type: literal('Trades'),
  grid: gridId(),
  listing: listingId(),
  trades: array(trade, { max: 1_000_000 }),
};
export const TradesMessage = object(tradesShape);
export type TradesMessage = ObjectOf<typeof tradesShape>;

const storageShape = {
  type: literal('Storage'),
  grid: gridId(),
  capacityMWh: int(0, MAX_SAFE),
  storedMWh: int(0, MAX_SAFE),
  buyPriceMicroHecPerKWh: int(0, MAX_SAFE),
  sellPriceMicroHecPerKWh: int(0, MAX_SAFE),
  t: timeMs(),
};
export const StorageMessage = object(storageShape);
export type StorageMessage = ObjectOf<typeof storageShape>;

const txResultShape = {
  type: literal('TxResult'),
  tx: txId(),
  status: oneOf(['pending', 'committed', 'rejected'] as const),
  height: optional(int(1, MAX_SAFE)),
  block: optional(hash()),
  code: optional(text(40)),
  message: optional(text(400)),
};
export const TxResultMessage = object(txResultShape);
export type TxResultMessage = ObjectOf<typeof txResultShape>;
