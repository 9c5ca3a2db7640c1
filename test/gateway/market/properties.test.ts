/**
 * Market properties at ledger level, on random books and random metered delivery,
 * through a real Ledger on a real SQLite file with signed readings committed to
 * blocks: tokens are conserved after every block (balances + escrow + storage fund
 * = minted) and nothing goes negative; energy is conserved (no offer or bid
 * over-filled, delivered = min(export, sold) per seller meter, the storage never
 * above its capacity and holding exactly what went in minus what was sold); every
 * trade is priced within [reserve, bid]; escrow is released to the last µHEC; and
 * `verifyChain` replays the chain to the same state, Settle's metered figures
 * included. (Pay-as-clear's welfare against brute force is the engine's test,
 * clearing.test.ts.)
 */
import test from 'ava';
import fc from 'fast-check';
import { join } from 'node:path';
import { canonicalize, generateKeyPair, isHeliosError, signBody, type KeyPair, type SignedTx } from '../../../protocol/index.ts';
import { ChainStore } from '../../../gateway/ledger/chainStore.ts';
import { keys, type ListingEntry, type OfferEntry, type ParticipantEntry, type SettlementEntry, type StorageEntry, type TradesEntry } from '../../../gateway/ledger/entities.ts';
import { Ledger } from '../../../gateway/ledger/ledger.ts';
import { tokenTotals, verifyChain } from '../../../gateway/ledger/verify.ts';
import { CommittedReadings } from '../../../gateway/market/metered.ts';
import { MECHANISMS } from '../../../gateway/market/index.ts';
import { openDb } from '../../../gateway/store/db.ts';
import { makeGrid, tempDir, testEntropy, type Household } from '../../helpers/grid.ts';

const KWH = 1_000_000;
const HOUR = 3_600_000;
const MIN = 60_000;

const scenario = fc.record({
  mechanism: fc.constantFrom(...MECHANISMS),
  capacityMWh: fc.integer({ min: 0, max: 4 * KWH }),
  fundMicroHec: fc.integer({ min: 0, max: 500_000 }),
  /** who < 3: a prosumer's PVOffer (price = reserve); otherwise a consumer's BuyOffer (price = bid). */
  orders: fc.array(fc.record({ who: fc.nat(5), energyMWh: fc.integer({ min: 1, max: 2 * KWH }), price: fc.integer({ min: 0, max: 600_000 }) }), { minLength: 1, maxLength: 12 }),
  cancels: fc.array(fc.nat(40), { maxLength: 3 }),
  /** Each seller meter exports this % of what it sold (plus a little when it sold nothing). */
  exportPct: fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 3, maxLength: 3 }),
  importMWh: fc.array(fc.integer({ min: 0, max: 3 * KWH }), { minLength: 6, maxLength: 6 }),
  purchases: fc.array(fc.record({ who: fc.nat(5), energyMWh: fc.integer({ min: 1, max: KWH }) }), { maxLength: 3 }),
});

