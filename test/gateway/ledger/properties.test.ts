/**
 * Properties of the ledger under random transaction streams, on a real SQLite file:
 * tokens are conserved (balances + escrow + the storage fund = minted), no balance goes negative, a
 * replayed transaction is refused, and replaying the stored chain from genesis gives
 * the same state root.
 */
import test from 'ava';
import fc from 'fast-check';
import { join } from 'node:path';
import { generateKeyPair, isHeliosError, type SignedTx } from '../../../protocol/index.ts';
import { ChainStore } from '../../../gateway/ledger/chainStore.ts';
import { Ledger } from '../../../gateway/ledger/ledger.ts';
import { verifyChain } from '../../../gateway/ledger/verify.ts';
import type { ParticipantEntry, StorageEntry, SupplyEntry } from '../../../gateway/ledger/entities.ts';
import { openDb } from '../../../gateway/store/db.ts';
import { makeGrid, tempDir, testEntropy, type Household } from '../../helpers/grid.ts';

type Action =
  | { kind: 'register'; role: 'prosumer' | 'consumer' }
  | { kind: 'mint'; to: number; amount: number }
  | { kind: 'fundStorage'; amount: number }
  | { kind: 'transfer'; from: number; to: number; amount: number }
  | { kind: 'replay'; which: number }
  | { kind: 'block' };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('register' as const), role: fc.constantFrom('prosumer' as const, 'consumer' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('mint' as const), to: fc.nat(20), amount: fc.integer({ min: 1, max: 50_000_000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('fundStorage' as const), amount: fc.integer({ min: 1, max: 50_000_000 }) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('transfer' as const), from: fc.nat(20), to: fc.nat(20), amount: fc.integer({ min: 1, max: 80_000_000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('replay' as const), which: fc.nat(100) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('block' as const) }) },
);

function totals(ledger: Ledger) {
  let held = 0;
  let negative = 0;
  for (const [, p] of ledger.state.entries<ParticipantEntry>('participant/')) {
    held += p.balanceMicroHec + p.escrowMicroHec;
    if (p.balanceMicroHec < 0 || p.escrowMicroHec < 0) negative++;
  }
  // The community storage's fund (docs/market.md §5) is the one holder of tokens that is not a household.
  const fund = ledger.state.get<StorageEntry>('storage')?.fundMicroHec ?? 0;
  if (fund < 0) negative++;
  held += fund;
  return { held, negative, minted: ledger.state.get<SupplyEntry>('supply')!.mintedMicroHec };
}

test('random transaction streams conserve tokens, never go negative, refuse replays, and replay to the same root', async (t) => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(action, { minLength: 5, maxLength: 40 }), async (actions) => {
      run++;
      const grid = makeGrid({ blockPeriodMs: 1000, seed: 5000 + run * 10 });
      const dir = tempDir('helios-prop-');
      const db = openDb(join(dir, 'ledger.sqlite'));
      const ledger = new Ledger(new ChainStore(db), grid.genesis);
      const auth = grid.authorities[0];
      const people: Household[] = [...grid.households];
      const accepted: SignedTx[] = [];
      let t0 = grid.genesis.t + 1000;
      const produce = () => {
        do { t0 += grid.genesis.blockPeriodMs; } while (!ledger.canProduce(auth.keyId, t0));
        if (ledger.hasWork()) ledger.produce(auth, t0);
        const s = totals(ledger);
        if (s.held !== s.minted) throw new Error(`conservation broken: held ${s.held} ≠ minted ${s.minted}`);
        if (s.negative) throw new Error('a balance went negative');
      };
      const submit = (tx: SignedTx, who: Household | typeof auth) => {
        try {
          ledger.submit(tx, t0);
          accepted.push(tx);
        } catch (e) {
          if (!isHeliosError(e)) throw e;
          grid.rewind(who);
        }
      };
      for (const a of actions) {
        if (a.kind === 'register') {
          const key = generateKeyPair(testEntropy(900_000 + run * 100 + people.length));
          const email = `h${people.length}@example.org`;
          submit(grid.tx(auth, { type: 'RegisterParticipant', name: `House ${people.length}`, email, role: a.role, publicKey: key.publicKey }, t0), auth);
          people.push({ name: `House ${people.length}`, email, role: a.role, key, nonce: 0 });
        } else if (a.kind === 'mint') {
          submit(grid.tx(auth, { type: 'Mint', to: people[a.to % people.length].email, amountMicroHec: a.amount }, t0), auth);
        } else if (a.kind === 'fundStorage') {
          submit(grid.tx(auth, { type: 'Mint', to: 'storage', amountMicroHec: a.amount }, t0), auth);
        } else if (a.kind === 'transfer') {
          const from = people[a.from % people.length];
          const to = people[a.to % people.length];
          submit(grid.tx(from, { type: 'Transfer', to: to.email, amountMicroHec: a.amount }, t0), from);
        } else if (a.kind === 'replay' && accepted.length) {
          const tx = accepted[a.which % accepted.length];
          const before = ledger.state.root();
          let code = 'accepted';
          try { ledger.submit(tx, t0); } catch (e) { code = (e as { code: string }).code; }
          if (code !== 'E_DUPLICATE_TX' && code !== 'E_BAD_NONCE') throw new Error(`a replayed transaction was ${code}`);
          if (ledger.state.root() !== before) throw new Error('a refused replay changed the state');
        } else if (a.kind === 'block') {
          produce();
        }
      }
      produce();
      const report = await verifyChain(ledger.store, grid.genesis);
      db.close();
      if (!report.ok) throw new Error(`verify failed: ${JSON.stringify(report.fault)}`);
      return true;
    }),
    { numRuns: 25 },
  );
  t.pass();
});
