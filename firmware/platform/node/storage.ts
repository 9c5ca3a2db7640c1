/**
 * Preference stores for Node meters. Both enforce the ESP32 limits
 * (firmware/core/storage.ts checkPreference) on every call: the Moddable Linux
 * build keeps preferences in a JSON file that happily takes a float or a 5 kB
 * value, and a meter that works there would then fail on the device.
 *
 * FilePreferenceStore keeps one JSON file per meter and replaces it atomically
 * (write a temporary file, rename), so a killed process leaves the old or the
 * new file, never half of one.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fail } from '../../../protocol/index.ts';
import { checkPreference, MeterCodes, type PreferenceStore, type PreferenceValue } from '../../core/index.ts';

type Stored =
  | { t: 'int'; v: number }
  | { t: 'bool'; v: boolean }
  | { t: 'str'; v: string }
  | { t: 'bytes'; v: string };

function encode(v: PreferenceValue): Stored {
  if (typeof v === 'number') return { t: 'int', v };
  if (typeof v === 'boolean') return { t: 'bool', v };
  if (typeof v === 'string') return { t: 'str', v };
  return { t: 'bytes', v: Buffer.from(v).toString('base64') };
}

function decode(s: Stored): PreferenceValue {
  if (s.t === 'bytes') {
    const b = Buffer.from(s.v, 'base64');
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }
  return s.v;
}

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

export class FilePreferenceStore implements PreferenceStore {
  private data: Record<string, Record<string, Stored>>;

  constructor(readonly file: string) {
    mkdirSync(dirname(file), { recursive: true });
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    let data: Record<string, Record<string, Stored>> = {};
    if (text !== undefined) {
      try {
        data = JSON.parse(text) as Record<string, Record<string, Stored>>;
      } catch {
        fail(MeterCodes.STORAGE_FAILED, `preference file ${file} is not JSON; refusing to start on it (move it away to start a new meter)`);
      }
    }
    this.data = data;
  }

  get(domain: string, key: string): PreferenceValue | undefined {
    checkPreference(domain, key);
    const s = this.data[domain]?.[key];
    return s === undefined ? undefined : decode(s);
  }

  set(domain: string, key: string, value: PreferenceValue): void {
    checkPreference(domain, key, value);
    (this.data[domain] ??= {})[key] = encode(value);
    this.flush();
  }

  delete(domain: string, key: string): void {
    checkPreference(domain, key);
    if (this.data[domain]?.[key] === undefined) return;
    delete this.data[domain][key];
    this.flush();
  }

  private flush(): void {
    const tmp = `${this.file}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify(this.data));
      renameSync(tmp, this.file);
    } catch (e) {
      fail(MeterCodes.STORAGE_FAILED, `could not write ${this.file}: ${(e as Error).message}`);
    }
  }
}
