/**
 * The market in the gateway: the scheduler (fallback broadcasts, standing orders,
 * settlement, storage deposits) and the MQTT broadcasts, both driven by the ledger's
 * committed blocks and the injected clock. The rules themselves are the ledger's
 * (gateway/ledger/rules/); this is the edge around them.
 */
import type { Clock } from '../../protocol/index.ts';
import type { AuthoritySigner } from '../authority.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { DB } from '../store/db.ts';
import { MarketBroadcasts, type Publish } from './broadcasts.ts';
import { CommittedReadings } from './metered.ts';
import { MarketScheduler } from './scheduler.ts';
import type { EnergyBetween } from './standingOrders.ts';

export interface MarketServiceDeps {
  ledger: Ledger;
  authority: AuthoritySigner;
  db: DB;
  /** Stored energy per meter and period (MeteringStore.energyBetween): standing orders' surplus forecast. */
  energy: EnergyBetween;
  publish: Publish;
  clock: Clock;
  log: Logger;
  metrics?: Metrics;
  /** Issue AcceptOfferBroadcast and CloseBidding when Node-RED has not (default true). */
  fallback?: boolean;
}

export class MarketService {
  readonly broadcasts: MarketBroadcasts;
  readonly scheduler: MarketScheduler;
  readonly readings: CommittedReadings;

  constructor(d: MarketServiceDeps) {
    this.readings = new CommittedReadings(d.db);
    this.broadcasts = new MarketBroadcasts(d.ledger.genesis, d.ledger.state, d.publish, d.clock);
    this.scheduler = new MarketScheduler({
      ledger: d.ledger, authority: d.authority, readings: this.readings, energy: d.energy, broadcasts: this.broadcasts,
      clock: d.clock, log: d.log, metrics: d.metrics, fallback: d.fallback,
    });
    d.ledger.on('block', (c) => {
      this.scheduler.onBlock(c);
      this.broadcasts.onBlock(c);
    });
  }

  start(): void {
    this.broadcasts.announce();
    this.scheduler.start();
  }

  stop(): void {
    this.scheduler.stop();
  }

  operatorCommand(command: 'broadcast' | 'close', payload: Buffer): void {
    this.scheduler.operatorCommand(command, payload);
  }
}
