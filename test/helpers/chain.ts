/** Building real chains (SQLite file in a temp folder) for ledger tests. */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalize, generateKeyPair, signBody, type KeyPair } from '../../protocol/index.ts';
import { ChainStore } from '../../gateway/ledger/chainStore.ts';
import { Ledger } from '../../gateway/ledger/ledger.ts';
import { openDb, type DB } from '../../gateway/store/db.ts';
import { makeGrid, tempDir, testEntropy, type TestGrid } from './grid.ts';

export interface BuiltChain {
  dir: string;
  grid: TestGrid;
  db: DB;
  ledger: Ledger;
  /** Time of the last block. */
  t: number;
  meter: KeyPair;
  close(): void;
}

/** Insert signed readings as the metering pipeline would (uncommitted until the next block). */
export function insertReadings(db: DB, grid: TestGrid, meter: KeyPair, fromSeq: number, n: number, t: number): void {
  const ins = db.prepare(`INSERT INTO readings (envelope, received_at) VALUES (?, ?)`);
  for (let i = 0; i < n; i++) {
    const seq = fromSeq + i;
    const body = {
      type: 'Reading', grid: grid.genesis.grid, meter: meter.keyId, seq, t: t + i, importMWh: 1000 * seq, exportMWh: 10 * seq,
      powerW: 400, relay: 'open', creditMWh: 0, fw: 'test',
    };
    const env = signBody(body, meter.secretKey);
    ins.run(canonicalize(env), t);
  }
}

/**
 * A data directory with genesis.json and ledger.sqlite holding `blocks` blocks:
 * registrations, a meter, mints, transfers and some readings in every block.
 */
export function buildChain(opts: { blocks?: number; transfersPerBlock?: number; readingsPerBlock?: number; grid?: TestGrid; dir?: string } = {}): BuiltChain {
  const grid = opts.grid ?? makeGrid({ blockPeriodMs: 1000 });
  const dir = opts.dir ?? tempDir('helios-chain-');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'genesis.json'), JSON.stringify(grid.genesis, null, 2));
  const db = openDb(join(dir, 'ledger.sqlite'));
  const ledger = new Ledger(new ChainStore(db), grid.genesis);
  const auth = grid.authorities[0];
  const [zarak, asad] = grid.households;
  const meter = generateKeyPair(testEntropy(777));
  let t = grid.genesis.t + 1000;
  let seq = 1;
  const next = () => {
    // Move to this authority's next slot.
    do { t += grid.genesis.blockPeriodMs; } while (!ledger.canProduce(auth.keyId, t));
  };
  ledger.submit(grid.tx(auth, { type: 'EnrollMeter', meter: meter.keyId, publicKey: meter.publicKey, participant: zarak.email, installer: 'Ines Installer', location: 'roof', pulsesPerKWh: 1000, relay: true }, t), t);
  ledger.submit(grid.tx(auth, { type: 'Mint', to: asad.email, amountMicroHec: 1_000_000_000 }, t), t);
  next();
  ledger.produce(auth, t);
  for (let b = 2; b <= (opts.blocks ?? 6); b++) {
    for (let i = 0; i < (opts.transfersPerBlock ?? 3); i++) {
      const from = i % 2 === 0 ? asad : zarak;
      const to = from === asad ? zarak : asad;
      ledger.submit(grid.tx(from, { type: 'Transfer', to: to.email, amountMicroHec: 1000 + b * 10 + i }, t), t);
    }
    insertReadings(db, grid, meter, seq, opts.readingsPerBlock ?? 2, t);
    seq += opts.readingsPerBlock ?? 2;
    next();
    ledger.produce(auth, t);
  }
  return { dir, grid, db, ledger, t, meter, close: () => db.close() };
}
