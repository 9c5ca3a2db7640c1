/**
 * The meter's storage on the Moddable Linux host (`-p lin`, mcsim): a file per
 * record, `<dir>/<domain>.<key>`, through the SDK's `file` module — not the SDK's
 * lin `preference` module, which keeps every record in one JSON file and deletes
 * and rewrites it on each write (issue 17: a cut inside that window left an empty
 * file, and the meter came back with a new key and zero registers).
 *
 * A write goes to `<record>.new` and is renamed over the record (POSIX rename is
 * atomic), so a killed process leaves the old value or the new one. The SDK's File
 * flushes its buffer (fflush) but has no fsync: a host crash, unlike a killed
 * process, can still lose the last write — which the core's two-slot records and
 * CRCs turn into "the previous record", never into a new key. The ESP32 build keeps
 * records in NVS instead (esp32/store.ts).
 *
 * Mapped to the module "helios/store" for `-p lin`; the directory is the manifest's
 * `config.storageDir`, else `<config.file.root>helios/` (/tmp/helios/ on lin).
 */
// @ts-expect-error the SDK's `file` module: map "file" to $MODDABLE/typings/file.d.ts in tsconfig to type it
import { File, Directory } from 'file';
import config from 'mc/config';
import { fail, utf8Decode, utf8Encode } from '../../../../protocol/index.ts';
import { MeterCodes, checkPreference, type PreferenceStore, type PreferenceValue } from '../../../core/index.ts';

/** What this module uses of the SDK's File and Directory (typings/file.d.ts). */
interface FileHandle {
  read(type: typeof ArrayBuffer): ArrayBuffer;
  write(value: ArrayBuffer): void;
  close(): void;
  readonly length: number;
}
interface FileClass {
  new (path: string, write?: boolean): FileHandle;
  delete(path: string): boolean;
  exists(path: string): boolean;
  /** `to` is a name in the same directory (or an absolute path). */
  rename(from: string, to: string): boolean;
}
const Files = File as FileClass;
const Dirs = Directory as { create(path: string): void };

const NAME = /^[A-Za-z0-9_-]+$/;

/** A record file: a type byte (i int32, b boolean, s UTF-8 text, x bytes), then the value. */
function encode(v: PreferenceValue): ArrayBuffer {
  let body: Uint8Array;
  let tag: string;
  if (typeof v === 'number') {
    tag = 'i';
    body = new Uint8Array(4);
    new DataView(body.buffer).setInt32(0, v);
  } else if (typeof v === 'boolean') {
    tag = 'b';
    body = new Uint8Array([v ? 1 : 0]);
  } else if (typeof v === 'string') {
    tag = 's';
    body = utf8Encode(v);
  } else {
    tag = 'x';
    body = new Uint8Array(v);
  }
  const out = new Uint8Array(body.length + 1);
  out[0] = tag.charCodeAt(0);
  out.set(body, 1);
  return out.buffer;
}

function decode(raw: ArrayBuffer): PreferenceValue | undefined {
  const b = new Uint8Array(raw);
  if (b.length === 0) return undefined;
  const body = b.slice(1);
  switch (String.fromCharCode(b[0])) {
    case 'i':
      return body.length === 4 ? new DataView(body.buffer).getInt32(0) : undefined;
    case 'b':
      return body.length === 1 && body[0] <= 1 ? body[0] === 1 : undefined;
    case 's':
      return utf8Decode(body);
    case 'x':
      return body.buffer;
    default:
      return undefined;
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class FileRecordStore implements PreferenceStore {
  constructor(private readonly dir: string) {
    try {
      Dirs.create(dir);
    } catch (e) {
      fail(MeterCodes.STORAGE_FAILED, `cannot use the storage directory ${dir}: ${message(e)}; set storageDir= on the mcconfig command line`);
    }
  }

  private name(domain: string, key: string): string {
    if (!NAME.test(domain) || !NAME.test(key)) fail(MeterCodes.STORAGE_LIMIT, `preference ${domain}/${key}: names are letters, digits, "_" and "-" here (they are file names)`);
    return `${domain}.${key}`;
  }

  get(domain: string, key: string): PreferenceValue | undefined {
    checkPreference(domain, key);
    const path = this.dir + this.name(domain, key);
    if (!Files.exists(path)) return undefined;
    try {
      const f = new Files(path, false);
      try {
        const raw = f.length > 0 ? f.read(ArrayBuffer) : new ArrayBuffer(0);
        // A file that is no record reads as bytes nobody can decode: the core's CRC or parse sees the damage.
        return decode(raw) ?? raw;
      } finally {
        f.close();
      }
    } catch (e) {
      return fail(MeterCodes.STORAGE_FAILED, `could not read ${path}: ${message(e)}`);
    }
  }

  set(domain: string, key: string, value: PreferenceValue): void {
    checkPreference(domain, key, value);
    const name = this.name(domain, key);
    const tmp = this.dir + name + '.new';
    try {
      if (Files.exists(tmp)) Files.delete(tmp); // File(path, true) opens an existing file without truncating it
      const f = new Files(tmp, true);
      try {
        f.write(encode(value));
      } finally {
        f.close();
      }
      if (!Files.rename(tmp, name)) throw new Error('rename failed');
    } catch (e) {
      fail(MeterCodes.STORAGE_FAILED, `could not write ${this.dir + name}: ${message(e)}`);
    }
  }

  delete(domain: string, key: string): void {
    checkPreference(domain, key);
    const path = this.dir + this.name(domain, key);
    if (Files.exists(path) && !Files.delete(path)) fail(MeterCodes.STORAGE_FAILED, `could not delete ${path}`);
  }
}

/** The meter's store on the Linux host. */
export default function createStore(): PreferenceStore {
  const c = config as { storageDir?: unknown; file?: { root?: unknown } };
  const root = typeof c.file?.root === 'string' ? c.file.root : '/tmp/';
  const dir = typeof c.storageDir === 'string' && c.storageDir !== '' ? (c.storageDir.endsWith('/') ? c.storageDir : c.storageDir + '/') : root + 'helios/';
  return new FileRecordStore(dir);
}
