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
  /** All µHEC ever created (genesis allocations + Mint). Balances + escrow + storage fund = this. */
  mintedMicroHec: number;
}

export const keys = {
  participant: (email: string) => `participant/${email}`,
  key: (keyId: string) => `key/${keyId}`,
  authority: (keyId: string) => `authority/${keyId}`,
  meter: (meterId: string) => `meter/${meterId}`,
  supply: 'supply',
};
