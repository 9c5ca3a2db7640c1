import test from 'ava';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultyStore, FilePreferenceStore, MemoryPreferenceStore, encodeRecordFile } from '../../../../firmware/platform/node/index.ts';
import { SlotStore } from '../../../../firmware/core/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'helios-prefs-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

for (const [name, make] of [
  ['file', () => new FilePreferenceStore(join(dir, `${Math.random()}`))],
  ['memory', () => new MemoryPreferenceStore()],
] as const) {
  test(`${name} store refuses what an ESP32 would: long names, big values, floats and int32 overflow`, (t) => {
    const s = make();
    const code = (fn: () => void) => t.throws(fn)?.['code' as keyof Error];
    t.is(code(() => s.set('helios', 'a-key-of-16-char', 1)), 'E_STORAGE_LIMIT');
    t.is(code(() => s.set('a-domain-16-char', 'k', 1)), 'E_STORAGE_LIMIT');
    t.is(code(() => s.set('helios', 'k', 0.5)), 'E_STORAGE_LIMIT');
    t.is(code(() => s.set('helios', 'k', 2 ** 31)), 'E_STORAGE_LIMIT');
    t.is(code(() => s.set('helios', 'k', new ArrayBuffer(4001))), 'E_STORAGE_LIMIT');
    t.is(code(() => s.set('helios', 'k', 'x'.repeat(4000))), 'E_STORAGE_LIMIT');
    t.is(code(() => s.get('helios', 'a-key-of-16-char')), 'E_STORAGE_LIMIT');
    t.is(s.get('helios', 'k'), undefined, 'nothing was written');
    s.set('helios', 'i', -2147483648);
    s.set('helios', 'b', true);
    s.set('helios', 's', 'text');
    s.set('helios', 'a', new Uint8Array([1, 2, 3]).buffer);
    t.is(s.get('helios', 'i'), -2147483648);
    t.is(s.get('helios', 'b'), true);
    t.is(s.get('helios', 's'), 'text');
    t.deepEqual([...new Uint8Array(s.get('helios', 'a') as ArrayBuffer)], [1, 2, 3]);
    s.delete('helios', 's');
    t.is(s.get('helios', 's'), undefined);
  });
}

test('the file store survives a restart of the process, and two-slot records in it too', (t) => {
  const root = join(dir, 'meter-a', 'preferences');
  const a = new FilePreferenceStore(root);
  const slots = new SlotStore(a, 'helios', 'state');
  slots.save(new Uint8Array([1, 2, 3]));
  slots.save(new Uint8Array([4, 5, 6]));
  const b = new FilePreferenceStore(root);
  t.deepEqual([...new SlotStore(b, 'helios', 'state').load()!], [4, 5, 6]);
  t.deepEqual(b.keys(), ['helios/state0', 'helios/state1'], 'one file per record, no temporary file left');
});

test('each record is its own file, replaced by write-new-then-rename: a write cut before its rename leaves the old value, and another record is never touched', (t) => {
  const root = join(dir, 'meter-b', 'preferences');
  const a = new FilePreferenceStore(root);
  a.set('helios', 'key', new Uint8Array([9, 9, 9]).buffer);
  a.set('helios', 'state0', new Uint8Array([1]).buffer);
  // A process killed after writing the new file but before renaming it: what is on disk then.
  writeFileSync(join(root, 'helios', 'state0.new'), encodeRecordFile(new Uint8Array([2, 2]).buffer).subarray(0, 2));
  const b = new FilePreferenceStore(root);
  t.deepEqual([...new Uint8Array(b.get('helios', 'state0') as ArrayBuffer)], [1], 'the old value');
  t.deepEqual([...new Uint8Array(b.get('helios', 'key') as ArrayBuffer)], [9, 9, 9]);
  t.false(existsSync(join(root, 'helios', 'state0.new')), 'the half-written file is cleared at start');
  t.is(readFileSync(join(root, 'helios', 'key')).length, 4, 'type byte + 3 bytes');
});

test('a preference file of an earlier version (one JSON file) is taken over record by record', (t) => {
  const d = join(dir, 'meter-c');
  mkdirSync(d, { recursive: true });
  const legacy = join(d, 'preferences.json');
  writeFileSync(legacy, JSON.stringify({ helios: { key: { t: 'bytes', v: Buffer.from([7, 8]).toString('base64') }, enrol: { t: 'str', v: '{"x":1}' }, n: { t: 'int', v: -5 } } }));
  const s = new FilePreferenceStore(join(d, 'preferences'), { legacyFile: legacy });
  t.deepEqual([...new Uint8Array(s.get('helios', 'key') as ArrayBuffer)], [7, 8]);
  t.is(s.get('helios', 'enrol'), '{"x":1}');
  t.is(s.get('helios', 'n'), -5);
  t.false(existsSync(legacy));
  t.true(existsSync(legacy + '.imported'));
});

test('a preference file of an earlier version that is not JSON stops the meter with a clear error instead of starting from zero', (t) => {
  const d = join(dir, 'meter-d');
  mkdirSync(d, { recursive: true });
  const legacy = join(d, 'preferences.json');
  writeFileSync(legacy, '{"helios":');
  const e = t.throws(() => new FilePreferenceStore(join(d, 'preferences'), { legacyFile: legacy })) as Error & { code: string };
  t.is(e.code, 'E_STORAGE_FAILED');
  t.regex(e.message, /preferences\.json/);
});

test('the fault-injecting store cuts at the chosen write: before it, erased (as NVS), or torn (half the bytes); then nothing works until the reboot', (t) => {
  for (const kind of ['before', 'erased', 'torn'] as const) {
    const inner = new MemoryPreferenceStore();
    inner.set('helios', 'state0', new Uint8Array([1, 1, 1, 1]).buffer);
    const s = new FaultyStore(inner).cutAt({ atWrite: 2, kind, match: /^state/ });
    s.set('helios', 'key', new Uint8Array([5]).buffer); // not matched: not counted
    s.set('helios', 'state1', new Uint8Array([3]).buffer);
    const e = t.throws(() => s.set('helios', 'state0', new Uint8Array([2, 2, 2, 2]).buffer)) as Error & { code: string };
    t.is(e.code, 'E_POWER_CUT');
    t.deepEqual(s.cut, { domain: 'helios', key: 'state0', kind, writes: 2 });
    t.throws(() => s.get('helios', 'key'), { code: 'E_POWER_CUT' });
    const after = s.reboot().get('helios', 'state0');
    const bytes = after === undefined ? undefined : [...new Uint8Array(after as ArrayBuffer)];
    t.deepEqual(bytes, kind === 'before' ? [1, 1, 1, 1] : kind === 'erased' ? undefined : [2, 2], kind);
  }
});
