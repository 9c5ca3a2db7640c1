/** Meter availability: online, offline and last seen, from connections, last wills and status messages. */
import type { StatusMessage } from '../../protocol/index.ts';
import type { MeteringStore, MeterStatusRow } from './store.ts';

export class Availability {
  private readonly rows = new Map<string, MeterStatusRow>();

  constructor(private readonly store: MeteringStore) {
    for (const r of store.statuses()) this.rows.set(r.meter, r);
  }

  get(meter: string): MeterStatusRow | undefined {
    return this.rows.get(meter);
  }

  all(): MeterStatusRow[] {
    return [...this.rows.values()];
  }

  private save(meter: string, now: number, patch: Partial<MeterStatusRow>): void {
    const prev = this.rows.get(meter);
    const state = patch.state ?? prev?.state ?? 'online';
    const row: MeterStatusRow = {
      meter,
      state,
      relay: patch.relay ?? prev?.relay ?? null,
      fw: patch.fw ?? prev?.fw ?? null,
      clock: patch.clock ?? prev?.clock ?? null,
      fault: patch.fault !== undefined ? patch.fault : prev?.fault ?? null,
      lastSeen: Math.max(now, prev?.lastSeen ?? 0),
      since: prev && prev.state === state ? prev.since : now,
    };
    this.rows.set(meter, row);
    this.store.saveStatus(row);
  }

  connected(meter: string, now: number): void {
    this.save(meter, now, { state: 'online' });
  }

  disconnected(meter: string, now: number): void {
    this.save(meter, now, { state: 'offline' });
  }

  /** A Status message from the meter (or its last will). */
  reported(s: StatusMessage, now: number): void {
    // A last will (offline) says nothing of the fault; an online Status says whether there is one.
    this.save(s.meter, now, { state: s.state, relay: s.relay ?? null, fw: s.fw ?? null, clock: s.clock ?? null, ...(s.state === 'online' ? { fault: s.fault ?? null } : {}) });
  }

  /** A reading arrived: the meter is alive (kept in memory; written with the next status change). */
  seen(meter: string, now: number): void {
    const r = this.rows.get(meter);
    if (r) r.lastSeen = Math.max(r.lastSeen, now);
  }
}
