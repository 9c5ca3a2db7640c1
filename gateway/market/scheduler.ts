/**
 * The market's clockwork in the gateway (docs/market.md §8, "Schedule"). The
 * hourly broadcasts come from Node-RED as operator commands; this scheduler turns
 * them into authority transactions and, on the injected clock, falls back to
 * issuing them itself when one has not come within its grace window (logged and
 * counted). It places standing orders when a listing opens, settles each listing
 * after its delivery period once readings covering its end are committed (or a
 * timeout passes), and deposits other prosumers' export into storage.
 *
 * It only ever submits transactions: every decision with consequences is the
 * ledger's rules', so a restarted gateway picks up where the chain is.
 */
import { Counter } from 'prom-client';
import { isHeliosError, listingId as listingIdSchema, parseJson, type Clock, type Genesis, type TimerHandle } from '../../protocol/index.ts';
import type { AuthoritySigner } from '../authority.ts';
import { keys, type ListingEntry, type MeterEntry, type OfferEntry, type ParticipantEntry, type TradesEntry } from '../ledger/entities.ts';
import type { CommittedBlock, Ledger } from '../ledger/ledger.ts';
import type { TxFields } from '../ledger/sign.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { MarketBroadcasts } from './broadcasts.ts';
import type { CommittedReadings } from './metered.ts';
import { LOOKAHEAD_PERIODS, listingIdOf, marketPeriodOk, periodFrom, periodStartAt } from './period.ts';
import { closeFallbackAt, marketTimes, openFallbackAt, settleDeadline, type MarketTimes } from './schedule.ts';
import { placeStandingOrders, type EnergyBetween } from './standingOrders.ts';
import { paymentMicroHec } from '../../protocol/index.ts';
import { storageOf, storageRoomMWh } from '../ledger/rules/marketState.ts';
import { listingAllowances } from '../ledger/rules/utility.ts';

export interface SchedulerDeps {
  ledger: Ledger;
  authority: AuthoritySigner;
  readings: CommittedReadings;
  /** Stored (not necessarily committed) energy per period: for surplus forecasts. */
  energy: EnergyBetween;
  broadcasts: MarketBroadcasts;
  clock: Clock;
  log: Logger;
  metrics?: Metrics;
  /** Issue the broadcasts when Node-RED has not (default true). */
  fallback?: boolean;
}

export class MarketScheduler {
  private readonly genesis: Genesis;
  private readonly times: MarketTimes;
  private readonly enabled: boolean;
  private timer: TimerHandle | undefined;
  private stopped = true;
  /** Listings not settled yet, by id (rebuilt from the chain at start). */
  private readonly live = new Set<string>();
  private readonly placedFor = new Set<string>();
  private readonly announcedDelivering = new Set<string>();
  /** Start of the next period whose storage deposits are still to be made. */
  private nextDepositPeriod: number;
  /** Actions that failed, by key, with when to try again (so a stuck action does not spam the log). */
  private readonly retryAt = new Map<string, number>();
  private readonly fallbacks: Counter<'tx'>;
  private readonly broadcasts: Counter<'tx' | 'by'>;
  private readonly operatorRefused: Counter<'code'>;

  constructor(private readonly d: SchedulerDeps) {
    this.genesis = d.ledger.genesis;
    this.times = marketTimes(this.genesis);
    this.enabled = marketPeriodOk(this.genesis.marketPeriodMs);
    const r = d.metrics ? [d.metrics.registry] : [];
    this.fallbacks = new Counter({ name: 'helios_market_fallback_broadcasts_total', help: 'AcceptOfferBroadcast and CloseBidding the gateway issued itself because the operator\'s did not come in time', labelNames: ['tx'], registers: r });
    this.broadcasts = new Counter({ name: 'helios_market_broadcasts_total', help: 'AcceptOfferBroadcast and CloseBidding submitted, by who sent them: the operator\'s flows or the gateway\'s fallback', labelNames: ['tx', 'by'], registers: r });
    this.operatorRefused = new Counter({ name: 'helios_market_operator_commands_refused_total', help: 'Operator market commands refused, by error code', labelNames: ['code'], registers: r });
    const P = this.genesis.marketPeriodMs;
    this.nextDepositPeriod = periodStartAt(d.clock.now(), P) - LOOKAHEAD_PERIODS * P;
  }

