/**
 * Readings not yet acknowledged, oldest first (docs/protocol.md §4, "Delivery").
 * Moddable's MQTT client publishes at QoS 0, so delivery is end to end: a reading
 * stays here until an Ack covers its sequence number, and everything here is sent
 * again, in order, after each reconnect. The gateway de-duplicates by (meter, seq).
 *
 * This is the outbox in RAM, bounded: beyond `max` the oldest reading is dropped.
 * Registers are cumulative, so a dropped reading costs time resolution, never
 * energy — the next reading carries the same total. What survives a power cut is
 * kept in flash by the meter: the newest reading in the state record, older
 * unacknowledged ones in the outbox ring (outboxStore.ts), `max` of them.
 */
export interface OutboxEntry {
  seq: number;
  /** When the reading was taken (wall clock, ms). */
  t: number;
  /** The signed envelope exactly as published. */
  payload: string;
}

export class Outbox {
  private entries: OutboxEntry[] = [];
  /** Highest sequence number published on the current connection. */
  private sentUpTo = 0;
  dropped = 0;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.entries.length;
  }

  push(entry: OutboxEntry): void {
    const last = this.entries[this.entries.length - 1];
    if (last && entry.seq <= last.seq) throw new RangeError(`outbox sequence must increase: ${entry.seq} after ${last.seq}`);
    this.entries.push(entry);
    while (this.entries.length > this.max) {
      this.entries.shift();
      this.dropped++;
    }
  }

  /** Drop every entry the gateway has stored (seq ≤ ack). Returns how many went. */
  ack(seq: number): number {
    let n = 0;
    while (this.entries.length && this.entries[0].seq <= seq) {
      this.entries.shift();
      n++;
    }
    return n;
  }

  /** A new connection: everything still here must be sent again. */
  rewind(): void {
    this.sentUpTo = 0;
  }

  /** Up to `max` entries not yet sent on this connection, oldest first; they count as sent. */
  takeUnsent(max: number): OutboxEntry[] {
    const out: OutboxEntry[] = [];
    for (const e of this.entries) {
      if (out.length >= max) break;
      if (e.seq > this.sentUpTo) out.push(e);
    }
    if (out.length) this.sentUpTo = out[out.length - 1].seq;
    return out;
  }

  /** Undo takeUnsent for entries that could not be published (the connection broke mid-way). */
  unsendFrom(seq: number): void {
    if (seq <= this.sentUpTo) this.sentUpTo = seq - 1;
  }

  hasUnsent(): boolean {
    const last = this.entries[this.entries.length - 1];
    return !!last && last.seq > this.sentUpTo;
  }

  /**
   * Drop readings stamped after `limitT`: after the clock was stepped back they
   * carry a future time the gateway refuses (E_FUTURE_TIMESTAMP) and would never
   * acknowledge. Returns how many were dropped.
   */
  dropAfter(limitT: number): number {
    const before = this.entries.length;
    this.entries = this.entries.filter((e) => e.t <= limitT);
    const n = before - this.entries.length;
    this.dropped += n;
    return n;
  }

  has(seq: number): boolean {
    return this.entries.some((e) => e.seq === seq);
  }

  seqs(): number[] {
    return this.entries.map((e) => e.seq);
  }
}
