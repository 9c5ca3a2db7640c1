/** A small grid for tests: genesis, authority keys, households with wallets. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, type Genesis, type KeyPair, type Role, type SignedTx } from '../../protocol/index.ts';
import { signTx, type TxFields } from '../../gateway/ledger/sign.ts';

let counter = 1;
/** Deterministic entropy for test keys (never for real keys). */
export function testEntropy(seed = counter++): (n: number) => Uint8Array {
  let x = (seed * 2654435761) >>> 0 || 1;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
      out[i] = x & 0xff;
    }
    return out;
  };
}

export interface Household {
  name: string;
  email: string;
  role: Role;
  key: KeyPair;
  nonce: number;
}

export interface TestGrid {
  genesis: Genesis;
  authorities: KeyPair[];
  households: Household[];
  /** Signs the next transaction of a household or authority, keeping its nonce. */
  tx(who: Household | KeyPair, fields: TxFields, t?: number): SignedTx;
  /** Take back the last nonce of `who` (after a transaction that was refused). */
  rewind(who: Household | KeyPair): void;
}

export function makeGrid(opts: {
  authorities?: number;
  households?: Array<{ name: string; email: string; role: Role; allocationMicroHec?: number }>;
  blockPeriodMs?: number;
  marketPeriodMs?: number;
  t0?: number;
  seed?: number;
  maxMintMicroHec?: number;
} = {}): TestGrid {
  const seed = opts.seed ?? 1000;
  const authorities = Array.from({ length: opts.authorities ?? 1 }, (_, i) => generateKeyPair(testEntropy(seed + i)));
  const hh = opts.households ?? [
    { name: 'Zarak', email: 'zarak@example.org', role: 'prosumer' as const, allocationMicroHec: 100_000_000 },
    { name: 'Asad', email: 'asad@example.org', role: 'consumer' as const, allocationMicroHec: 50_000_000 },
  ];
  const households: Household[] = hh.map((h, i) => ({ ...h, key: generateKeyPair(testEntropy(seed + 100 + i)), nonce: 0 }));
  const t0 = opts.t0 ?? Date.UTC(2026, 2, 21, 12, 0, 0);
  const genesis: Genesis = {
    type: 'Genesis',
    grid: 'test-grid',
    name: 'Test grid',
    t: t0,
    authorities: authorities.map((a, i) => ({ keyId: a.keyId, publicKey: a.publicKey, name: `authority-${i + 1}` })),
    blockPeriodMs: opts.blockPeriodMs ?? 5000,
    marketPeriodMs: opts.marketPeriodMs ?? 3_600_000,
    clearing: 'pay-as-clear',
    priceCapMicroHecPerKWh: 100_000_000_000,
    token: { symbol: 'HEC', decimals: 6 },
    storage: { capacityMWh: 50_000_000, buyPriceMicroHecPerKWh: 100_000, sellPriceMicroHecPerKWh: 300_000 },
    participants: households.map((h) => ({ name: h.name, email: h.email, role: h.role, publicKey: h.key.publicKey })),
    allocations: hh.filter((h) => (h.allocationMicroHec ?? 0) > 0).map((h) => ({ to: h.email, amountMicroHec: h.allocationMicroHec! })),
    ...(opts.maxMintMicroHec ? { maxMintMicroHec: opts.maxMintMicroHec } : {}),
  };
  const authNonces = new Map<string, number>();
  return {
    genesis,
    authorities,
    households,
    tx(who, fields, t = t0) {
      if ('key' in who) {
        who.nonce += 1;
        return signTx(fields, who.key, { grid: genesis.grid, nonce: who.nonce, t });
      }
      const n = (authNonces.get(who.keyId) ?? 0) + 1;
      authNonces.set(who.keyId, n);
      return signTx(fields, who, { grid: genesis.grid, nonce: n, t });
    },
    rewind(who) {
      if ('key' in who) who.nonce -= 1;
      else authNonces.set(who.keyId, (authNonces.get(who.keyId) ?? 1) - 1);
    },
  };
}

const tempDirs: string[] = [];
process.once('exit', () => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

/** A temporary directory removed when the test process ends. */
export function tempDir(prefix = 'helios-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}
