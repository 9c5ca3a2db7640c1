/**
 * bench/clearing — clearing 10k, 100k and 1M orders with each mechanism, beside the
 * time to just sort the same orders with the same comparators (measured in the same
 * run, interleaved), so the ratio says what clearing costs on top of the sort it
 * cannot avoid. Aim: clearing ≤ 3× the sort. A second reference adds to the sort the
 * allocation of as many plain objects as the result holds (one per trade and one per
 * order, same shapes): no clearing that returns this result can be faster, and on a
 * machine where fresh memory is slow this is what dominates. Then traded volume and
 * welfare of the three mechanisms on the same seeded books.
 *
 *   npm run bench -- clearing      (or: node --import=tsx bench/clearing.ts)
 *   npm run bench -- clearing --quick   (10k and 100k only)
 */
import { cpus } from 'node:os';
import {
  byPriceHighToLow, byPriceLowToHigh, bySubmission, clear, MECHANISMS, welfarePicoHec, type Comparator, type Mechanism, type Order,
} from '../gateway/market/index.ts';
import { fmt, table } from './lib/reference.ts';

const quick = process.argv.includes('--quick');

/**
 * A seeded book of n orders in submission order, each a PVOffer or BuyOffer with
 * equal odds: offers 0.1–5 kWh with reserves 0.05–0.30 HEC/kWh (one in five without
 * a reserve), bids 0.1–3 kWh at 0.08–0.40 HEC/kWh; prices on a 0.001 HEC grid, so
 * equal prices (ties) are common, as with real households.
 */
function book(n: number, seed: number): { offers: Order[]; bids: Order[] } {
  let s = seed >>> 0;
  const rnd = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const between = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const households = Math.max(4, n >> 2);
  const offers: Order[] = [];
  const bids: Order[] = [];
  for (let i = 0; i < n; i++) {
    const h = between(0, households - 1);
    const id = i.toString(16).padStart(64, '0');
    const owner = `h${h}@grid.example`;
    const meter = h.toString(16).padStart(32, '0');
    // One object literal with every field, as the ledger builds an order from a row
    // (objects grown by spreading read several times slower in V8, sort included).
    if (rnd() < 0.5) {
      const reserve = rnd() < 0.2 ? 0 : between(50, 300) * 1000;
      offers.push({ id, seq: i + 1, owner, meter, energyMWh: between(100, 5000) * 1000, priceMicroHecPerKWh: reserve });
    } else {
      bids.push({ id, seq: i + 1, owner, meter, energyMWh: between(100, 3000) * 1000, priceMicroHecPerKWh: between(80, 400) * 1000 });
    }
  }
  return { offers, bids };
}

/** The comparators each mechanism ranks offers and bids by (gateway/market/clearing/*.ts). */
const ranking: Record<Mechanism, { offers: Comparator; bids: Comparator }> = {
  seed: { offers: bySubmission, bids: byPriceHighToLow },
  'pay-as-bid': { offers: byPriceHighToLow, bids: byPriceHighToLow },
  'pay-as-clear': { offers: byPriceLowToHigh, bids: byPriceHighToLow },
};

function ms(fn: () => unknown): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Allocates what a ClearingResult holds — `trades` trade objects, a fill per order — and nothing else. */
function outputOnly(offers: readonly Order[], bids: readonly Order[], trades: number): unknown[] {
  const t: object[] = [];
  for (let k = 0; k < trades; k++) {
    const o = offers[k % offers.length];
    const b = bids[k % bids.length];
    t.push({ offer: o.id, bid: b.id, seller: o.owner, buyer: b.owner, sellerMeter: o.meter, buyerMeter: b.meter, energyMWh: k, priceMicroHecPerKWh: b.priceMicroHecPerKWh, paymentMicroHec: k });
  }
  const f: object[] = [];
  for (const o of offers) f.push({ id: o.id, soldMWh: o.energyMWh, unsoldMWh: 0 });
  const g: object[] = [];
  for (const b of bids) g.push({ id: b.id, boughtMWh: b.energyMWh, unboughtMWh: 0, escrowMicroHec: 1, paymentMicroHec: 1, unusedEscrowMicroHec: 0 });
  return [t, f, g];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

console.log(`bench/clearing — Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}\n`);

const sizes = quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000];
const rows: Array<Array<string | number>> = [];
for (const n of sizes) {
  const { offers, bids } = book(n, 42);
  const reps = n <= 10_000 ? 21 : n <= 100_000 ? 7 : 3;
  for (const m of MECHANISMS) {
    const { offers: byOffer, bids: byBid } = ranking[m];
    const sortOnly = () => [offers.slice().sort(byOffer), bids.slice().sort(byBid)];
    let trades = clear(m, offers, bids).trades.length; // warm up
    const sortAndOutput = () => [sortOnly(), outputOnly(offers, bids, trades)];
    sortAndOutput();
    const sortTimes: number[] = [];
    const floorTimes: number[] = [];
    const clearTimes: number[] = [];
    for (let r = 0; r < reps; r++) {
      sortTimes.push(ms(sortOnly));
      floorTimes.push(ms(sortAndOutput));
      clearTimes.push(ms(() => (trades = clear(m, offers, bids).trades.length)));
    }
    const sortMs = median(sortTimes);
    const floorMs = median(floorTimes);
    const clearMs = median(clearTimes);
    rows.push([fmt(n), m, fmt(trades), fmt(sortMs, 1), fmt(floorMs, 1), fmt(clearMs, 1), fmt(clearMs / sortMs, 2), fmt(clearMs / floorMs, 2)]);
  }
}
console.log('Time per clearing, median of interleaved runs. sort = the same two arrays sorted with the same comparators;');
console.log('sort + output = that, plus allocating as many plain objects as the result holds.\n');
console.log(table(['orders', 'mechanism', 'trades', 'sort ms', 'sort + output ms', 'clear ms', 'clear / sort', 'clear / (sort + output)'], rows));

// Volume and welfare on the same seeded books.
const HEC = 1_000_000;
const outcome: Array<Array<string | number>> = [];
for (const [n, seed] of [[1_000, 7], [10_000, 8], [100_000, 9]] as const) {
  const { offers, bids } = book(n, seed);
  const offered = offers.reduce((a, o) => a + o.energyMWh, 0);
  const wanted = bids.reduce((a, b) => a + b.energyMWh, 0);
  const results = MECHANISMS.map((m) => {
    const r = clear(m, offers, bids);
    const paid = r.trades.reduce((a, t) => a + t.paymentMicroHec, 0);
    return { m, r, paid, welfare: welfarePicoHec(r.trades, offers, bids) };
  });
  const best = results.find((x) => x.m === 'pay-as-clear')!.welfare;
  for (const { m, r, paid, welfare } of results) {
    outcome.push([
      `${fmt(n)} (${fmt(offered / 1e6)} kWh offered, ${fmt(wanted / 1e6)} kWh bid)`,
      m,
      fmt(r.tradedMWh / 1e6, 1),
      fmt(Number(welfare) / 1e12, 2),
      fmt(Number((welfare * 10000n) / (best || 1n)) / 100, 2) + ' %',
      fmt(paid / HEC, 2),
      fmt(paid / (r.tradedMWh / 1e6) / HEC, 4),
    ]);
  }
}
console.log(`\nWhat each mechanism trades on the same seeded books (welfare = Σ (bid − reserve) × energy; pay-as-clear's is the optimum):\n`);
console.log(table(['book (orders)', 'mechanism', 'traded kWh', 'welfare HEC', 'of optimum', 'buyers pay HEC', 'avg HEC/kWh'], outcome));
