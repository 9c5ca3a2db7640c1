/**
 * The flash of a firmware meter running in mcsim, read from the test: the Linux-host
 * store (firmware/platform/moddable/lin/store.ts) keeps a file per record,
 * `<mcsim cwd>/helios/<domain>.<key>`, in the same record format as the node
 * platform's files (a type byte, then the value). Read only while mcsim is stopped.
 *
 * Also the damage a cut mid-write leaves on real flash, which `kill -9` never does
 * (a renamed file is whole or absent): a record cut short or gone, a stray `.new`.
 */
import { existsSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOMAIN, OutboxRing, SlotStore, decodeState, type PreferenceStore, type PreferenceValue, type ReadingRecord } from '../../../firmware/core/index.ts';
import { decodeRecordFile } from '../../../firmware/platform/node/storage.ts';

export class LinFlash implements PreferenceStore {
  /** `cwd` is the directory mcsim runs in. */
  constructor(readonly cwd: string) {}

  get dir(): string {
    return join(this.cwd, 'helios');
  }

  file(key: string, domain = DOMAIN): string {
    return join(this.dir, `${domain}.${key}`);
  }

  get(domain: string, key: string): PreferenceValue | undefined {
    const p = this.file(key, domain);
    if (!existsSync(p)) return undefined;
    const b = readFileSync(p);
    return decodeRecordFile(b) ?? (b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
  }

  set(): void {
    throw new Error('LinFlash is read-only: the firmware writes its flash');
  }

  delete(): void {
    throw new Error('LinFlash is read-only: damage it with cut() or remove()');
  }

  /** Record names (keys) present, e.g. state0, ob7, enrol; `.new` files as `state0.new`. */
  keys(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir).filter((f) => f.startsWith(`${DOMAIN}.`)).map((f) => f.slice(DOMAIN.length + 1)).sort();
  }

  /** A write torn on flash: the record cut short to `keep` of its bytes. */
  cut(key: string, keep: number): void {
    const p = this.file(key);
    const size = readFileSync(p).length;
    truncateSync(p, Math.max(0, Math.min(keep, size - 1)));
  }

  /** A record gone (NVS drops an entry that fails its own CRC). */
  remove(key: string): void {
    rmSync(this.file(key));
  }

  /** A write killed before its rename: a stray `<key>.new` holding part of a record. */
  strayNew(key: string, bytes: Uint8Array): void {
    writeFileSync(this.file(`${key}.new`), bytes);
  }
}

/**
 * What the flash holds as made and not yet known to be stored: the newest reading
 * (in the state record, written before every reading is sent) and the outbox
 * ring's entries above the acknowledged sequence — what the meter sends again
 * after a boot — as the same rule as test/firmware/helpers/cut-rig.ts applies.
 * `all` is every reading record the flash holds, acknowledged or not.
 */
export function durableReadings(flash: PreferenceStore, outboxMax: number): { pending: ReadingRecord[]; all: ReadingRecord[]; ackSeq: number; seq: number } {
  const slots = new SlotStore(flash, DOMAIN, 'state').inspect();
  const ring = new OutboxRing(flash, DOMAIN, outboxMax).load().records;
  if (!slots.payload) return { pending: [], all: ring, ackSeq: 0, seq: 0 };
  const st = decodeState(slots.payload);
  const all = st.last ? [...ring, st.last] : ring;
  const pending: ReadingRecord[] = [];
  if (st.last && st.last.seq > st.ackSeq) {
    for (const r of ring) if (r.seq > st.ackSeq && r.seq < st.last.seq && r.seq > st.last.seq - outboxMax) pending.push(r);
    pending.push(st.last);
  }
  return { pending: pending.sort((a, b) => a.seq - b.seq), all, ackSeq: st.ackSeq, seq: st.seq };
}
