/**
 * When the flows send the market's broadcasts (docs/market.md §8, "Schedule"): pure
 * arithmetic on the grid's time, which the gateway publishes every block period on
 * …/market/clock, so the flows follow the grid's clock (an accelerated demo clock
 * too), never Node-RED's own.
 *
 *  - AcceptOfferBroadcast for the next period as soon as the current one has begun
 *    (the paper opens 13:00–14:00 during 12:00–13:00);
 *  - CloseBidding for a listing accepting offers once the grid's time reaches its
 *    closesAt (the paper's 12:59), which the gateway states in the Listing message.
 *
 * Each command is sent once per listing; the gateway treats a repeat as harmless.
 */
'use strict';

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** "YYYY-MM-DDTHH:MMZ" of a period start (docs/protocol.md, listing ids). */
function listingIdOf(ms) {
  const d = new Date(ms);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}Z`;
}

class MarketClock {
  /** @param {number} periodMs the grid's marketPeriodMs (genesis) */
  constructor(periodMs) {
    if (!Number.isSafeInteger(periodMs) || periodMs < 60_000 || periodMs % 60_000 !== 0) {
      throw new RangeError(`marketPeriodMs must be a whole number of minutes, got ${periodMs}`);
    }
    this.periodMs = periodMs;
    /** Listings accepting offers, by id: when bidding closes. */
    this.accepting = new Map();
    /** Listings the gateway has told us about (any state): never opened again. */
    this.known = new Set();
    this.sentOpen = new Set();
    this.sentClose = new Set();
  }

  /** A Listing message from …/market/listing. */
  listing(l) {
    if (!l || typeof l.id !== 'string') return;
    this.known.add(l.id);
    if (l.state === 'ACCEPT_OFFERS' && Number.isSafeInteger(l.closesAt)) this.accepting.set(l.id, l.closesAt);
    else this.accepting.delete(l.id);
  }

  /**
   * The grid's time is now t (from …/market/clock): the commands due.
   * @returns {Array<{ command: 'broadcast' | 'close', listing: string }>}
   */
  tick(t) {
    if (!Number.isSafeInteger(t)) return [];
    const P = this.periodMs;
    const out = [];
    const next = listingIdOf(Math.floor(t / P) * P + P);
    if (!this.known.has(next) && !this.sentOpen.has(next)) {
      this.sentOpen.add(next);
      out.push({ command: 'broadcast', listing: next });
    }
    for (const [id, closesAt] of this.accepting) {
      if (t >= closesAt && !this.sentClose.has(id)) {
        this.sentClose.add(id);
        out.push({ command: 'close', listing: id });
      }
    }
    this.forget(t - 2 * P);
    return out;
  }

  /** Ids name their period's start, so ids sort by time: drop what is long past. */
  forget(before) {
    const old = listingIdOf(Math.floor(before / this.periodMs) * this.periodMs);
    for (const s of [this.known, this.sentOpen, this.sentClose]) for (const id of s) if (id < old) s.delete(id);
  }
}

module.exports = { MarketClock, listingIdOf };
