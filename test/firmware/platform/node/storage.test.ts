import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilePreferenceStore, MemoryPreferenceStore } from '../../../../firmware/platform/node/index.ts';
import { SlotStore } from '../../../../firmware/core/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'helios-prefs-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

for (const [name, make] of [
  ['file', () => new FilePreferenceStore(join(dir, `${Math.random()}.json`))],
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
  const file = join(dir, 'meter-a', 'preferences.json');
  const a = new FilePreferenceStore(file);
  const slots = new SlotStore(a, 'helios', 'state');
  slots.save(new Uint8Array([1, 2, 3]));
  slots.save(new Uint8Array([4, 5, 6]));
  const b = new FilePreferenceStore(file);
  t.deepEqual([...new SlotStore(b, 'helios', 'state').load()!], [4, 5, 6]);
  t.notRegex(readFileSync(file, 'utf8'), /\.tmp/);
});

test('a preference file that is not JSON stops the meter with a clear error instead of starting from zero', (t) => {
  const file = join(dir, 'broken.json');
  writeFileSync(file, '{"helios":');
  const e = t.throws(() => new FilePreferenceStore(file)) as Error & { code: string };
  t.is(e.code, 'E_STORAGE_FAILED');
  t.regex(e.message, /broken\.json/);
});
