/**
 * The market's MQTT news (docs/protocol.md §7): a retained Listing whenever a
 * listing changes (state, offers, clearing), Trades when bidding closes, and a
 * retained Storage whenever the storage changes. Built from committed state after
 * each block; never a command, so retaining them is safe.
 */
import { canonicalize, topics, type Clock, type Genesis } from '../../protocol/index.ts';
import { keys, type ListingEntry, type TradesEntry } from '../ledger/entities.ts';
import type { CommittedBlock } from '../ledger/ledger.ts';
import { currentListing, listingMessage, storageMessage, tradesMessage, type ListableState } from './views.ts';

export type Publish = (topic: string, payload: string, opts?: { retain?: boolean; qos?: 0 | 1 }) => void;

const LISTING_EVENTS = new Set(['listingOpened', 'offerPosted', 'offerCancelled', 'listingClosed', 'listingSettled']);

export class MarketBroadcasts {
  constructor(
    private readonly genesis: Genesis,
    private readonly state: ListableState,
    private readonly publish: Publish,
    private readonly clock: Clock,
  ) {}

  /** What a client subscribing now should find retained. */
  announce(): void {
    this.storage();
    this.current();
  }

  /** The grid's time (docs/protocol.md §7): not retained, a stale time would mislead. */
  time(): void {
    this.publish(topics.clock(this.genesis.grid), `{"grid":${JSON.stringify(this.genesis.grid)},"t":${this.clock.now()},"type":"Clock"}`);
  }

  storage(): void {
    this.publish(topics.storage(this.genesis.grid), canonicalize(storageMessage(this.state, this.genesis, this.clock.now())), { retain: true });
  }

  listing(l: ListingEntry): void {
    this.publish(topics.listing(this.genesis.grid), canonicalize(listingMessage(l, this.genesis.grid, this.clock.now())), { retain: true });
  }

  /** The listing households care about now goes last, so it is the one retained. */
  current(): void {
    const l = currentListing(this.state, this.genesis, this.clock.now());
    if (l) this.listing(l);
  }

  onBlock(c: CommittedBlock): void {
    const touched = new Set<string>();
    const closed: string[] = [];
    let storage = false;
    for (const { events } of c.events) {
      for (const e of events) {
        if (LISTING_EVENTS.has(e.kind)) touched.add(e.listing as string);
        if (e.kind === 'listingClosed') closed.push(e.listing as string);
        if (e.kind === 'storageChanged') storage = true;
      }
    }
    const grid = this.genesis.grid;
    for (const id of closed) {
      const t = this.state.get<TradesEntry>(keys.trades(id));
      if (t) this.publish(topics.trades(grid), canonicalize(tradesMessage(t, grid)));
    }
    if (touched.size) {
      const listings = [...touched].map((id) => this.state.get<ListingEntry>(keys.listing(id))).filter((l): l is ListingEntry => l !== undefined);
      for (const l of listings.sort((a, b) => a.deliveryStart - b.deliveryStart)) this.listing(l);
      this.current();
    }
    if (storage) this.storage();
  }
}
