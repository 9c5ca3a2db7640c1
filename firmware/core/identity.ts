/**
 * The meter's own key. Made on the device at first boot from the platform's
 * hardware entropy (ESP32: its RF-noise RNG), stored in the Preference store with
 * a CRC, and never sent anywhere: only the public key and the meter id (its key
 * id, docs/protocol.md §1) leave the meter — printed on the console for the
 * installer, and published in a signed Hello while the meter is not enrolled.
 */
import { generateKeyPair, keyPairFromSecret, type EntropySource, type KeyPair } from '../../protocol/index.ts';
import { crc32, toArrayBuffer } from './storage.ts';
import type { PreferenceStore } from './platform.ts';

export const DOMAIN = 'helios';
export const KEY_PREF = 'key';

function encodeSecret(secret: Uint8Array): ArrayBuffer {
  const out = new Uint8Array(36);
  out.set(secret);
  new DataView(out.buffer).setUint32(32, crc32(secret));
  return toArrayBuffer(out);
}

function decodeSecret(raw: unknown): Uint8Array | undefined {
  if (!(raw instanceof ArrayBuffer) || raw.byteLength !== 36) return undefined;
  const b = new Uint8Array(raw);
  const secret = b.slice(0, 32);
  if (new DataView(raw).getUint32(32) !== crc32(secret)) return undefined;
  return secret;
}

export interface Identity {
  key: KeyPair;
  /** True when the key was made during this boot. */
  created: boolean;
  /**
   * True when the key was made during this boot although the flash shows the meter
   * had run before (its key entry corrupt, or missing beside other records): the old
   * identity is gone for good and the meter must be enrolled again.
   */
  lost: boolean;
}

/**
 * The stored key, or a new one made from `entropy` and stored before it is used
 * (a key that was used but not stored would give the meter a different id after
 * a reboot). `ranBefore` says whether the flash holds anything else of a meter
 * (state, enrolment, wallet, outbox): asked only when there is no valid key, to tell
 * a first boot from a lost key. Throws if the store refuses the write.
 */
export function loadOrCreateIdentity(store: PreferenceStore, entropy: EntropySource, ranBefore: () => boolean = () => false): Identity {
  const raw = store.get(DOMAIN, KEY_PREF);
  const stored = decodeSecret(raw);
  if (stored) {
    try {
      return { key: keyPairFromSecret(stored), created: false, lost: false };
    } catch {
      // An out-of-range scalar cannot come from generateKeyPair: the entry is corrupt.
    }
  }
  const lost = raw !== undefined || ranBefore();
  const key = generateKeyPair(entropy);
  store.set(DOMAIN, KEY_PREF, encodeSecret(key.secretKey));
  return { key, created: true, lost };
}