test('random books and deliveries conserve tokens and energy, fill no offer twice, price within [reserve, bid], and replay to the same state', async (t) => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(scenario, async (sc) => {
      run++;
      const hh = [
        ...['Bilal', 'Zarak', 'Chen'].map((n) => ({ name: n, email: `${n.toLowerCase()}@example.org`, role: 'prosumer' as const, allocationMicroHec: 2_000_000 })),
        ...['Asad', 'Dana', 'Eve'].map((n) => ({ name: n, email: `${n.toLowerCase()}@example.org`, role: 'consumer' as const, allocationMicroHec: 2_000_000 })),
      ];
      const S = Date.UTC(2026, 2, 21, 13);
      const grid = makeGrid({ households: hh, blockPeriodMs: 1000, seed: 7000 + run * 13, t0: S - 2 * HOUR });
      const genesis = { ...grid.genesis, clearing: sc.mechanism, storage: { capacityMWh: sc.capacityMWh, buyPriceMicroHecPerKWh: 80_000, sellPriceMicroHecPerKWh: 250_000 } };
      const dir = tempDir('helios-market-prop-');
      const db = openDb(join(dir, 'ledger.sqlite'));
      const ledger = new Ledger(new ChainStore(db), genesis);
      const auth = grid.authorities[0];
      const people: Household[] = grid.households;
      const meters: KeyPair[] = people.map((_, i) => generateKeyPair(testEntropy(40_000 + run * 10 + i)));
      const problems: string[] = [];
      const check = (ok: boolean, what: string) => { if (!ok) problems.push(what); };
      const produce = (at: number) => {
        if (!ledger.hasWork()) return;
        // One block per slot: a later step never reuses an earlier block's slot.
        ledger.produce(auth, Math.max(at, ledger.tip.t + genesis.blockPeriodMs));
        const tk = tokenTotals(ledger.state);
        check(tk.heldMicroHec === tk.mintedMicroHec, `block ${ledger.tip.height}: held ${tk.heldMicroHec} ≠ minted ${tk.mintedMicroHec}`);
        for (const [, p] of ledger.state.entries<ParticipantEntry>('participant/')) check(p.balanceMicroHec >= 0 && p.escrowMicroHec >= 0, `${p.email} negative`);
        const st = ledger.state.get<StorageEntry>(keys.storage);
        if (st) check(st.fundMicroHec >= 0 && st.storedMWh >= 0 && st.storedMWh <= st.capacityMWh, `storage out of bounds ${JSON.stringify(st)}`);
      };
      const submit = (who: Household | KeyPair, fields: Parameters<typeof grid.tx>[1], at: number): string | undefined => {
        const tx: SignedTx = grid.tx(who, fields, at - MIN);
        try {
          return ledger.submit(tx, at);
        } catch (e) {
          if (!isHeliosError(e)) throw e;
          grid.rewind(who);
          return undefined;
        }
      };
      let seq = 0;
      const reading = (i: number, tMs: number, importMWh: number, exportMWh: number) => {
        seq++;
        const body = { type: 'Reading', grid: genesis.grid, meter: meters[i].keyId, seq, t: tMs, importMWh, exportMWh, powerW: 0, relay: 'open', creditMWh: 0, fw: 'test' };
        db.prepare(`INSERT INTO readings (envelope, received_at) VALUES (?, ?)`).run(canonicalize(signBody(body, meters[i].secretKey)), tMs);
      };
      try {
        // 11:00: meters enrolled, the storage funded.
        people.forEach((h, i) => submit(auth, { type: 'EnrollMeter', meter: meters[i].keyId, publicKey: meters[i].publicKey, participant: h.email, installer: 'I', location: 'x', pulsesPerKWh: 1000, relay: true }, S - 2 * HOUR + 1000));
        if (sc.fundMicroHec > 0) submit(auth, { type: 'Mint', to: 'storage', amountMicroHec: sc.fundMicroHec }, S - 2 * HOUR + 1000);
        produce(S - 2 * HOUR + 2000);
        const L = '2026-03-21T13:00Z';
        submit(auth, { type: 'AcceptOfferBroadcast', listing: L }, S - HOUR + MIN);
        produce(S - HOUR + MIN + 1000);
        // 12:10: the book, one order per block so submission order is block order.
        const posted: string[] = [];
        sc.orders.forEach((o, k) => {
          const at = S - 50 * MIN + k * 1000;
          const h = people[o.who];
          const id = o.who < 3
            ? submit(h, { type: 'PVOffer', listing: L, meter: meters[o.who].keyId, energyMWh: o.energyMWh, reservePriceMicroHecPerKWh: o.price }, at)
            : submit(h, { type: 'BuyOffer', listing: L, meter: meters[o.who].keyId, energyMWh: o.energyMWh, bidPriceMicroHecPerKWh: o.price }, at);
          if (id) posted.push(id);
          produce(at + 500);
        });
        sc.cancels.forEach((c, k) => {
          if (!posted.length) return;
          const o = ledger.state.get<OfferEntry>(keys.offer(posted[c % posted.length]))!;
          const h = people.find((p) => p.email === o.owner)!;
          submit(h, { type: 'CancelOffer', listing: L, offer: o.id }, S - 30 * MIN + k * 1000);
          produce(S - 30 * MIN + k * 1000 + 500);
        });
        // Escrow held = Σ open bids' escrow, per household.
        for (const h of people) {
          const open = posted.map((id) => ledger.state.get<OfferEntry>(keys.offer(id))!).filter((o) => o.owner === h.email && o.side === 'buy' && o.status === 'open');
          check(ledger.state.get<ParticipantEntry>(keys.participant(h.email))!.escrowMicroHec === open.reduce((s, o) => s + (o.escrowMicroHec ?? 0), 0), `${h.email} escrow ≠ its open bids`);
        }
        // 12:59: clear.
        submit(auth, { type: 'CloseBidding', listing: L }, S - MIN);
        produce(S - MIN + 500);
        const trades = ledger.state.get<TradesEntry>(keys.trades(L))?.trades ?? [];
        const offers = new Map(posted.map((id) => [id, ledger.state.get<OfferEntry>(keys.offer(id))!]));
        const filled = new Map<string, number>();
        for (const tr of trades) {
          const o = offers.get(tr.offer)!;
          const b = offers.get(tr.bid)!;
          check(o.status === 'open' && b.status === 'open', 'a cancelled offer traded');
          check(tr.priceMicroHecPerKWh >= o.priceMicroHecPerKWh && tr.priceMicroHecPerKWh <= b.priceMicroHecPerKWh, `price ${tr.priceMicroHecPerKWh} outside [${o.priceMicroHecPerKWh}, ${b.priceMicroHecPerKWh}]`);
          filled.set(o.id, (filled.get(o.id) ?? 0) + tr.energyMWh);
          filled.set(b.id, (filled.get(b.id) ?? 0) + tr.energyMWh);
        }
        for (const [id, f] of filled) check(f <= offers.get(id)!.energyMWh, `offer ${id} over-filled: ${f} > ${offers.get(id)!.energyMWh}`);
        // 13:00–14:00 metered: signed readings committed by a block, then Settle from them.
        const sold = [0, 1, 2].map((i) => trades.filter((tr) => tr.sellerMeter === meters[i].keyId).reduce((s, tr) => s + tr.energyMWh, 0));
        const exported = [0, 1, 2].map((i) => Math.floor((sold[i] * sc.exportPct[i]) / 100) + (sold[i] === 0 ? sc.exportPct[i] * 10 : 0));
        people.forEach((_, i) => {
          reading(i, S - 30_000, 5_000, 7_000);
          reading(i, S + HOUR - 30_000, 5_000 + sc.importMWh[i], 7_000 + (i < 3 ? exported[i] : 0));
          reading(i, S + HOUR + 5_000, 5_000 + sc.importMWh[i], 7_000 + (i < 3 ? exported[i] : 0));
        });
        produce(S + HOUR + 10_000);
        const readings = new CommittedReadings(db);
        const listing = ledger.state.get<ListingEntry>(keys.listing(L))!;
        const concerned = new Set([...trades.map((tr) => tr.buyerMeter), ...[...offers.values()].filter((o) => o.side === 'sell' && o.status === 'open').map((o) => o.meter)]);
        const metered = [...concerned].sort().map((m) => {
          const e = readings.energy(m, listing.deliveryStart, listing.deliveryEnd, ledger.tip.height);
          return { meter: m, importMWh: e.importMWh, exportMWh: e.exportMWh };
        });
        const storedBefore = ledger.state.get<StorageEntry>(keys.storage)?.storedMWh ?? 0;
        check(submit(auth, { type: 'Settle', listing: L, metered, readingsHeight: ledger.tip.height }, S + HOUR + 20_000) !== undefined, 'Settle refused');
        produce(S + HOUR + 21_000);
        const s = ledger.state.get<SettlementEntry>(keys.settlement(L))!;
        check(s !== undefined, 'not settled');
        for (const seller of s.sellers as Array<{ meter: string; soldMWh: number; exportMWh: number; deliveredMWh: number }>) {
          check(seller.deliveredMWh === Math.min(seller.exportMWh, seller.soldMWh), `delivered ≠ min(export, sold) for ${seller.meter}`);
        }
        const bids = s.bids as Array<{ escrowMicroHec: number; paidMicroHec: number; refundMicroHec: number }>;
        for (const b of bids) check(b.escrowMicroHec === b.paidMicroHec + b.refundMicroHec, 'escrow ≠ paid + refund');
        for (const h of people) check(ledger.state.get<ParticipantEntry>(keys.participant(h.email))!.escrowMicroHec === 0, `${h.email} still holds escrow after Settle`);
        // Storage: purchases never sell more than it holds; it holds exactly what went in minus what was sold.
        let bought = 0;
        sc.purchases.forEach((p, k) => {
          if (submit(people[p.who], { type: 'StoragePurchase', meter: meters[p.who].keyId, energyMWh: p.energyMWh, maxPriceMicroHecPerKWh: 250_000 }, S + HOUR + 30_000 + k * 1000)) bought += p.energyMWh;
          produce(S + HOUR + 30_500 + k * 1000);
        });
        const st = ledger.state.get<StorageEntry>(keys.storage);
        check((st?.storedMWh ?? 0) === storedBefore + s.storage.depositedMWh - bought, 'storage energy not conserved');
        const report = await verifyChain(ledger.store, genesis);
        check(report.ok, `verify: ${JSON.stringify(report.fault)}`);
      } finally {
        db.close();
      }
      if (problems.length) throw new Error(problems.join('\n'));
      return true;
    }),
    { numRuns: 40 },
  );
  t.pass();
});
