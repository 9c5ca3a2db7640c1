/**
 * Durable records on a store with ESP32 Preference semantics.
 *
 * The ESP32 Preference module erases a key and then writes it (modPreference.c
 * works around an ESP-IDF type bug that way), so a power cut between the two
 * loses the value. Anything that must survive every power cut is therefore kept
 * in two alternating slots: each write goes to the slot not holding the newest
 * record, carries a generation number one higher and a CRC-32; a reader takes the
 * valid slot with the higher generation. A cut at any instant leaves at least the
 * previous record intact.
 *
 * Numbers are int32 only on the device, so records are packed into bytes, with
 * 53-bit registers split into two 32-bit halves.
 */
import { fail } from '../../protocol/index.ts';
import { MeterCodes } from './errors.ts';
import type { PreferenceStore, PreferenceValue } from './platform.ts';

/** ESP32 NVS limits as Moddable's Preference module exposes them. */
export const PREFERENCE_LIMITS = {
  /** NVS_KEY_NAME_MAX_SIZE is 16 with the terminating NUL. */
  maxNameLength: 15,
  /** Largest value Moddable documents for ESP32 preferences. */
  maxValueBytes: 4000,
  minInt: -2147483648,
  maxInt: 2147483647,
} as const;

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) { n += 4; i++; }
    else n += 3;
  }
  return n;
}

/**
 * Throws E_STORAGE_LIMIT for anything the ESP32 Preference store would refuse or
 * silently corrupt. The Moddable Linux build stores preferences in a JSON file
 * that accepts all of these, so every non-device store must call this.
 */
export function checkPreference(domain: string, key: string, value?: PreferenceValue): void {
  for (const [what, name] of [['domain', domain], ['key', key]] as const) {
    if (typeof name !== 'string' || name.length === 0 || name.length > PREFERENCE_LIMITS.maxNameLength) {
      fail(MeterCodes.STORAGE_LIMIT, `preference ${what} ${JSON.stringify(name)} must be 1–${PREFERENCE_LIMITS.maxNameLength} characters (ESP32 NVS limit)`);
    }
  }
  if (value === undefined) return;
  switch (typeof value) {
    case 'boolean':
      return;
    case 'number':
      if (!Number.isInteger(value) || value < PREFERENCE_LIMITS.minInt || value > PREFERENCE_LIMITS.maxInt) {
        fail(MeterCodes.STORAGE_LIMIT, `preference ${domain}/${key} = ${value}: the ESP32 stores numbers as int32 only; encode larger values as bytes`);
      }
      return;
    case 'string': {
      // nvs_set_str stores the terminating NUL too.
      const bytes = utf8Length(value) + 1;
      if (bytes > PREFERENCE_LIMITS.maxValueBytes) {
        fail(MeterCodes.STORAGE_LIMIT, `preference ${domain}/${key} is a ${bytes}-byte string; at most ${PREFERENCE_LIMITS.maxValueBytes} bytes fit`);
      }
      return;
    }
    default:
      if (value instanceof ArrayBuffer) {
        if (value.byteLength > PREFERENCE_LIMITS.maxValueBytes) {
          fail(MeterCodes.STORAGE_LIMIT, `preference ${domain}/${key} is ${value.byteLength} bytes; at most ${PREFERENCE_LIMITS.maxValueBytes} fit`);
        }
        return;
      }
      fail(MeterCodes.STORAGE_LIMIT, `preference ${domain}/${key}: only int32, boolean, string and ArrayBuffer values can be stored`);
  }
}

