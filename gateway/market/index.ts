/**
 * @module gateway/market — the market's rules as pure functions (docs/market.md).
 * CloseBidding calls clear(); Settle calls settle(). Plain data in, plain data out,
 * integers only, no clock and no I/O, so replaying the chain reproduces every result.
 */
export * from './types.ts';
export { clear, clearSeed, clearPayAsBid, clearPayAsClear, welfarePicoHec, byPriceHighToLow, byPriceLowToHigh, bySubmission, ranked, type Comparator } from './clearing/index.ts';
export { settle, type EscrowedBuyOffer, type MeteredEnergy, type StorageState, type SettlementInput, type Settlement, type TradeSettlement, type BidSettlement, type SellerMeterSettlement, type BuyerMeterSettlement, type Movement, type StorageSettlement, type Allowance, type UtilityInput, type UtilitySettlement, type UtilityMeterSettlement } from './settlement.ts';
export { allowance, checkTariff, scheduleAt, tariffAt, type TariffSchedule, type PeriodTariff, type TariffChange } from './tariff.ts';
export { apportion } from './apportion.ts';
export { MarketCodes, MAX_ORDER_MWH, MAX_PRICE_MICRO_HEC_PER_KWH } from './validate.ts';
