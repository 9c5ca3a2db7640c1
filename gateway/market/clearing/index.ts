/** clear(): what CloseBidding calls, with the grid's mechanism from genesis (`clearing`). */
import { fail } from '../../../protocol/errors.ts';
import { MECHANISMS, type BuyOffer, type ClearingResult, type Mechanism, type PVOffer } from '../types.ts';
import { MarketCodes } from '../validate.ts';
import { clearPayAsBid } from './payAsBid.ts';
import { clearPayAsClear } from './payAsClear.ts';
import { clearSeed } from './seed.ts';

export { clearPayAsBid } from './payAsBid.ts';
export { clearPayAsClear } from './payAsClear.ts';
export { clearSeed } from './seed.ts';
export { byPriceHighToLow, byPriceLowToHigh, bySubmission, ranked, type Comparator } from './priority.ts';
export { welfarePicoHec } from './welfare.ts';

const mechanisms: Record<Mechanism, (offers: readonly PVOffer[], bids: readonly BuyOffer[]) => ClearingResult> = {
  seed: clearSeed,
  'pay-as-bid': clearPayAsBid,
  'pay-as-clear': clearPayAsClear,
};

/**
 * Clears a kWhListing: a pure function of the book. The same offers and bids give
 * the same result whatever order the arrays come in (ranking is by price, seq, id).
 * Throws a HeliosError (E_WRONG_TYPE, E_NOT_INTEGER, E_OUT_OF_RANGE, E_DUPLICATE_TX,
 * E_BAD_FORMAT) on input no valid ledger could produce, before computing anything.
 */
export function clear(mechanism: Mechanism, offers: readonly PVOffer[], bids: readonly BuyOffer[]): ClearingResult {
  const run = Object.hasOwn(mechanisms, mechanism) ? mechanisms[mechanism] : undefined;
  if (!run) fail(MarketCodes.BAD_FORMAT, `clearing mechanism ${JSON.stringify(mechanism)} is not one of ${MECHANISMS.join(', ')}`, 'mechanism');
  return run(offers, bids);
}