  start(): void {
    if (!this.enabled) {
      this.d.log.warn('market disabled: marketPeriodMs is not a whole number of minutes, so listing ids cannot name its periods', { marketPeriodMs: this.genesis.marketPeriodMs });
      return;
    }
    this.stopped = false;
    for (const [, l] of this.d.ledger.state.entries<ListingEntry>('listing/')) if (l.state !== 'SETTLED') this.live.add(l.id);
    // The first step runs now, so whatever is overdue after a restart goes into the first block.
    this.tick();
  }

  stop(): void {
    this.stopped = true;
    this.d.clock.clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    // Every block period (the scheduler only submits transactions, and a block is the soonest any can take
    // effect), and exactly at a fallback's deadline: a close issued up to a block period after its time would
    // be in a block only as delivery begins, and the credit tokens it funds would reach the meters late.
    const now = this.d.clock.now();
    const deadline = this.nextDeadline(now);
    const every = Math.max(100, this.genesis.blockPeriodMs);
    this.timer = this.d.clock.setTimeout(() => this.tick(), deadline === undefined ? every : Math.min(every, Math.max(1, deadline - now)));
  }

  /** The next moment after `now` at which the gateway would open or close a listing itself. */
  private nextDeadline(now: number): number | undefined {
    if (this.d.fallback === false) return undefined;
    const P = this.genesis.marketPeriodMs;
    const view = this.d.ledger.mempool.view;
    const next = periodFrom(periodStartAt(now, P) + P, this.genesis);
    const due: number[] = [];
    if (!view.get(keys.listing(next.id))) due.push(openFallbackAt(next, this.times));
    for (const id of this.live) {
      const pending = view.get<ListingEntry>(keys.listing(id));
      if (pending?.state === 'ACCEPT_OFFERS') due.push(closeFallbackAt(pending, this.times));
    }
    const later = due.filter((t) => t > now);
    return later.length ? Math.min(...later) : undefined;
  }

  onBlock(c: CommittedBlock): void {
    for (const { events } of c.events) {
      for (const e of events) {
        if (e.kind === 'listingOpened') this.live.add(e.listing as string);
        else if (e.kind === 'listingSettled') this.live.delete(e.listing as string);
      }
    }
  }

  /** One step: whatever is due now. Never throws (a failing step is logged; the next one tries again). */
  tick(): void {
    try {
      // The flows schedule the broadcasts by this clock, so they follow the grid's time, not their own.
      this.d.broadcasts.time();
      this.step(this.d.clock.now());
    } catch (e) {
      this.d.log.error('market scheduler step failed', { error: String((e as Error).stack ?? e) });
    }
    this.schedule();
  }

