/**
 * The meter's durable counters: the cumulative import and export registers, the
 * reading sequence number, the login counter, the highest acknowledged sequence
 * and the newest reading itself, in one small record kept in two alternating
 * preference slots (storage.ts).
 *
 * Rules that keep registers honest across power cuts (the complaint users of
 * Tasmota and ESPHome raise most: totals lost or jumping after a cut):
 * - the record is written before any reading that carries its values is sent, so
 *   no value the gateway has seen is ever higher than what a reboot restores —
 *   registers never go backwards;
 * - after a reboot the registers continue from the record and count only energy
 *   measured since; nothing is estimated or added — they never jump;
 * - between readings the record is written at least every N Wh or M minutes, so
 *   a cut loses less than N Wh of counting (the household had no power during the
 *   cut anyway: the meter runs from the same supply).
 *
 * The newest reading rides in this record (it is written anyway before the reading
 * is sent), so a reading acknowledged before the next one is made costs no flash
 * write of its own; only a reading still unacknowledged when the next is made moves
 * into the outbox ring (outboxStore.ts).
 */
import { utf8Decode, utf8Encode, type RelayState } from '../../protocol/index.ts';
import { ByteReader, ByteWriter } from './storage.ts';

/** What a reading says besides grid and meter (those are the meter's own): enough to sign it again byte for byte. */
export interface ReadingRecord {
  seq: number;
  t: number;
  importMWh: number;
  exportMWh: number;
  powerW: number;
  relay: RelayState;
  creditMWh: number;
  fw: string;
}

export interface MeterState {
  /** Sequence number of the last reading made (0 before the first). */
  seq: number;
  /** Login counter of the last connect attempt (docs/protocol.md §3, `ctr`). */
  ctr: number;
  importMWh: number;
  exportMWh: number;
  /** The wall time when this record was written, if the clock was set; a lower bound for the time after a reboot. */
  lastT: number;
  /** Highest sequence the gateway acknowledged, as far as the meter had heard when it wrote this record. */
  ackSeq: number;
  /** The reading numbered `seq`, or undefined before the first. */
  last?: ReadingRecord;
}

export const EMPTY_STATE: MeterState = { seq: 0, ctr: 0, importMWh: 0, exportMWh: 0, lastT: 0, ackSeq: 0 };

const VERSION = 2;
const RELAYS: RelayState[] = ['open', 'closed'];
/** powerW is −10⁶…10⁶; stored with this offset as an unsigned 32-bit number. */
const POWER_OFFSET = 2_000_000;

export function writeReadingRecord(w: ByteWriter, r: ReadingRecord): ByteWriter {
  const fw = utf8Encode(r.fw);
  return w.u32(r.seq).u53(r.t).u53(r.importMWh).u53(r.exportMWh).u32(r.powerW + POWER_OFFSET)
    .u8(RELAYS.indexOf(r.relay)).u53(r.creditMWh).u8(fw.length).bytes(fw);
}

export function readReadingRecord(r: ByteReader): ReadingRecord {
  const seq = r.u32();
  const t = r.u53();
  const importMWh = r.u53();
  const exportMWh = r.u53();
  const powerW = r.u32() - POWER_OFFSET;
  const relay = RELAYS[r.u8()];
  const creditMWh = r.u53();
  const fw = utf8Decode(r.bytes(r.u8()));
  if (relay === undefined) throw new RangeError('reading record: unknown relay state');
  return { seq, t, importMWh, exportMWh, powerW, relay, creditMWh, fw };
}

/** Bytes of a reading record with a firmware version of up to 32 bytes. */
export const READING_RECORD_MAX = 4 + 8 + 8 + 8 + 4 + 1 + 8 + 1 + 32;

export function encodeState(s: MeterState): Uint8Array {
  const w = new ByteWriter(1 + 4 + 4 + 8 + 8 + 8 + 4 + 1 + READING_RECORD_MAX)
    .u8(VERSION).u32(s.seq).u32(s.ctr).u53(s.importMWh).u53(s.exportMWh).u53(s.lastT).u32(s.ackSeq)
    .u8(s.last ? 1 : 0);
  if (s.last) writeReadingRecord(w, s.last);
  return w.done();
}

export function decodeState(b: Uint8Array): MeterState {
  const r = new ByteReader(b);
  const version = r.u8();
  if (version === 1) {
    // Written by firmware before the persistent outbox: no acknowledged sequence, no reading.
    return { seq: r.u32(), ctr: r.u32(), importMWh: r.u53(), exportMWh: r.u53(), lastT: r.u53(), ackSeq: 0 };
  }
  if (version !== VERSION) throw new RangeError(`unknown meter state record version ${version}`);
  const s: MeterState = { seq: r.u32(), ctr: r.u32(), importMWh: r.u53(), exportMWh: r.u53(), lastT: r.u53(), ackSeq: r.u32() };
  if (r.u8() === 1) s.last = readReadingRecord(r);
  if (r.remaining !== 0) throw new RangeError('meter state record has trailing bytes');
  return s;
}
