/**
 * The meter's storage on the Moddable Linux host (`-p lin`, mcsim): a file per
 * record, `<dir><domain>.<key>`, through the SDK's `file` module — not the SDK's
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
 * Mapped to the module "helios/store" for `-p lin`, so no relative import at run
 * time (it would resolve against that name); main wraps it with the core's
 * checkedStore (ESP32 limits, E_STORAGE_FAILED). The directory is the manifest's
 * `config.storageDir`, else `<config.file.root>helios/` (the manifest sets file.root to "./" for lin: mcsim's working directory, ./helios/).
 */
import { File, Directory } from 'file';
import config from 'mc/config';
import type { PreferenceStore, PreferenceValue } from '../../../core/platform.ts';

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
const Files = File as unknown as FileClass;
const Dirs = Directory as unknown as { create(path: string): void };

const NAME = /^[A-Za-z0-9_-]+$/;
const TAG = { i: 0x69, b: 0x62, s: 0x73, x: 0x78 } as const;

/** UTF-8 of a string (lone surrogates as U+FFFD), without TextEncoder, which XS lacks unless a manifest adds it. */
function utf8(s: string): Uint8Array {
  const out: number[] = [];
  for (const ch of s) {
    let c = ch.codePointAt(0)!;
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return new Uint8Array(out);
}

/** The text in UTF-8 bytes; a malformed sequence becomes U+FFFD (the core's parse then refuses the record). */
function fromUtf8(b: Uint8Array): string {
  let s = '';
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    const n = c < 0x80 ? 0 : c >= 0xf8 ? -1 : c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : -1;
    let cp = n === 0 ? c : c & (0x3f >> n);
    let ok = n >= 0 && i + n < b.length;
    for (let k = 1; ok && k <= n; k++) {
      const d = b[i + k];
      if ((d & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (d & 63);
    }
    if (!ok || cp > 0x10ffff) {
      s += '\ufffd';
      i++;
      continue;
    }
    s += String.fromCodePoint(cp);
    i += n + 1;
  }
  return s;
}

/** A record file: a type byte (i int32, b boolean, s UTF-8 text, x bytes), then the value. */
function encode(v: PreferenceValue): ArrayBuffer {
  let tag: number;
  let body: Uint8Array;
  if (typeof v === 'number') {
    tag = TAG.i;
    body = new Uint8Array(4);
    new DataView(body.buffer).setInt32(0, v);
  } else if (typeof v === 'boolean') {
    tag = TAG.b;
    body = new Uint8Array([v ? 1 : 0]);
  } else if (typeof v === 'string') {
    tag = TAG.s;
    body = utf8(v);
  } else {
    tag = TAG.x;
    body = new Uint8Array(v);
  }
  const out = new Uint8Array(body.length + 1);
  out[0] = tag;
  out.set(body, 1);
  return out.buffer;
}

function decode(raw: ArrayBuffer): PreferenceValue | undefined {
  const b = new Uint8Array(raw);
  if (b.length === 0) return undefined;
  const body = b.slice(1);
  switch (b[0]) {
    case TAG.i:
      return body.length === 4 ? new DataView(body.buffer).getInt32(0) : undefined;
    case TAG.b:
      return body.length === 1 && body[0] <= 1 ? body[0] === 1 : undefined;
    case TAG.s:
      return fromUtf8(body);
    case TAG.x:
      return body.buffer;
    default:
      return undefined;
  }
}

export class FileRecordStore implements PreferenceStore {
  constructor(private readonly dir: string) {
    Dirs.create(dir);
  }

  private name(domain: string, key: string): string {
    if (!NAME.test(domain) || !NAME.test(key)) throw new Error(`names are letters, digits, "_" and "-" here (they are file names)`);
    return `${domain}.${key}`;
  }

  get(domain: string, key: string): PreferenceValue | undefined {
    const path = this.dir + this.name(domain, key);
    if (!Files.exists(path)) return undefined;
    const f = new Files(path, false);
    try {
      const raw = f.length > 0 ? f.read(ArrayBuffer) : new ArrayBuffer(0);
      // A file that is no record reads as bytes nobody can decode: the core's CRC or parse sees the damage.
      return decode(raw) ?? raw;
    } finally {
      f.close();
    }
  }

  set(domain: string, key: string, value: PreferenceValue): void {
    const name = this.name(domain, key);
    const tmp = this.dir + name + '.new';
    if (Files.exists(tmp)) Files.delete(tmp); // File(path, true) opens an existing file without truncating it
    const f = new Files(tmp, true);
    try {
      f.write(encode(value));
    } finally {
      f.close();
    }
    if (!Files.rename(tmp, name)) throw new Error(`rename of ${tmp} failed`);
  }

  delete(domain: string, key: string): void {
    const path = this.dir + this.name(domain, key);
    if (Files.exists(path) && !Files.delete(path)) throw new Error(`could not delete ${path}`);
  }
}

/** The meter's raw store on the Linux host (main wraps it in checkedStore). */
export default function createStore(): PreferenceStore {
  const c = config as { storageDir?: unknown; file?: { root?: unknown } };
  const root = typeof c.file?.root === 'string' ? c.file.root : '/tmp/';
  const dir = typeof c.storageDir === 'string' && c.storageDir !== '' ? (c.storageDir.endsWith('/') ? c.storageDir : c.storageDir + '/') : root + 'helios/';
  return new FileRecordStore(dir);
}