  private step(now: number): void {
    const P = this.genesis.marketPeriodMs;
    const view = this.d.ledger.mempool.view;
    // 1. Open the next period's listing if the operator has not within its grace window.
    const next = periodFrom(periodStartAt(now, P) + P, this.genesis);
    if (this.d.fallback !== false && !view.get(keys.listing(next.id)) && now >= openFallbackAt(next, this.times)) {
      if (this.submit(`open ${next.id}`, { type: 'AcceptOfferBroadcast', listing: next.id, by: 'fallback' })) {
        this.fallbacks.inc({ tx: 'AcceptOfferBroadcast' });
        this.broadcasts.inc({ tx: 'AcceptOfferBroadcast', by: 'fallback' });
        this.d.log.warn('AcceptOfferBroadcast did not come from the operator within its grace window; the gateway issued it', { listing: next.id, dueAt: new Date(next.opensAt).toISOString() });
      }
    }
    // 2. Every unsettled listing, oldest first.
    for (const id of [...this.live].sort()) {
      const committed = this.d.ledger.state.get<ListingEntry>(keys.listing(id));
      const pending = view.get<ListingEntry>(keys.listing(id));
      if (!committed || !pending) continue;
      if (pending.state === 'ACCEPT_OFFERS' && this.d.fallback !== false && now >= closeFallbackAt(pending, this.times)) {
        if (this.submit(`close ${id}`, { type: 'CloseBidding', listing: id, by: 'fallback' })) {
          this.fallbacks.inc({ tx: 'CloseBidding' });
          this.broadcasts.inc({ tx: 'CloseBidding', by: 'fallback' });
          this.d.log.warn('CloseBidding did not come from the operator in time; the gateway issued it', { listing: id, closesAt: new Date(committed.closesAt).toISOString() });
        }
      }
      if (committed.state === 'ACCEPT_OFFERS' && now < committed.deliveryStart && !this.placedFor.has(id)) {
        this.placedFor.add(id);
        placeStandingOrders({ ledger: this.d.ledger, authority: this.d.authority, energy: this.d.energy, clock: this.d.clock, log: this.d.log }, committed);
      }
      if (committed.state === 'AUCTION_CLOSED' && now >= committed.deliveryStart && !this.announcedDelivering.has(id)) {
        this.announcedDelivering.add(id);
        this.d.broadcasts.listing(committed);
        this.d.broadcasts.current();
      }
      if (committed.state === 'AUCTION_CLOSED' && pending.state === 'AUCTION_CLOSED' && now >= committed.deliveryEnd) this.settle(committed, now);
    }
    // 3. Storage deposits for periods over long enough for their readings to be in.
    for (;;) {
      const p = periodFrom(this.nextDepositPeriod, this.genesis);
      if (now < settleDeadline(p, this.times)) break;
      const l = view.get<ListingEntry>(keys.listing(p.id));
      if (l && l.state !== 'SETTLED') break; // its own sellers first (Settle), then everyone else
      this.deposit(p.id, p.deliveryStart, p.deliveryEnd);
      this.nextDepositPeriod += P;
    }
  }

  /** Submit an authority transaction; false (logged) if refused or retried too soon. */
  private submit(key: string, fields: TxFields): boolean {
    const now = this.d.clock.now();
    const retry = this.retryAt.get(key);
    if (retry !== undefined && now < retry) return false;
    try {
      this.d.authority.submit(fields);
      this.retryAt.delete(key);
      return true;
    } catch (e) {
      if (!isHeliosError(e)) throw e;
      this.retryAt.set(key, now + Math.max(this.genesis.blockPeriodMs, Math.floor(this.genesis.marketPeriodMs / 60)));
      this.d.log.warn('market transaction refused', { action: key, type: fields.type, code: e.code, message: e.message });
      return false;
    }
  }

  /**
   * Settle once every meter on the listing has a committed reading at or after the
   * period's end — readings arrive in order, so none of its figures can change
   * later — or at the deadline with what there is.
   */
  private settle(l: ListingEntry, now: number): void {
    const trades = this.d.ledger.state.get<TradesEntry>(keys.trades(l.id))?.trades ?? [];
    const meters = new Set<string>();
    for (const t of trades) { meters.add(t.sellerMeter); meters.add(t.buyerMeter); }
    for (let n = 0; n < l.posted; n++) {
      const id = this.d.ledger.state.get<{ offer: string }>(keys.book(l.id, n))?.offer;
      const o = id ? this.d.ledger.state.get<OfferEntry>(keys.offer(id)) : undefined;
      if (o && o.side === 'sell' && o.status === 'open') meters.add(o.meter);
    }
    // On-grid, every meter that held the period's allowance is billed by this Settle (docs/market.md §9.2).
    for (const a of listingAllowances(this.d.ledger.state, l)) meters.add(a.meter);
    const height = this.d.ledger.tip.height;
    const metered = [...meters].sort().map((meter) => ({ meter, ...this.d.readings.energy(meter, l.deliveryStart, l.deliveryEnd, height) }));
    const uncovered = metered.filter((m) => !m.covered).map((m) => m.meter);
    if (uncovered.length && now < settleDeadline(l, this.times)) return;
    if (uncovered.length) this.d.log.warn('settling without readings covering the end of the period', { listing: l.id, meters: uncovered });
    if (this.submit(`settle ${l.id}`, { type: 'Settle', listing: l.id, readingsHeight: height, metered: metered.map(({ meter, importMWh, exportMWh }) => ({ meter, importMWh, exportMWh })) })) {
      this.d.log.info('Settle submitted', { listing: l.id, meters: metered.length, readingsHeight: height });
    }
  }

