/**
 * Blocks and the genesis file (docs/protocol.md, "Chain"). A block header commits
 * to its transactions (txRoot), to the meter readings accepted with it
 * (readingsRoot: the readings stay in their own table) and to the state after it
 * (stateRoot). The block hash is SHA-256 of the header's RFC 8785 bytes, and the
 * author's signature covers those same bytes.
 */
import { array, int, literal, object, oneOf, optional, type ObjectOf } from '../schema.ts';
import { amountMicroHec, email, energyMWh, gridId, hash, keyId, MAX_SAFE, name, priceMicroHecPerKWh, publicKey, signature, timeMs } from './fields.ts';
import { GRID_MODES, ROLES, Tariff, TxBody } from './transactions.ts';

const headerShape = {
  type: literal('BlockHeader'),
  grid: gridId(),
  height: int(1, MAX_SAFE),
  /** Hash of the previous block's header; the genesis hash for height 1. */
  parent: hash(),
  /** Aura slot: floor(t / blockPeriodMs). The author must be authorities[slot mod n]. */
  slot: int(0, MAX_SAFE),
  t: timeMs(),
  author: keyId(),
  txRoot: hash(),
  txCount: int(0, 100_000),
  readingsRoot: hash(),
  readingsCount: int(0, 10_000_000),
  stateRoot: hash(),
};
export const BlockHeader = object(headerShape);
export type BlockHeader = ObjectOf<typeof headerShape>;

export const SignedTx = object({ body: TxBody, sig: signature() });
export type SignedTx = { body: TxBody; sig: string };

const blockShape = {
  header: BlockHeader,
  sig: signature(),
  txs: array(SignedTx, { max: 100_000 }),
};
export const BlockMessage = object(blockShape);
export type BlockMessage = ObjectOf<typeof blockShape>;

export const CLEARING_MECHANISMS = ['seed', 'pay-as-bid', 'pay-as-clear'] as const;
export type ClearingMechanism = (typeof CLEARING_MECHANISMS)[number];

const authority = object({ keyId: keyId(), publicKey: publicKey(), name: name(80) });
const genesisParticipant = object({ name: name(80), email: email(), role: oneOf(ROLES), publicKey: publicKey() });
const allocation = object({ to: email(), amountMicroHec: amountMicroHec() });

const genesisShape = {
  type: literal('Genesis'),
  /** The grid id is the chain id: it is in every topic, transaction and header. */
  grid: gridId(),
  name: name(80),
  t: timeMs(),
  authorities: array(authority, { min: 1, max: 64 }),
  blockPeriodMs: int(100, 3_600_000),
  /** Length of one delivery period (the paper: one hour). */
  marketPeriodMs: int(1_000, 86_400_000),
  clearing: oneOf(CLEARING_MECHANISMS),
  /** Highest price any offer or bid may name. */
  priceCapMicroHecPerKWh: priceMicroHecPerKWh(),
  token: object({ symbol: literal('HEC'), decimals: int(6, 6) }),
  storage: object({
    capacityMWh: int(0, MAX_SAFE),
    /** What a prosumer is paid for energy exported into storage. */
    buyPriceMicroHecPerKWh: priceMicroHecPerKWh(),
    /** What a consumer pays to draw from storage. */
    sellPriceMicroHecPerKWh: priceMicroHecPerKWh(),
  }),
  participants: array(genesisParticipant, { max: 10_000 }),
  allocations: array(allocation, { max: 10_000 }),
  /** Largest single Mint, so a stolen authority key cannot print without bound in one go. */
  maxMintMicroHec: optional(amountMicroHec()),
  /** Largest energy one DirectPurchase may buy. */
  maxDirectPurchaseMWh: optional(energyMWh()),
  /**
   * The utility connection (docs/market.md §9). Absent: islanded with no tariff —
   * every chain made before the grid connection existed keeps its genesis hash.
   */
  utility: optional(object({
    mode: oneOf(GRID_MODES),
    tariff: Tariff,
    /** On-grid: most energy per meter and period the utility supplies on credit (the prepaid allowance). */
    allowanceMWh: energyMWh(),
  })),
};
export const Genesis = object(genesisShape);
export type Genesis = ObjectOf<typeof genesisShape>;
export type GenesisAuthority = ObjectOf<typeof authority.shape>;

const chainHeadShape = {
  header: BlockHeader,
  sig: signature(),
  hash: hash(),
};
export const ChainHead = object(chainHeadShape);
export type ChainHead = ObjectOf<typeof chainHeadShape>;
