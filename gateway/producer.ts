/**
 * Block production on the clock: wake at the start of each of this authority's Aura
 * slots and make a block if there is anything to commit (transactions or readings).
 * Empty slots make no block; the chain's score rule (docs/protocol.md §6) accounts
 * for them.
 */
import type { Clock, TimerHandle } from '../protocol/index.ts';
import { nextOwnSlotStart } from './ledger/aura.ts';
import type { AuthorityKey, Ledger } from './ledger/ledger.ts';
import type { Logger } from './log.ts';

export class BlockProducer {
  private timer: TimerHandle | undefined;
  private stopped = false;
  blocksMade = 0;

  constructor(
    private readonly ledger: Ledger,
    private readonly author: AuthorityKey,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    const at = nextOwnSlotStart(now + 1, this.author.keyId, this.ledger.genesis);
    this.timer = this.clock.setTimeout(() => this.tick(), at - now);
  }

  /** Make a block now if this is our slot and there is work. Returns whether one was made. */
  tick(): boolean {
    let made = false;
    try {
      const t = this.clock.now();
      if (this.ledger.canProduce(this.author.keyId, t) && this.ledger.hasWork()) {
        const { block, rejected } = this.ledger.produce(this.author, t);
        this.blocksMade++;
        made = true;
        this.log.debug('block', { height: block.header.height, txs: block.header.txCount, readings: block.header.readingsCount, rejected: rejected.length });
      }
    } catch (e) {
      // Nothing was applied in memory if the append failed; the next slot tries again.
      this.log.error('block production failed', { error: String((e as Error).stack ?? e) });
    }
    this.schedule();
    return made;
  }
}
