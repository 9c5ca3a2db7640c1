/**
 * Up-front checks on what the ledger hands the engine. The ledger has already
 * validated every transaction against its schema (protocol/messages); these checks
 * catch a ledger that passes the engine something no valid chain could hold, before
 * any result is computed, with the same stable codes (docs/protocol.md §9).
 */
import { fail } from '../../protocol/errors.ts';
import type { Order } from './types.ts';

/** docs/protocol.md §5: energyMWh of a PVOffer or BuyOffer. */
export const MAX_ORDER_MWH = 1_000_000_000;
/** docs/protocol.md §5: the schema limit on any price (the grid's lower cap is the ledger's E_PRICE_CAP). */
export const MAX_PRICE_MICRO_HEC_PER_KWH = 1_000_000_000_000;

export const MarketCodes = {
  WRONG_TYPE: 'E_WRONG_TYPE',
  NOT_INTEGER: 'E_NOT_INTEGER',
  OUT_OF_RANGE: 'E_OUT_OF_RANGE',
  BAD_FORMAT: 'E_BAD_FORMAT',
  /** The same order twice in a book (equal under the priority order, so the ranking would not be total). */
  DUPLICATE_TX: 'E_DUPLICATE_TX',
  /** A trade refers to an offer or bid that is not on the listing. */
  UNKNOWN_OFFER: 'E_UNKNOWN_OFFER',
  /** Settle's metered rows do not cover the meters that traded, or repeat one. */
  METERED_MISMATCH: 'E_METERED_MISMATCH',
  /** Trades, offers and escrow that contradict each other: the ledger state is corrupt. */
  STATE_MISMATCH: 'E_STATE_MISMATCH',
} as const;

export function checkInt(v: unknown, min: number, max: number, path: string): number {
  if (typeof v !== 'number') fail(MarketCodes.WRONG_TYPE, `${path} must be an integer ${min}…${max}, got ${v === null ? 'null' : typeof v}`, path);
  if (!Number.isInteger(v)) fail(MarketCodes.NOT_INTEGER, `${path} must be an integer in base units, got ${v}`, path);
  if (v < min || v > max) fail(MarketCodes.OUT_OF_RANGE, `${path} is ${v}; it must be between ${min} and ${max}`, path);
  return v;
}

export function checkString(v: unknown, path: string): string {
  if (typeof v !== 'string' || v.length === 0) fail(MarketCodes.WRONG_TYPE, `${path} must be a non-empty string, got ${JSON.stringify(v) ?? typeof v}`, path);
  return v;
}

export function checkArray(v: unknown, path: string): readonly unknown[] {
  if (!Array.isArray(v)) fail(MarketCodes.WRONG_TYPE, `${path} must be an array`, path);
  return v;
}

const at = (list: string, index: number) => `${list}[${index}]`;

/**
 * One PVOffer or BuyOffer, element `index` of `list` ("offers", 3). The id's hex
 * format is the transaction schema's business (protocol/messages/fields.ts txId);
 * here it only has to be a string, because checking a pattern on a million ids
 * costs more than the matching itself. The checks are inlined, and the error path
 * built only on failure, so a valid book of a million orders allocates nothing here.
 */
export function checkOrder(o: Order, list: string, index: number): void {
  if (typeof o !== 'object' || o === null) fail(MarketCodes.WRONG_TYPE, `${at(list, index)} must be an object`, at(list, index));
  if (typeof o.id !== 'string' || o.id.length === 0) checkString(o.id, `${at(list, index)}.id`);
  if (!isIntIn(o.seq, 0, Number.MAX_SAFE_INTEGER)) checkInt(o.seq, 0, Number.MAX_SAFE_INTEGER, `${at(list, index)}.seq`);
  if (typeof o.owner !== 'string' || o.owner.length === 0) checkString(o.owner, `${at(list, index)}.owner`);
  if (typeof o.meter !== 'string' || o.meter.length === 0) checkString(o.meter, `${at(list, index)}.meter`);
  if (!isIntIn(o.energyMWh, 1, MAX_ORDER_MWH)) checkInt(o.energyMWh, 1, MAX_ORDER_MWH, `${at(list, index)}.energyMWh`);
  if (!isIntIn(o.priceMicroHecPerKWh, 0, MAX_PRICE_MICRO_HEC_PER_KWH)) {
    checkInt(o.priceMicroHecPerKWh, 0, MAX_PRICE_MICRO_HEC_PER_KWH, `${at(list, index)}.priceMicroHecPerKWh`);
  }
}

function isIntIn(v: unknown, min: number, max: number): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

export function checkOrders(orders: readonly Order[], path: string): void {
  checkArray(orders, path);
  for (let i = 0; i < orders.length; i++) checkOrder(orders[i], path, i);
}