  /**
   * Pay prosumers that offered nothing on this period's listing for export the
   * storage can take (room and fund permitting), from committed readings.
   */
  private deposit(period: string, from: number, to: number): void {
    const height = this.d.ledger.tip.height;
    const buy = this.genesis.storage.buyPriceMicroHecPerKWh;
    let made = 0;
    for (const [, m] of this.d.ledger.state.entries<MeterEntry>('meter/')) {
      if (m.revoked) continue;
      const view = this.d.ledger.mempool.view;
      if (view.get(keys.pvMeter(period, m.meter)) || view.get(keys.deposit(period, m.meter)) || view.get(keys.allowance(period, m.meter))) continue;
      if (view.get<ParticipantEntry>(keys.participant(m.participant))?.role !== 'prosumer') continue;
      const e = this.d.readings.energy(m.meter, from, to, height);
      if (e.exportMWh <= 0) continue;
      const s = storageOf(view, this.genesis);
      const room = storageRoomMWh(s, buy);
      const energyMWh = Math.min(e.exportMWh, room, 1_000_000_000);
      if (energyMWh < 1) {
        this.d.log.info('storage cannot take more export this period (full, or its fund is spent)', { period, freeMWh: s.capacityMWh - s.storedMWh, fundMicroHec: s.fundMicroHec });
        break;
      }
      if (this.submit(`deposit ${period} ${m.meter}`, { type: 'StorageDeposit', meter: m.meter, energyMWh, period, readingsHeight: height })) {
        made++;
        this.d.log.debug('storage deposit', { period, meter: m.meter, energyMWh, amountMicroHec: paymentMicroHec(energyMWh, buy) });
      }
    }
    if (made) this.d.log.info('storage deposits submitted', { period, deposits: made });
  }

  /**
   * A market command from the operator (Node-RED publishes `{ "listing": "<id>" }`
   * to …/operator/broadcast or …/operator/close). Bad payloads are refused, logged
   * and counted; one for a listing already in that state is a harmless repeat.
   */
  operatorCommand(command: 'broadcast' | 'close', payload: Buffer): void {
    let listing: string;
    try {
      const msg = parseJson(payload.toString('utf8')) as { listing?: unknown };
      if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) throw Object.assign(new Error('payload must be a JSON object { "listing": "<id>" }'), { code: 'E_WRONG_TYPE' });
      listing = listingIdSchema().parse(msg.listing, 'listing');
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'E_MALFORMED_JSON';
      this.operatorRefused.inc({ code });
      this.d.log.warn('operator market command refused', { command, code, message: (e as Error).message });
      return;
    }
    const view = this.d.ledger.mempool.view;
    const l = view.get<ListingEntry>(keys.listing(listing));
    if (command === 'broadcast' && l) return this.d.log.info('operator broadcast for a listing already open', { listing, state: l.state });
    if (command === 'close' && l?.state !== 'ACCEPT_OFFERS') {
      if (!l) this.operatorRefused.inc({ code: 'E_UNKNOWN_LISTING' });
      return this.d.log.info('operator close for a listing not accepting offers', { listing, state: l?.state ?? 'unknown' });
    }
    try {
      const tx = command === 'broadcast' ? 'AcceptOfferBroadcast' : 'CloseBidding';
      this.d.authority.submit({ type: tx, listing, by: 'flows' });
      this.broadcasts.inc({ tx, by: 'flows' });
      this.d.log.info(`operator ${command === 'broadcast' ? 'AcceptOfferBroadcast' : 'CloseBidding'} submitted`, { listing });
    } catch (e) {
      if (!isHeliosError(e)) throw e;
      this.operatorRefused.inc({ code: e.code });
      this.d.log.warn('operator market command refused', { command, listing, code: e.code, message: e.message });
    }
  }

  /** For tests and the API: the listing ids the scheduler is still working on. */
  get unsettled(): string[] {
    return [...this.live].sort();
  }

  /** The next period's listing id (for logs and the CLI). */
  nextListingId(now: number): string {
    return listingIdOf(periodStartAt(now, this.genesis.marketPeriodMs) + this.genesis.marketPeriodMs);
  }
}
