import test from 'ava';
import { PREFERENCE_LIMITS, SlotStore, checkPreference, crc32, decodeSlot, encodeSlot, toArrayBuffer } from '../../../firmware/core/index.ts';
import { utf8Encode } from '../../../protocol/index.ts';
import { FakeStorage, PowerCut } from '../helpers/fake-platform.ts';

const code = (fn: () => void) => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
};

test('CRC-32 matches the IEEE 802.3 check value', (t) => {
  t.is(crc32(utf8Encode('123456789')), 0xcbf43926);
  t.is(crc32(new Uint8Array(0)), 0);
});

test('the ESP32 Preference limits are enforced: names ≤ 15, values ≤ 4000 bytes, numbers int32 only', (t) => {
  t.is(code(() => checkPreference('helios', 'a'.repeat(15), 1)), 'ok');
  t.is(code(() => checkPreference('helios', 'a'.repeat(16), 1)), 'E_STORAGE_LIMIT');
  t.is(code(() => checkPreference('h'.repeat(16), 'k', 1)), 'E_STORAGE_LIMIT');
  t.is(code(() => checkPreference('helios', '', 1)), 'E_STORAGE_LIMIT');
  t.is(code(() => checkPreference('helios', 'k', 2147483647)), 'ok');
  t.is(code(() => checkPreference('helios', 'k', 2147483648)), 'E_STORAGE_LIMIT');
  t.is(code(() => checkPreference('helios', 'k', -2147483649)), 'E_STORAGE_LIMIT');
  t.is(code(() => checkPreference('helios', 'k', 1.5)), 'E_STORAGE_LIMIT');
  t.is(code(() => checkPreference('helios', 'k', new ArrayBuffer(PREFERENCE_LIMITS.maxValueBytes))), 'ok');
  t.is(code(() => checkPreference('helios', 'k', new ArrayBuffer(PREFERENCE_LIMITS.maxValueBytes + 1))), 'E_STORAGE_LIMIT');
  // nvs_set_str stores the NUL: 3999 characters fit, 4000 do not; multi-byte characters count as bytes.
  t.is(code(() => checkPreference('helios', 'k', 'x'.repeat(3999))), 'ok');
  t.is(code(() => checkPreference('helios', 'k', 'x'.repeat(4000))), 'E_STORAGE_LIMIT');
  t.is(code(() => checkPreference('helios', 'k', '\u20ac'.repeat(1334))), 'E_STORAGE_LIMIT');
  t.is(code(() => checkPreference('helios', 'k', new Uint8Array(4) as unknown as ArrayBuffer)), 'E_STORAGE_LIMIT');
});

test('a slot record refuses truncation, a flipped bit and a foreign value', (t) => {
  const rec = encodeSlot(7, utf8Encode('registers'));
  t.deepEqual(decodeSlot(toArrayBuffer(rec))?.generation, 7);
  for (let i = 0; i < rec.length; i++) {
    const bad = rec.slice();
    bad[i] ^= 0x10;
    t.is(decodeSlot(toArrayBuffer(bad)), undefined, `flipped byte ${i} must be noticed`);
  }
  t.is(decodeSlot(toArrayBuffer(rec.slice(0, rec.length - 1))), undefined);
  t.is(decodeSlot('a string'), undefined);
  t.is(decodeSlot(42), undefined);
});

test('two alternating slots: a power cut at any step of a save leaves the old or the new record, never none', (t) => {
  const text = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : 'none');
  for (let cut = 0; cut <= 2; cut++) {
    for (let saves = 1; saves <= 4; saves++) {
      const flash = new FakeStorage();
      const s = new SlotStore(flash, 'helios', 'state');
      for (let i = 1; i < saves; i++) s.save(utf8Encode(`v${i}`));
      flash.cutAfter(cut);
      // A save is two storage steps (erase, write); a cut after both is a cut after the save.
      if (cut < 2) t.throws(() => s.save(utf8Encode(`v${saves}`)), { instanceOf: PowerCut });
      else s.save(utf8Encode(`v${saves}`));
      const after = new SlotStore(flash.reboot(), 'helios', 'state').load();
      const expected = cut === 2 ? `v${saves}` : saves === 1 ? 'none' : `v${saves - 1}`;
      t.is(text(after), expected, `cut after ${cut} steps of save #${saves}`);
    }
  }
});

test('the newest intact slot wins, and writing continues in the other one', (t) => {
  const flash = new FakeStorage();
  const s = new SlotStore(flash, 'helios', 'wal');
  s.save(utf8Encode('a'));
  s.save(utf8Encode('b'));
  s.save(utf8Encode('c'));
  t.deepEqual(flash.keys(), ['helios/wal0', 'helios/wal1']);
  const again = new SlotStore(flash, 'helios', 'wal');
  t.is(new TextDecoder().decode(again.load()), 'c');
  again.save(utf8Encode('d'));
  t.is(new TextDecoder().decode(new SlotStore(flash, 'helios', 'wal').load()), 'd');
  t.throws(() => again.save(new Uint8Array(4000)), { message: /does not fit/ });
});
