/** Which public key signs for a key id, according to the state. */
import type { StateReader } from './state.ts';
import { keys, type AuthorityEntry, type KeyEntry, type ParticipantEntry } from './entities.ts';

/** Public key of an authority or participant key id; undefined for unknown ids and for meters (they sign no transactions). */
export function publicKeyOf(state: StateReader, keyId: string): string | undefined {
  const k = state.get<KeyEntry>(keys.key(keyId));
  if (!k) return undefined;
  if ('participant' in k) return state.get<ParticipantEntry>(keys.participant(k.participant))?.publicKey;
  if ('authority' in k) return state.get<AuthorityEntry>(keys.authority(keyId))?.publicKey;
  return undefined;
}
