/**
 * A ledger without I/O for market rule tests: genesis state, households with
 * wallets and enrolled meters, and `apply(tx, t)` running applyTx as a block would
 * (one transaction per block, heights counting up). The paper's households and the
 * example book's (docs/market.md §2.2).
 */
import type { ExecutionContext } from 'ava';
import { generateKeyPair, isHeliosError, type Genesis, type KeyPair, type SignedTx } from '../../../protocol/index.ts';
import { txId } from '../../../gateway/ledger/block.ts';
import { keys, type ListingEntry, type OfferEntry, type ParticipantEntry, type StorageEntry, type SupplyEntry, type UtilityEntry } from '../../../gateway/ledger/entities.ts';
import { genesisState } from '../../../gateway/ledger/genesis.ts';
import { applyTx, type TxEvent } from '../../../gateway/ledger/rules/index.ts';
import { signTx, type TxFields } from '../../../gateway/ledger/sign.ts';
import { Draft, type State } from '../../../gateway/ledger/state.ts';
import { makeGrid, testEntropy, type Household } from '../../helpers/grid.ts';

export const HEC = 1_000_000;
export const KWH = 1_000_000;
/** 2026-03-21T12:00Z: the paper's example day; its 13:00 listing opens at 12:01. */
export const NOON = Date.UTC(2026, 2, 21, 12, 0);
export const HOUR = 3_600_000;
export const L13 = '2026-03-21T13:00Z';
export const L14 = '2026-03-21T14:00Z';

export interface WorldOptions {
  clearing?: Genesis['clearing'];
  storage?: Partial<Genesis['storage']>;
  households?: Array<{ name: string; role: 'prosumer' | 'consumer'; hec?: number }>;
  priceCapMicroHecPerKWh?: number;
  seed?: number;
  /** The grid connection (docs/market.md §9); absent: a grid from before it. */
  utility?: Genesis['utility'];
}

export const EXAMPLE_HOUSEHOLDS = [
  { name: 'Bilal', role: 'prosumer' as const, hec: 10 },
  { name: 'Zarak', role: 'prosumer' as const, hec: 10 },
  { name: 'Chen', role: 'prosumer' as const, hec: 10 },
  { name: 'Asad', role: 'consumer' as const, hec: 10 },
  { name: 'Dana', role: 'consumer' as const, hec: 10 },
  { name: 'Eve', role: 'consumer' as const, hec: 10 },
];

export class World {
  readonly genesis: Genesis;
  readonly state: State;
  readonly authority: KeyPair;
  readonly people = new Map<string, Household & { meter: KeyPair }>();
  height = 0;
  private authNonce = 0;

  constructor(o: WorldOptions = {}) {
    const hh = (o.households ?? EXAMPLE_HOUSEHOLDS).map((h) => ({ name: h.name, email: `${h.name.toLowerCase()}@example.org`, role: h.role, allocationMicroHec: Math.round((h.hec ?? 10) * HEC) }));
    const grid = makeGrid({ households: hh, seed: o.seed ?? 2000, t0: NOON - HOUR });
    this.genesis = {
      ...grid.genesis,
      clearing: o.clearing ?? 'pay-as-bid',
      priceCapMicroHecPerKWh: o.priceCapMicroHecPerKWh ?? grid.genesis.priceCapMicroHecPerKWh,
      storage: { capacityMWh: 10 * KWH, buyPriceMicroHecPerKWh: 80_000, sellPriceMicroHecPerKWh: 250_000, ...o.storage },
      ...(o.utility ? { utility: o.utility } : {}),
    };
    this.authority = grid.authorities[0];
    this.state = genesisState(this.genesis);
    grid.households.forEach((h, i) => {
      const meter = generateKeyPair(testEntropy((o.seed ?? 2000) + 500 + i));
      this.people.set(h.name, { ...h, meter });
      this.apply(this.auth({ type: 'EnrollMeter', meter: meter.keyId, publicKey: meter.publicKey, participant: h.email, installer: 'Ines', location: 'roof', pulsesPerKWh: 1000, relay: true }), NOON - HOUR + 1000);
    });
  }

