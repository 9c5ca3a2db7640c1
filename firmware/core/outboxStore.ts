/**
 * The outbox in flash: a ring of `size` entries (`ob0` … `ob<size−1>`), reading
 * `seq` in entry `seq mod size`, each entry a slot record (storage.ts: magic,
 * generation = seq, length, CRC-32) holding a reading record (registers.ts), not
 * the signed text: 60 bytes instead of ~480, and RFC 6979 signs the same body to
 * the same signature again after a reboot.
 *
 * Wear (docs/installing-a-meter.md, "Storage and flash wear"): the newest reading
 * rides in the state record, which is written before every reading anyway. An
 * entry here is written only when a reading is still unacknowledged as the next
 * one is made — during an outage, one entry per reading period; while the gateway
 * acknowledges promptly, never. An acknowledgement writes nothing: the highest
 * acknowledged sequence goes into the next state record, and anything at or below
 * it is ignored when the ring is read back.
 *
 * A cut while an entry is written tears at most that entry, which held a reading
 * `size` sequence numbers older — one the bounded outbox had dropped already.
 */
import { ByteReader, ByteWriter, checkPreference, decodeSlot, encodeSlot, toArrayBuffer } from './storage.ts';
import { READING_RECORD_MAX, readReadingRecord, writeReadingRecord, type ReadingRecord } from './registers.ts';
import type { PreferenceStore } from './platform.ts';

const PREFIX = 'ob';

export class OutboxRing {
  constructor(private readonly store: PreferenceStore, private readonly domain: string, readonly size: number) {
    checkPreference(domain, PREFIX + (size - 1));
  }

  private key(seq: number): string {
    return PREFIX + (seq % this.size);
  }

  save(r: ReadingRecord): void {
    const payload = writeReadingRecord(new ByteWriter(READING_RECORD_MAX), r).done();
    this.store.set(this.domain, this.key(r.seq), toArrayBuffer(encodeSlot(r.seq, payload)));
  }

  /**
   * Every intact entry, oldest first, and the names of entries that hold something
   * unreadable. Entries from earlier laps of the ring are the caller's to ignore.
   */
  load(): { records: ReadingRecord[]; corrupt: string[] } {
    const records: ReadingRecord[] = [];
    const corrupt: string[] = [];
    for (let i = 0; i < this.size; i++) {
      const key = PREFIX + i;
      const raw = this.store.get(this.domain, key);
      if (raw === undefined) continue;
      const slot = decodeSlot(raw);
      let rec: ReadingRecord | undefined;
      if (slot) {
        try {
          rec = readReadingRecord(new ByteReader(slot.payload));
        } catch {
          rec = undefined;
        }
      }
      if (!rec || rec.seq !== slot!.generation) corrupt.push(key);
      else if (rec.seq % this.size === i) records.push(rec); // else written with another ring size: stale
    }
    records.sort((a, b) => a.seq - b.seq);
    return { records, corrupt };
  }

  /** Whether any entry exists (a sign that this flash belonged to a meter that has run). */
  any(): boolean {
    for (let i = 0; i < this.size; i++) if (this.store.get(this.domain, PREFIX + i) !== undefined) return true;
    return false;
  }

  /** Erase every entry (its readings were signed by a key that is gone). */
  clear(): void {
    for (let i = 0; i < this.size; i++) if (this.store.get(this.domain, PREFIX + i) !== undefined) this.store.delete(this.domain, PREFIX + i);
  }
}
