/**
 * The market's transaction rules (docs/market.md §8), one file per idea: the
 * listing's lifecycle (listing.ts), offers and bids (offers.ts), settlement
 * (settle.ts), the community storage (storage.ts), direct purchase
 * (directPurchase.ts) and standing orders (standingOrders.ts).
 */
import type { TxType } from '../../../protocol/index.ts';
import type { Rule } from './context.ts';
import { directPurchase } from './directPurchase.ts';
import { acceptOfferBroadcast, closeBidding } from './listing.ts';
import { buyOffer, cancelOffer, pvOffer } from './offers.ts';
import { settleListing } from './settle.ts';
import { revokeStandingOrder, standingOrder } from './standingOrders.ts';
import { storageDeposit, storagePurchase } from './storage.ts';

export const marketRules: Partial<Record<TxType, Rule<never>>> = {
  AcceptOfferBroadcast: acceptOfferBroadcast,
  PVOffer: pvOffer,
  BuyOffer: buyOffer,
  CancelOffer: cancelOffer,
  CloseBidding: closeBidding,
  Settle: settleListing,
  StorageDeposit: storageDeposit,
  StoragePurchase: storagePurchase,
  DirectPurchase: directPurchase,
  StandingOrder: standingOrder,
  RevokeStandingOrder: revokeStandingOrder,
};