/** CRC-32 as in IEEE 802.3 / zlib (reflected polynomial 0xEDB88320); crc32("123456789") = 0xCBF43926. */
export function crc32(data: Uint8Array, length = data.length): number {
  let c = 0xffffffff;
  for (let i = 0; i < length; i++) {
    c ^= data[i];
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return (c ^ 0xffffffff) >>> 0;
}

const TWO_32 = 4294967296;

/** Little helpers to pack records: integers only, big-endian, 53-bit values as two halves. */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  u8(v: number): this {
    this.view.setUint8(this.length, v);
    this.length += 1;
    return this;
  }

  u16(v: number): this {
    this.view.setUint16(this.length, v);
    this.length += 2;
    return this;
  }

  u32(v: number): this {
    this.view.setUint32(this.length, v >>> 0);
    this.length += 4;
    return this;
  }

  /** A non-negative safe integer (< 2^53). */
  u53(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`u53 out of range: ${v}`);
    return this.u32(Math.floor(v / TWO_32)).u32(v % TWO_32);
  }

  bytes(b: Uint8Array): this {
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  done(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

export class ByteReader {
  private view: DataView;
  offset = 0;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (this.offset + n > this.buf.length) throw new RangeError('record truncated');
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.offset++);
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.offset);
    this.offset += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.offset);
    this.offset += 4;
    return v;
  }

  u53(): number {
    const hi = this.u32();
    const lo = this.u32();
    if (hi >= 0x200000) throw new RangeError('u53 out of range');
    return hi * TWO_32 + lo;
  }

  bytes(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.slice(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  get remaining(): number {
    return this.buf.length - this.offset;
  }
}

/** Copy bytes into a fresh ArrayBuffer of exactly their length (what Preference.set takes). */
export function toArrayBuffer(b: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(b.length);
  new Uint8Array(out).set(b);
  return out;
}

const SLOT_MAGIC = 0x48; // 'H'
const SLOT_HEADER = 1 + 4 + 2; // magic, generation, payload length
const SLOT_OVERHEAD = SLOT_HEADER + 4; // + CRC-32

/** Largest payload a SlotStore record can carry under the 4000-byte value limit. */
export const MAX_SLOT_PAYLOAD = PREFERENCE_LIMITS.maxValueBytes - SLOT_OVERHEAD;

export function encodeSlot(generation: number, payload: Uint8Array): Uint8Array {
  const w = new ByteWriter(SLOT_OVERHEAD + payload.length);
  w.u8(SLOT_MAGIC).u32(generation).u16(payload.length).bytes(payload);
  const body = w.done();
  const out = new Uint8Array(body.length + 4);
  out.set(body);
  new DataView(out.buffer).setUint32(body.length, crc32(body));
  return out;
}

/** The record in a slot, or undefined when the slot is missing, torn or corrupt. */
export function decodeSlot(raw: PreferenceValue | undefined): { generation: number; payload: Uint8Array } | undefined {
  if (!(raw instanceof ArrayBuffer) || raw.byteLength < SLOT_OVERHEAD) return undefined;
  const b = new Uint8Array(raw);
  const r = new ByteReader(b);
  if (r.u8() !== SLOT_MAGIC) return undefined;
  const generation = r.u32();
  const len = r.u16();
  if (SLOT_OVERHEAD + len !== b.length) return undefined;
  const payload = r.bytes(len);
  const crc = r.u32();
  if (crc !== crc32(b, b.length - 4)) return undefined;
  return { generation, payload };
}

/**
 * A record kept in two alternating slots (`<name>0`, `<name>1`) so that a power
 * cut during any write loses at most that write, never the record.
 */
export class SlotStore {
  private generation = 0;
  private readonly keys: [string, string];

  constructor(private readonly store: PreferenceStore, private readonly domain: string, name: string) {
    this.keys = [name + '0', name + '1'];
    checkPreference(domain, this.keys[0]);
  }

  /** The newest intact record, or undefined if neither slot holds one. */
  load(): Uint8Array | undefined {
    return this.inspect().payload;
  }

  /**
   * The newest intact record, and which slots hold something that is not one: a
   * torn write (a cut mid-write on a store that writes in place) or a corrupted
   * flash. A slot that is simply absent (never written, or erased by Preference's
   * erase-then-write when the cut came) is not listed.
   */
  inspect(): { payload: Uint8Array | undefined; generation: number; corrupt: string[]; present: number } {
    let best: { generation: number; payload: Uint8Array } | undefined;
    const corrupt: string[] = [];
    let present = 0;
    for (const key of this.keys) {
      const raw = this.store.get(this.domain, key);
      if (raw === undefined) continue;
      present++;
      const rec = decodeSlot(raw);
      if (!rec) corrupt.push(key);
      else if (!best || rec.generation > best.generation) best = rec;
    }
    this.generation = best ? best.generation : 0;
    return { payload: best?.payload, generation: this.generation, corrupt, present };
  }

  /** Forget both slots (the key they belonged to is gone). */
  clear(): void {
    for (const key of this.keys) this.store.delete(this.domain, key);
    this.generation = 0;
  }

  /** Write the record to the slot that does not hold the newest one. */
  save(payload: Uint8Array): void {
    if (payload.length > MAX_SLOT_PAYLOAD) {
      fail(MeterCodes.STORAGE_LIMIT, `a ${this.keys[0].slice(0, -1)} record of ${payload.length} bytes does not fit one preference value (${MAX_SLOT_PAYLOAD} bytes)`);
    }
    const next = this.generation + 1;
    this.store.set(this.domain, this.keys[next % 2], toArrayBuffer(encodeSlot(next, payload)));
    this.generation = next;
  }
}

/**
 * A platform's raw record store (firmware/platform/moddable/{lin,esp32}/store.ts)
 * made into the core's: the ESP32 limits checked on every call, so a meter fails the
 * same way on every platform, and whatever the store throws turned into
 * E_STORAGE_FAILED naming the record. (A platform store mapped as a named module
 * cannot import the core at run time: its relative imports would resolve against
 * the module name, not its path.)
 */
export function checkedStore(raw: PreferenceStore, where = 'flash'): PreferenceStore {
  const failed = (what: string, domain: string, key: string, e: unknown): never =>
    fail(MeterCodes.STORAGE_FAILED, `${where}: ${what} ${domain}/${key} failed: ${e instanceof Error ? e.message : String(e)}`);
  return {
    get(domain, key) {
      checkPreference(domain, key);
      try {
        return raw.get(domain, key);
      } catch (e) {
        return failed('read', domain, key, e);
      }
    },
    set(domain, key, value) {
      checkPreference(domain, key, value);
      try {
        raw.set(domain, key, value);
      } catch (e) {
        failed('write', domain, key, e);
      }
    },
    delete(domain, key) {
      checkPreference(domain, key);
      try {
        raw.delete(domain, key);
      } catch (e) {
        failed('delete', domain, key, e);
      }
    },
  };
}
