/**
 * Preference stores for Node meters. Both enforce the ESP32 limits
 * (firmware/core/storage.ts checkPreference) on every call: the Moddable Linux
 * build's own preferences accept a float or a 5 kB value, and a meter that works
 * there would then fail on the device.
 *
 * FilePreferenceStore keeps each record in its own file (`<dir>/<domain>/<key>`),
 * as NVS keeps each in its own entry: a write never touches another record. A write
 * goes to a new file, is fsync'ed, renamed over the old one, and the directory is
 * fsync'ed (POSIX rename is atomic), so a killed process or a power cut leaves the
 * old value or the new one, never a mixture — and never the key, the enrolment and
 * both state slots in one file (issue 17: the SDK's lin preferences rewrote one JSON
 * file holding everything, and a cut inside that window gave the meter a new key).
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../../../protocol/index.ts';
import { checkPreference, MeterCodes, type PreferenceStore, type PreferenceValue } from '../../core/index.ts';

function copy(v: PreferenceValue): PreferenceValue {
  return v instanceof ArrayBuffer ? v.slice(0) : v;
}

export class MemoryPreferenceStore implements PreferenceStore {
  private readonly data = new Map<string, PreferenceValue>();

  get(domain: string, key: string): PreferenceValue | undefined {
    checkPreference(domain, key);
    const v = this.data.get(`${domain}/${key}`);
    return v === undefined ? undefined : copy(v);
  }

  set(domain: string, key: string, value: PreferenceValue): void {
    checkPreference(domain, key, value);
    this.data.set(`${domain}/${key}`, copy(value));
  }

  delete(domain: string, key: string): void {
    checkPreference(domain, key);
    this.data.delete(`${domain}/${key}`);
  }
}

/**
 * One record in a file: a type byte, then the value — `i` int32 (4 bytes, big-endian),
 * `b` boolean (1 byte), `s` UTF-8 text, `x` bytes. The file's length is the value's.
 */
export function encodeRecordFile(v: PreferenceValue): Buffer {
  if (typeof v === 'number') {
    const b = Buffer.alloc(5);
    b.write('i', 0, 'latin1');
    b.writeInt32BE(v, 1);
    return b;
  }
  if (typeof v === 'boolean') return Buffer.from([0x62, v ? 1 : 0]);
  if (typeof v === 'string') return Buffer.concat([Buffer.from('s', 'latin1'), Buffer.from(v, 'utf8')]);
  return Buffer.concat([Buffer.from('x', 'latin1'), Buffer.from(v)]);
}

/** The value in a record file, or undefined for a file that is no record (empty, unknown type, wrong length). */
export function decodeRecordFile(b: Buffer): PreferenceValue | undefined {
  if (b.length === 0) return undefined;
  const body = b.subarray(1);
  switch (String.fromCharCode(b[0])) {
    case 'i':
      return body.length === 4 ? body.readInt32BE(0) : undefined;
    case 'b':
      return body.length === 1 && body[0] <= 1 ? body[0] === 1 : undefined;
    case 's':
      return body.toString('utf8');
    case 'x':
      return body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer;
    default:
      return undefined;
  }
}

/** Legacy: the single JSON file earlier versions kept (`{ domain: { key: { t, v } } }`). */
type LegacyStored = { t: 'int' | 'bool' | 'str' | 'bytes'; v: number | boolean | string };

const NAME = /^[A-Za-z0-9_.-]+$/;

export class FilePreferenceStore implements PreferenceStore {
  /** Durable writes (fsync of the file and its directory); off only for a simulator of thousands of meters. */
  readonly fsync: boolean;

  constructor(readonly dir: string, options: { fsync?: boolean; legacyFile?: string } = {}) {
    this.fsync = options.fsync ?? true;
    mkdirSync(dir, { recursive: true });
    if (options.legacyFile && existsSync(options.legacyFile)) this.importLegacy(options.legacyFile);
    // A write cut short before its rename leaves only its temporary file: it never was the record.
    for (const domain of readdirSync(dir)) {
      const d = join(dir, domain);
      for (const f of readdirSync(d)) if (f.endsWith('.new')) rmSync(join(d, f), { force: true });
    }
  }

  private path(domain: string, key: string): string {
    if (!NAME.test(domain) || !NAME.test(key) || domain.startsWith('.') || key.startsWith('.')) {
      fail(MeterCodes.STORAGE_LIMIT, `preference ${domain}/${key}: names are letters, digits, "_", "-" and "." here (they are file names)`);
    }
    return join(this.dir, domain, key);
  }

  get(domain: string, key: string): PreferenceValue | undefined {
    checkPreference(domain, key);
    let b: Buffer;
    try {
      b = readFileSync(this.path(domain, key));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      return fail(MeterCodes.STORAGE_FAILED, `could not read ${this.path(domain, key)}: ${(e as Error).message}`);
    }
    // A file that is no record reads as a value nobody can decode: the caller's checks (CRC, parse) see damage.
    return decodeRecordFile(b) ?? b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }

  set(domain: string, key: string, value: PreferenceValue): void {
    checkPreference(domain, key, value);
    this.writeFile(domain, key, encodeRecordFile(value));
  }

  /** Write raw bytes as the record's file (the fault-injecting store's torn writes; tests that damage a record). */
  writeFile(domain: string, key: string, bytes: Uint8Array): void {
    const file = this.path(domain, key);
    const tmp = file + '.new';
    try {
      mkdirSync(join(this.dir, domain), { recursive: true });
      const fd = openSync(tmp, 'w');
      try {
        writeSync(fd, bytes);
        if (this.fsync) fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, file);
      this.syncDir(domain);
    } catch (e) {
      fail(MeterCodes.STORAGE_FAILED, `could not write ${file}: ${(e as Error).message}`);
    }
  }

  delete(domain: string, key: string): void {
    checkPreference(domain, key);
    const file = this.path(domain, key);
    if (!existsSync(file)) return;
    try {
      rmSync(file);
      this.syncDir(domain);
    } catch (e) {
      fail(MeterCodes.STORAGE_FAILED, `could not delete ${file}: ${(e as Error).message}`);
    }
  }

  /** Every record's name, `domain/key`, sorted. */
  keys(): string[] {
    const out: string[] = [];
    for (const domain of readdirSync(this.dir)) for (const f of readdirSync(join(this.dir, domain))) if (!f.endsWith('.new')) out.push(`${domain}/${f}`);
    return out.sort();
  }

  /** The rename is durable only once the directory entry is (fsync of the directory, POSIX). */
  private syncDir(domain: string): void {
    if (!this.fsync) return;
    const fd = openSync(join(this.dir, domain), 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  private importLegacy(file: string): void {
    let data: Record<string, Record<string, LegacyStored>>;
    try {
      data = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, LegacyStored>>;
    } catch {
      return fail(MeterCodes.STORAGE_FAILED, `preference file ${file} (from an earlier version) is not JSON; refusing to start on it (move it away to start a new meter)`);
    }
    for (const [domain, entries] of Object.entries(data)) {
      for (const [key, s] of Object.entries(entries)) {
        const v: PreferenceValue = s.t === 'bytes' ? (() => { const b = Buffer.from(s.v as string, 'base64'); return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer; })() : s.v;
        if (this.get(domain, key) === undefined) this.set(domain, key, v);
      }
    }
    renameSync(file, file + '.imported');
  }
}