  who(name: string) {
    const p = this.people.get(name);
    if (!p) throw new Error(`no household ${name}`);
    return p;
  }

  email(name: string): string {
    return this.who(name).email;
  }

  meter(name: string): string {
    return this.who(name).meter.keyId;
  }

  /** An authority transaction (next nonce), signed at t (by default before any block: signing time only has to not be ahead). */
  auth(fields: TxFields, t = NOON - HOUR): SignedTx {
    this.authNonce++;
    return signed(fields, this.authority, this.genesis.grid, this.authNonce, t);
  }

  /** A household's transaction (next nonce). */
  tx(name: string, fields: TxFields, t = NOON - HOUR): SignedTx {
    const h = this.who(name);
    h.nonce++;
    return signed(fields, h.key, this.genesis.grid, h.nonce, t);
  }

  /** Apply as the only transaction of the next block, at block time t. */
  apply(tx: SignedTx, t: number): TxEvent[] {
    const d = new Draft(this.state);
    const height = this.height + 1;
    const events = applyTx(d, tx, { genesis: this.genesis, height, blockTime: t, txId: txId(tx), seq: height * 100_000 });
    this.state.apply(d.changes);
    this.height = height;
    return events;
  }

  /**
   * Expect a refusal with `code`, and that nothing changed (state root); the
   * signer's nonce is handed back so the next transaction uses it.
   */
  refused(t: ExecutionContext, tx: SignedTx, at: number, code: string, message?: RegExp): void {
    const before = this.state.root();
    const err = t.throws(() => this.apply(tx, at));
    t.true(isHeliosError(err), String(err));
    t.is((err as unknown as { code: string }).code, code, err?.message);
    if (message) t.regex(err!.message, message);
    t.is(this.state.root(), before, `${code} must leave the state unchanged`);
    const signer = tx.body.signer;
    if (signer === this.authority.keyId) this.authNonce--;
    else for (const h of this.people.values()) if (h.key.keyId === signer) h.nonce--;
  }

  participant(name: string): ParticipantEntry {
    return this.state.get<ParticipantEntry>(keys.participant(this.email(name)))!;
  }

  balance(name: string): number {
    return this.participant(name).balanceMicroHec;
  }

  escrow(name: string): number {
    return this.participant(name).escrowMicroHec;
  }

  listing(id: string): ListingEntry | undefined {
    return this.state.get<ListingEntry>(keys.listing(id));
  }

  offer(id: string): OfferEntry | undefined {
    return this.state.get<OfferEntry>(keys.offer(id));
  }

  utility(): UtilityEntry | undefined {
    return this.state.get<UtilityEntry>(keys.utility);
  }

  storage(): StorageEntry | undefined {
    return this.state.get<StorageEntry>(keys.storage);
  }

  /** Σ (balance + escrow) + storage fund + utility account, and the minted supply: equal, always. */
  tokens(): { held: number; minted: number; negative: boolean } {
    let held = 0;
    let negative = false;
    for (const [, p] of this.state.entries<ParticipantEntry>('participant/')) {
      held += p.balanceMicroHec + p.escrowMicroHec;
      if (p.balanceMicroHec < 0 || p.escrowMicroHec < 0) negative = true;
    }
    const s = this.storage();
    held += s?.fundMicroHec ?? 0;
    held += this.utility()?.balanceMicroHec ?? 0;
    if (s && (s.fundMicroHec < 0 || s.storedMWh < 0 || s.storedMWh > s.capacityMWh)) negative = true;
    return { held, minted: this.state.get<SupplyEntry>(keys.supply)!.mintedMicroHec, negative };
  }
}

function signed(fields: TxFields, key: KeyPair, grid: string, nonce: number, t: number): SignedTx {
  return signTx(fields, key, { grid, nonce, t });
}
